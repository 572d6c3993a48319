// "Add a row" on the staff's set-up formsets: clones the empty row of <template id="empty-row">.
(function () {
  "use strict";
  var form = document.querySelector("form[data-formset]");
  var button = document.getElementById("add-row");
  var template = document.getElementById("empty-row");
  if (!form || !button || !template) { return; }
  var prefix = form.dataset.formset;
  var total = form.querySelector("input[name='" + prefix + "-TOTAL_FORMS']");
  var rows = document.getElementById("rows");
  button.hidden = false;
  button.addEventListener("click", function () {
    var index = parseInt(total.value, 10);
    var html = template.innerHTML.replace(/__prefix__/g, String(index)).replace(/__number__/g, String(index + 1));
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var row = holder.firstElementChild;
    rows.appendChild(row);
    total.value = String(index + 1);
    var first = row.querySelector("input:not([type=hidden]), textarea, select");
    if (first) { first.focus(); }
    rows.dispatchEvent(new CustomEvent("formset:added", { bubbles: true }));
  });
})();
