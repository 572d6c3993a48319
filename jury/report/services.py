"""Asking for a selection report and building it in the worker.

A report is one version of a call's state: asking twice for the same state (same snapshot hash) gives the
same report — the one pending, running or done — so two clicks at once make one task and one file. A new
version appears only when the state changed. The worker writes the PDF to a temporary file, then stores
it; only a DONE report is ever offered for download.
"""

import hashlib
import logging
import tempfile

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from ami import audit
from ami.models import Call
from jury.models import ReportStatus, SelectionReport
from jury.report.render import render_report
from jury.report.snapshot import audit_head, snapshot_sha256, take_snapshot
from jury.services.deliberation import get_deliberation

logger = logging.getLogger(__name__)

STAGES = ("snapshot", "charts", "layout", "writing")
STAGE_PERCENT = {"snapshot": 10, "charts": 30, "layout": 55, "writing": 85}
LIVE = (ReportStatus.PENDING, ReportStatus.RUNNING, ReportStatus.DONE)


class ReportRefused(ValidationError):
    """No report was asked for; the message says why. Nothing changed."""


def percent(report):
    if report.status == ReportStatus.DONE:
        return 100
    return STAGE_PERCENT.get(report.stage, 0) if report.status == ReportStatus.RUNNING else 5


def filename(report):
    kind = "version-de-travail" if report.is_draft else "rapport"
    return f"selection-{report.call.slug}-{kind}-v{report.version}.pdf"


@transaction.atomic
def request_report(*, call, by, draft=False):
    """Freezes the call's state and asks for its report; returns (report, created).

    Side effects: locks the call row (two requests at once are serialised); takes the snapshot (reads); when no
    pending, running or done report has this snapshot's hash, creates one SelectionReport (next version, PENDING,
    stage "snapshot", the snapshot, its SHA-256, the audit-chain head and who asked) and one audit entry
    `report.requested`, and queues the `jury.build_selection_report` task after commit. An existing report
    of the same snapshot is returned as it is (nothing written, nothing queued).
    Raises ReportRefused when the decisions are not locked and `draft` was not asked for explicitly.
    """
    call = Call.objects.select_for_update(no_key=True).get(pk=call.pk)
    if not get_deliberation(call).is_locked and not draft:
        raise ReportRefused(_("Les décisions de cet appel ne sont pas encore arrêtées : le rapport de sélection "
                              "n'est pas disponible. Vous pouvez demander explicitement une version de travail, "
                              "marquée comme telle sur chaque page."), code="not_locked")
    snapshot = take_snapshot(call)
    sha256 = snapshot_sha256(snapshot)
    existing = SelectionReport.objects.filter(call=call, sha256=sha256, status__in=LIVE).order_by("-version").first()
    if existing is not None:
        return existing, False
    head = audit_head()
    version = (SelectionReport.objects.filter(call=call).aggregate(last=Max("version"))["last"] or 0) + 1
    report = SelectionReport.objects.create(
        call=call, version=version, is_draft=snapshot["draft"], snapshot=snapshot, sha256=sha256, audit_head=head,
        status=ReportStatus.PENDING, stage="snapshot", requested_by=by if by and by.is_authenticated else None)
    audit.record(action="report.requested", actor=by, call=call, target=report,
                 after={"version": version, "sha256": sha256, "audit_head": head, "draft": report.is_draft})
    from jury.tasks import build_selection_report

    transaction.on_commit(lambda: build_selection_report.delay(report_id=report.pk))
    return report, True


def _set_stage(report_id):
    def notify(stage):
        SelectionReport.objects.filter(pk=report_id, status=ReportStatus.RUNNING).update(stage=stage)
    return notify


def build_report(*, report):
    """Renders the report's PDF from its stored snapshot and stores it; returns the report.

    Side effects: moves the report PENDING → RUNNING (stages charts, layout, writing) → DONE with the file,
    its SHA-256 and page count, or FAILED with the error; writes one file under MEDIA_ROOT/reports/. A DONE
    report is returned untouched (a redelivered task reuses the stored file). The PDF goes to a temporary
    file first; the row points to the stored file only once it is complete, through a conditional update
    (a second run that loses the race deletes its own copy).
    """
    started = SelectionReport.objects.filter(pk=report.pk, status__in=[ReportStatus.PENDING, ReportStatus.RUNNING])
    if not started.update(status=ReportStatus.RUNNING, stage="charts", error=""):
        report.refresh_from_db()
        return report
    try:
        pdf, pages = render_report(report.snapshot, sha256=report.sha256, audit_head=report.audit_head,
                                   version=report.version, is_draft=report.is_draft, on_stage=_set_stage(report.pk))
        name = _store(report, pdf)
    except Exception as error:
        SelectionReport.objects.filter(pk=report.pk).update(status=ReportStatus.FAILED, error=str(error)[:2000])
        raise
    finished = SelectionReport.objects.filter(pk=report.pk, status=ReportStatus.RUNNING).update(
        status=ReportStatus.DONE, stage="", file=name, pdf_sha256=hashlib.sha256(pdf).hexdigest(), pages=pages,
        finished_at=timezone.now())
    if not finished:
        report.file.storage.delete(name)
    report.refresh_from_db()
    return report


def _store(report, pdf):
    with tempfile.TemporaryFile() as handle:
        handle.write(pdf)
        handle.seek(0)
        field = report.file
        return field.storage.save(field.field.generate_filename(report, filename(report)), File(handle))
