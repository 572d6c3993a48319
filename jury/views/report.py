"""Staff pages of the selection report (generate, follow, download every version) and the call's statistics;
the applicant's evaluation sheet."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from ami.access import staff_call as _staff_call
from applications.models import Proposal
from jury.models import ReportStatus, SelectionReport
from jury.report import sheet as sheets
from jury.report.charts import all_charts
from jury.report.services import STAGES, ReportRefused, filename, percent, request_report
from jury.report.snapshot import take_snapshot
from jury.services.deliberation import get_deliberation

STAGE_LABELS = {
    "snapshot": gettext_lazy("Instantané figé"),
    "charts": gettext_lazy("Graphiques"),
    "layout": gettext_lazy("Mise en page"),
    "writing": gettext_lazy("Écriture du PDF"),
}


def stage_label(report):
    if report.status in (ReportStatus.DONE, ReportStatus.FAILED):
        return report.get_status_display()
    if report.status == ReportStatus.PENDING:
        return _("En attente du traitement (instantané figé)")
    return _("En cours : %(stage)s") % {"stage": STAGE_LABELS.get(report.stage, report.stage)}


def _staff_report(request, pk):
    if not request.user.is_staff:
        raise Http404
    return get_object_or_404(SelectionReport.objects.select_related("call", "requested_by"), pk=pk)


def _crumbs(call, current):
    return {"links": [{"url": reverse("staff:call", args=[call.slug]), "title": call.title}], "current": current}


@login_required
def report_page(request, slug):
    call = _staff_call(request, slug)
    reports = list(SelectionReport.objects.filter(call=call).select_related("requested_by").defer("snapshot"))
    for report in reports:
        report.percent, report.stage_text = percent(report), stage_label(report)
    return render(request, "jury/report/page.html", {
        "call": call, "reports": reports, "locked": get_deliberation(call).is_locked,
        "breadcrumb_data": _crumbs(call, _("Rapport de sélection")),
        "stages": [(stage, STAGE_LABELS[stage]) for stage in STAGES],
    })


@login_required
@require_POST
def generate(request, slug):
    call = _staff_call(request, slug)
    try:
        report, created = request_report(call=call, by=request.user, draft=request.POST.get("draft") == "1")
    except ReportRefused as refusal:
        messages.error(request, refusal.messages[0])
        return redirect("report:page", slug=call.slug)
    if created:
        messages.success(request, _("L'instantané est figé (version %(version)s) : le rapport est en préparation.")
                         % {"version": report.version})
    else:
        messages.info(request, _("L'état de l'appel n'a pas changé depuis la version %(version)s : c'est ce "
                                 "rapport qui est proposé.") % {"version": report.version})
    return redirect(f"{reverse('report:page', args=[call.slug])}#rapport-{report.version}")


@login_required
def status(request, pk):
    report = _staff_report(request, pk)
    done = report.status == ReportStatus.DONE
    return JsonResponse({
        "status": report.status, "stage": report.stage, "label": stage_label(report), "percent": percent(report),
        "pages": report.pages, "pdf_sha256": report.pdf_sha256,
        "download": reverse("report:download", args=[report.pk]) if done else None,
    })


@login_required
def download(request, pk):
    report = _staff_report(request, pk)
    if report.status != ReportStatus.DONE or not report.file:
        raise Http404
    response = FileResponse(report.file.open("rb"), as_attachment=True, filename=filename(report),
                            content_type="application/pdf")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def statistics(request, slug):
    call = _staff_call(request, slug)
    snapshot = take_snapshot(call)
    return render(request, "jury/report/statistics.html", {
        "call": call, "s": snapshot, "charts": all_charts(snapshot),
        "breadcrumb_data": _crumbs(call, _("Statistiques")),
    })


@login_required
def evaluation_sheet(request, pk):
    """The applicant's evaluation sheet (PDF), once the results are announced."""
    proposal = get_object_or_404(Proposal.objects.visible_to(request.user).select_related("call", "administration"),
                                 pk=pk)
    refusal = sheets.refusal(proposal)
    if refusal:
        messages.error(request, refusal)
        return redirect("applications:my_proposals")
    pdf = sheets.sheet_pdf(proposal)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{sheets.filename(proposal)}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
