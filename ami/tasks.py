"""Thin Celery tasks of the project package."""

import os
import socket

from celery import shared_task


@shared_task(name="ami.ping")
def ping():
    """Proves a worker is alive and reaches the database: answers with who ran it and what it saw."""
    from ami.models import Call

    return {"pid": os.getpid(), "host": socket.gethostname(), "calls": Call.objects.count()}


@shared_task(name="ami.send_email", autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def send_email(*, email_id):
    """Sends one outbox row (a row sent already is left alone)."""
    from ami.mail import send_queued

    return send_queued(email_id)


@shared_task(name="ami.flush_outbox")
def flush_outbox():
    """Sends what stayed queued; scheduled by beat so that a lost task never loses a message."""
    from ami.mail import flush_outbox as flush

    return flush()
