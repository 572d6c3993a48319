// Follows the selection reports being built: polls each unfinished version's status and shows the download when done.
(function () {
  "use strict";
  var script = document.currentScript;
  var downloadLabel = script ? script.getAttribute("data-download-label") : "Télécharger";
  var pdfLabel = script ? script.getAttribute("data-pdf-label") : "PDF :";

  function showDone(row, state) {
    var link = document.createElement("a");
    link.className = "fr-link fr-icon-download-line fr-link--icon-left";
    link.href = state.download;
    link.textContent = downloadLabel;
    row.querySelector("[data-report-link]").replaceChildren(link);
    var code = document.createElement("code");
    code.textContent = state.pdf_sha256;
    row.querySelector("[data-report-pdf]").replaceChildren(document.createTextNode(pdfLabel + " "), code);
  }

  function poll(row) {
    fetch(row.getAttribute("data-report-status"), { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (state) {
        var bar = row.querySelector("progress");
        bar.value = state.percent;
        bar.textContent = state.percent + " %";
        row.querySelector("[data-report-label]").textContent = state.label;
        if (state.download) {
          showDone(row, state);
        } else if (state.status !== "failed") {
          window.setTimeout(function () { poll(row); }, 800);
        }
      })
      .catch(function () { window.setTimeout(function () { poll(row); }, 4000); });
  }

  document.querySelectorAll("[data-report-status]").forEach(function (row) {
    if (row.getAttribute("data-report-done") !== "1") { poll(row); }
  });
})();
