// The proposal form's steps (no inline script: CSP).
// - A click on a step of the list saves the current step first: the form is submitted with
//   go=<step number>, and the server redirects there once saved (nothing typed is lost).
// - Under each eligibility question, the warning shows as soon as the answer makes the project
//   ineligible (the server renders the same state after a save).
// - A link to a field of another step (such as .../modifier/#id_problem) goes to that step.
(function () {
  "use strict";
  var form = document.getElementById("proposal-form");
  var menu = document.getElementById("steps-menu");

  function followAnchor() {
    var id = window.location.hash.slice(1);
    if (!id || document.getElementById(id) || !menu) { return; }
    var links = menu.querySelectorAll("a[data-anchors]");
    for (var i = 0; i < links.length; i++) {
      if ((" " + links[i].dataset.anchors + " ").indexOf(" " + id + " ") !== -1) {
        window.location.replace(links[i].href.split("#")[0] + "#" + id);
        return;
      }
    }
  }

  function saveThenGo(event) {
    var link = event.currentTarget;
    if (!form || !form.requestSubmit || link.getAttribute("aria-current")) { return; }
    event.preventDefault();
    var go = form.querySelector("input[name=go][type=hidden]");
    if (!go) {
      go = document.createElement("input");
      go.type = "hidden";
      go.name = "go";
      form.appendChild(go);
    }
    go.value = link.dataset.step;
    form.requestSubmit();
  }

  function watchEligibility(box) {
    var warning = box.querySelector(".ami-ineligible-warning");
    var radios = document.querySelectorAll("input[type=radio][name='" + box.dataset.ineligibleFor + "']");
    function refresh() {
      var checked = Array.prototype.filter.call(radios, function (radio) { return radio.checked; })[0];
      warning.hidden = !(checked && checked.value === box.dataset.ineligibleValue);
    }
    Array.prototype.forEach.call(radios, function (radio) { radio.addEventListener("change", refresh); });
  }

  followAnchor();
  if (menu) {
    Array.prototype.forEach.call(menu.querySelectorAll("a[data-step]"), function (link) {
      link.addEventListener("click", saveThenGo);
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-ineligible-for]"), watchEligibility);
})();
