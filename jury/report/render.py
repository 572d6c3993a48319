"""From a snapshot to the PDF: the HTML of the report (a Django template, everything escaped), then WeasyPrint
in its PDF/UA-1 variant (tagged, language and title set), with our static-only URL fetcher.

The rendering reads nothing but its arguments: the document's dates come from the snapshot and the PDF's
identifier from the snapshot's hash, so the same snapshot always gives the same bytes.
"""

from django.template.loader import render_to_string
from django.utils import translation

from jury.report.charts import all_charts
from jury.report.fetcher import BASE_URL, StaticOnlyFetcher

PDF_OPTIONS = {"pdf_variant": "pdf/ua-1"}
# Directional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) typed into a proposal could
# reorder the text around them; they are dropped (the plain marks U+200E/U+200F, harmless, stay).
BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
REPORT_TEMPLATE = "jury/report/report.html"
SHEET_TEMPLATE = "jury/report/sheet.html"


def report_context(snapshot, *, sha256, audit_head, version, is_draft, charts=None):
    """What the report's template reads: the snapshot, its integrity marks and the charts."""
    charts = charts if charts is not None else all_charts(snapshot)
    return {
        "s": snapshot, "call": snapshot["call"], "sha256": sha256, "audit_head": audit_head, "version": version,
        "is_draft": is_draft, "charts": {chart.key: chart for chart in charts},
        "common_rubric": _common_rubric(snapshot["criteria"]),
        "totals": {key: sum(t[key] for t in snapshot["tracks"]) for key in ("budget", "granted", "laureates",
                                                                             "remaining", "max_laureates")},
    }


def _common_rubric(criteria):
    """The rubric when every criterion has the same one (printed once), else None."""
    rubrics = {tuple(c["rubric"]) for c in criteria}
    return list(rubrics.pop()) if len(rubrics) == 1 and criteria and criteria[0]["rubric"] else None


def neutralise_bidi(html):
    return html.translate(BIDI_CONTROLS)


def report_html(context):
    with translation.override("fr"):
        return neutralise_bidi(render_to_string(REPORT_TEMPLATE, context))


def html_to_pdf(html, *, identifier, on_stage=None, fetcher=None):
    """(PDF bytes, number of pages) of `html`; `on_stage("layout")` then `on_stage("writing")` when given.

    `identifier` (bytes) becomes the PDF's /ID, so that two renders of the same HTML are byte-identical.
    """
    from weasyprint import HTML

    notify = on_stage or (lambda stage: None)
    notify("layout")
    fetcher = fetcher or StaticOnlyFetcher()
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).render(**PDF_OPTIONS)
    notify("writing")
    return document.write_pdf(pdf_identifier=identifier, **PDF_OPTIONS), len(document.pages)


def render_report(snapshot, *, sha256, audit_head, version, is_draft, on_stage=None):
    """The report's PDF bytes and page count. Pure apart from `on_stage` (stages: charts, layout, writing)."""
    notify = on_stage or (lambda stage: None)
    notify("charts")
    with translation.override("fr"):
        charts = all_charts(snapshot)
    html = report_html(report_context(snapshot, sha256=sha256, audit_head=audit_head, version=version,
                                      is_draft=is_draft, charts=charts))
    return html_to_pdf(html, identifier=sha256[:32].encode(), on_stage=notify)
