"""Thin Celery task of the staff exports (imported by jury/tasks.py so that workers register it)."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="jury.build_export", acks_late=True)
def build_export(*, job_id):
    from jury.models import ExportJob
    from jury.services.exports import build

    job = ExportJob.objects.select_related("call", "requested_by").filter(pk=job_id).first()
    if job is None:
        logger.info("export %s is gone", job_id)
        return None
    return build(job=job).status
