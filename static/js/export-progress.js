// Follows the exports being built: polls each unfinished row's status URL and shows the link when ready.
(function () {
  "use strict";
  var script = document.currentScript;
  var downloadLabel = script ? script.getAttribute("data-download-label") : "Télécharger";

  function poll(row) {
    fetch(row.getAttribute("data-export-status"), { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (state) {
        var bar = row.querySelector("progress");
        var label = row.querySelector("[data-export-label]");
        bar.value = state.percent;
        bar.textContent = state.percent + " %";
        label.textContent = state.label + (state.rows_total ? " (" + state.rows_done + " / " + state.rows_total + ")" : "");
        if (state.download) {
          var link = document.createElement("a");
          link.className = "fr-link fr-icon-download-line fr-link--icon-left";
          link.href = state.download;
          link.textContent = downloadLabel;
          row.querySelector("[data-export-link]").replaceChildren(link);
        } else if (state.status !== "failed") {
          window.setTimeout(function () { poll(row); }, 1000);
        }
      })
      .catch(function () { window.setTimeout(function () { poll(row); }, 5000); });
  }

  document.querySelectorAll("[data-export-status]").forEach(function (row) {
    if (row.getAttribute("data-export-done") !== "1") { poll(row); }
  });
})();
