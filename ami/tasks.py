"""Thin Celery tasks of the project package."""

import os
import socket

from celery import shared_task
from django.conf import settings


@shared_task(name="ami.ping")
def ping():
    """Proves a worker is alive and reaches the database: answers with who ran it and what it saw."""
    from ami.models import Call

    return {"pid": os.getpid(), "host": socket.gethostname(), "calls": Call.objects.count()}


@shared_task(name="ami.send_email", bind=True, max_retries=5)
def send_email(self, *, email_id):
    """Sends one outbox row (a row sent already is left alone); transient failures retry with backoff.

    The countdown stays far below the broker's visibility timeout (3,600 s), so Redis never hands the
    same task to a second worker while the first is waiting to retry.
    """
    from ami.mail import TransientFailure, send_queued

    try:
        return send_queued(email_id)
    except TransientFailure as error:
        base = settings.OUTBOX_RETRY_BASE_SECONDS
        raise self.retry(exc=error, countdown=min(base * 2**self.request.retries, 600)) from error


@shared_task(name="ami.send_email_batch", bind=True, max_retries=5)
def send_email_batch(self, *, email_ids):
    """Sends outbox rows over one connection; a transient failure retries the batch (sent rows are skipped)."""
    from ami.mail import TransientFailure, send_batch

    try:
        return send_batch(email_ids)
    except TransientFailure as error:
        base = settings.OUTBOX_RETRY_BASE_SECONDS
        raise self.retry(exc=error, countdown=min(base * 2**self.request.retries, 600)) from error


@shared_task(name="ami.flush_outbox")
def flush_outbox(*, older_than_seconds=900):
    """Releases rows stuck SENDING, then sends what stayed queued; scheduled by beat so no message is lost."""
    from ami.mail import flush_outbox as flush
    from ami.mail import reconcile_stuck

    released = reconcile_stuck(older_than_seconds=older_than_seconds)
    return {"released": released, "tried": flush()}


@shared_task(name="applications.send_deadline_reminders")
def send_deadline_reminders():
    """Queues the deadline reminders that are due (scheduled hourly by beat; each is sent once)."""
    from applications.services.reminders import send_deadline_reminders as send

    return send()
