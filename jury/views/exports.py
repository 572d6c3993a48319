"""Staff exports of a call: ask for one, follow its progress, download it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ami.access import staff_call as _staff_call
from jury.models import ExportDataset, ExportFormat, ExportJob, ExportStatus
from jury.services.exports import request_export


def _own_job(request, pk):
    """A job is read by the one who asked for it: it was filtered by their conflicts of interest."""
    if not request.user.is_staff:
        raise Http404
    return get_object_or_404(ExportJob.objects.filter(requested_by=request.user).select_related("call"), pk=pk)


@login_required
def exports_page(request, slug):
    call = _staff_call(request, slug)
    jobs = ExportJob.objects.filter(call=call, requested_by=request.user)[:20]
    return render(request, "jury/exports/exports.html", {
        "call": call,
        "jobs": jobs,
        "datasets": ExportDataset.choices,
        "formats": ExportFormat.choices,
        "breadcrumb_data": {
            "links": [{"url": reverse("call_detail", args=[call.slug]), "title": call.title}],
            "current": _("Exports"),
        },
    })


@login_required
@require_POST
def ask_export(request, slug):
    call = _staff_call(request, slug)
    dataset, fmt = request.POST.get("dataset"), request.POST.get("format")
    if dataset not in ExportDataset.values or fmt not in ExportFormat.values:
        messages.error(request, _("Choisissez un contenu et un format d'export proposés dans la liste."))
        return redirect("exports:page", slug=call.slug)
    if dataset == ExportDataset.LAUREATES and not call.jury_decisions_exist():
        messages.error(request, _("Aucune décision n'est encore enregistrée pour cet appel : la liste des lauréats "
                                  "est vide."))
        return redirect("exports:page", slug=call.slug)
    request_export(call=call, dataset=dataset, fmt=fmt, by=request.user)
    messages.success(request, _("L'export est en préparation ; il apparaît ci-dessous dès qu'il est prêt."))
    return redirect("exports:page", slug=call.slug)


@login_required
def export_status(request, pk):
    job = _own_job(request, pk)
    return JsonResponse({
        "status": job.status,
        "label": job.get_status_display(),
        "percent": job.percent,
        "rows_done": job.rows_done,
        "rows_total": job.rows_total,
        "download": reverse("exports:download", args=[job.pk]) if job.status == ExportStatus.DONE else None,
    })


@login_required
def download_export(request, pk):
    job = _own_job(request, pk)
    if job.status != ExportStatus.DONE or not job.file:
        raise Http404
    name = job.file.name.rsplit("/", 1)[-1]
    response = FileResponse(job.file.open("rb"), as_attachment=True, filename=name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def records_pack(request, slug):
    """The records-request pack of the call, built at once (a few small files)."""
    from jury.records import build_pack

    call = _staff_call(request, slug)
    name, content = build_pack(call)
    from ami import audit

    audit.record(action="records.downloaded", actor=request.user, call=call, target=call, after={"file": name})
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
