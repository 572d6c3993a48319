// Refreshes the announcement's progress bar while messages are still waiting to leave.
(function () {
  "use strict";
  var box = document.getElementById("outbox-progress");
  if (!box) { return; }
  function refresh() {
    fetch(box.getAttribute("data-status-url"), { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (state) {
        var bar = box.querySelector("progress");
        bar.value = state.percent;
        bar.textContent = state.percent + " %";
        ["sent", "queued", "failed", "total"].forEach(function (name) {
          box.querySelector("[data-count='" + name + "']").textContent = state[name];
        });
        if (state.queued > 0) { window.setTimeout(refresh, 1500); }
      })
      .catch(function () { window.setTimeout(refresh, 5000); });
  }
  if (box.querySelector("[data-count='queued']").textContent.trim() !== "0") { window.setTimeout(refresh, 1500); }
})();
