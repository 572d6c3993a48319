// The live total of the criteria weights ("Total : 85 / 100"), updated as the staff types.
(function () {
  "use strict";
  var output = document.getElementById("weights-total");
  var box = document.getElementById("weights-total-box");
  var form = document.getElementById("rows-form");
  if (!output || !box || !form) { return; }

  function fill(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (match, key) { return String(values[key]); });
  }

  function total() {
    var sum = 0;
    form.querySelectorAll("input[data-weight]").forEach(function (input) {
      var row = input.closest(".ami-row");
      var deleted = row && row.querySelector("input[type=checkbox][name$='-DELETE']");
      if (deleted && deleted.checked) { return; }
      var value = parseInt(input.value, 10);
      if (!isNaN(value)) { sum += value; }
    });
    return sum;
  }

  function refresh() {
    var sum = total();
    var detail = sum === 100 ? output.dataset.ok
      : sum < 100 ? fill(output.dataset.missing, { count: 100 - sum })
      : fill(output.dataset.over, { count: sum - 100 });
    var strong = document.createElement("strong");
    strong.textContent = fill(output.dataset.template, { total: sum });
    output.replaceChildren(strong, document.createTextNode(" — " + detail));
    box.classList.toggle("ami-weights-total--ok", sum === 100);
    box.classList.toggle("ami-weights-total--ko", sum !== 100);
  }

  form.addEventListener("input", refresh);
  form.addEventListener("change", refresh);
  form.addEventListener("formset:added", refresh);
  refresh();
})();
