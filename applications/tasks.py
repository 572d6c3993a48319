"""Thin Celery tasks of the applicant journey."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="applications.render_receipt", ignore_result=True)
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


@shared_task(name="applications.render_missing_receipts", ignore_result=True)
def render_missing_receipts():
    """Renders the receipts left unrendered (broker down at submission time); scheduled every 10 minutes by beat."""
    from applications.services import submission as services

    return services.render_missing_receipts()


@shared_task(name="applications.scan_attachment", bind=True, ignore_result=True, max_retries=10)
def scan_attachment(self, *, attachment_id):
    """Scans one pending attachment with clamd; while clamd gives no verdict the file stays pending (invisible to
    the jury) and the scan is retried with a growing delay, at most one hour apart."""
    from applications import antivirus
    from applications.models import Attachment

    attachment = Attachment.objects.select_related("proposal__call").filter(pk=attachment_id).first()
    if attachment is None:
        logger.info("scan_attachment: attachment %s is gone", attachment_id)
        return None
    try:
        return antivirus.scan_attachment(attachment=attachment)
    except antivirus.ScanError as error:
        logger.warning("scan_attachment: attachment %s stays pending: %s", attachment_id, error)
        if self.request.is_eager:  # in-process: nothing to retry on; the file stays pending
            return None
        raise self.retry(exc=error, countdown=min(60 * 2 ** self.request.retries, 3600))
