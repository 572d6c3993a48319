"""The selection report of a call: a frozen snapshot of the call's state, rendered to an accessible PDF.

* `snapshot`: the call's state (proposals, reviews, adjusted scores, decisions, jury, criteria, minutes)
  as plain JSON with its SHA-256 — the only input of the rendering;
* `charts`: SVG charts (pygal) drawn from a snapshot;
* `fetcher`: the URL fetcher WeasyPrint uses, which serves the project's static files and nothing else;
* `render`: HTML from a snapshot, then PDF/UA with WeasyPrint, byte-identical for the same snapshot;
* `services`: asking for a report (one version per distinct snapshot) and building it in the worker;
* `sheet`: the evaluation sheet an applicant downloads after the announcement.
"""
