"""Thin Celery tasks of the project package."""

import os
import socket

from celery import shared_task


@shared_task(name="ami.ping")
def ping():
    """Proves a worker is alive and reaches the database: answers with who ran it and what it saw."""
    from ami.models import Call

    return {"pid": os.getpid(), "host": socket.gethostname(), "calls": Call.objects.count()}
