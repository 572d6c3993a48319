// Character counters on long fields: "1 234 / 6 000", red past the limit.
(function () {
  "use strict";
  function refresh(counter, field) {
    var max = parseInt(counter.dataset.max, 10);
    var used = field.value.length;
    var lang = document.documentElement.lang || "fr";
    counter.textContent = used.toLocaleString(lang) + " / " + max.toLocaleString(lang) +
      (lang.indexOf("en") === 0 ? " characters" : " caractères");
    counter.classList.toggle("ami-counter--over", used > max);
  }
  document.querySelectorAll("[data-counter-for]").forEach(function (counter) {
    var field = document.getElementById(counter.dataset.counterFor);
    if (!field) { return; }
    refresh(counter, field);
    field.addEventListener("input", function () { refresh(counter, field); });
  });
})();
