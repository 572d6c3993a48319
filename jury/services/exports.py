"""Staff exports: asked from a page or a command, built by a Celery task into a stored file."""

import logging
import tempfile

from django.core.files import File
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ami import audit
from jury import exports
from jury.models import ExportJob, ExportStatus

logger = logging.getLogger(__name__)


@transaction.atomic
def request_export(*, call, dataset, fmt, by):
    """Creates an ExportJob and queues its build after commit.

    Side effects: one ExportJob row (PENDING), one audit entry, one `jury.build_export` task.
    """
    job = ExportJob.objects.create(call=call, dataset=dataset, format=fmt, requested_by=by)
    audit.record(action="export.requested", actor=by, call=call, target=job, after={"dataset": dataset, "format": fmt})
    transaction.on_commit(lambda: _queue_build(job.pk))
    return job


def _queue_build(job_id):
    """Queues the build; with the broker down the job stays PENDING (logged) and staff ask again later."""
    from jury.tasks_exports import build_export

    try:
        build_export.delay(job_id=job_id)
    except Exception as error:  # noqa: BLE001 - the request that asked must not fail with the broker
        logger.warning("export %s not queued now (%s): it stays pending", job_id, error)


def build(*, job):
    """Writes the export of `job` to a temporary file, then stores it; returns the job.

    Side effects: the job moves PENDING → RUNNING → DONE (or FAILED with the error), its progress
    is updated every 500 rows, and the file is saved under MEDIA_ROOT/exports/. A job already DONE
    is returned untouched (a redelivered task does not write a second file).
    """
    started = ExportJob.objects.filter(pk=job.pk, status__in=[ExportStatus.PENDING, ExportStatus.RUNNING]).update(
        status=ExportStatus.RUNNING, rows_done=0
    )
    if not started:
        job.refresh_from_db()
        return job
    columns, rows, total = exports.dataset(job.call, job.dataset, user=job.requested_by)
    ExportJob.objects.filter(pk=job.pk).update(rows_total=total)

    def progress(done):
        ExportJob.objects.filter(pk=job.pk).update(rows_done=done)

    name = exports.filename(job.call, job.dataset, job.format, timezone.localdate())
    try:
        with tempfile.TemporaryFile() as handle:
            exports.write(job.format, columns, rows, handle, progress=progress, title=job.call.slug)
            handle.seek(0)
            job.file.save(name, File(handle), save=False)
    except Exception as error:
        ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.FAILED, error=str(error)[:2000])
        raise
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.DONE, file=job.file.name, rows_done=F("rows_total"), finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job
