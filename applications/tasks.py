"""Thin Celery tasks of the applicant journey."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="applications.render_receipt")
def render_receipt(*, submission_id):
    """Renders the receipt PDF of one submission (once), then queues the receipt emails (once each)."""
    from applications.models import Submission
    from applications.services import submission as services

    submission = (Submission.objects.select_related("proposal__call", "proposal__administration")
                  .filter(pk=submission_id).first())
    if submission is None:
        logger.info("render_receipt: submission %s is gone", submission_id)
        return None
    name = services.render_receipt_pdf(submission=submission)
    services.queue_receipt_emails(submission=submission)
    return name
