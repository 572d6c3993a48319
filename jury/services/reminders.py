"""Reminders to late jurors: at most one email a day per juror, whatever how often the task runs."""

import logging
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from ami.mail import queue_email
from ami.models import Call, CallStatus
from jury.services.progress import progress_board

logger = logging.getLogger(__name__)
PARIS = ZoneInfo("Europe/Paris")


def _dashboard_link(call):
    try:
        return settings.SITE_URL + reverse("jury:dashboard", args=[call.slug])
    except NoReverseMatch:  # the reviewer pages are wired by their own feature
        return settings.SITE_URL + "/"


def remind_late_jurors(*, now=None):
    """Emails every late juror of every call under review; returns how many messages were queued.

    Side effects: one outbox row per late juror, key `jury-reminder:<juror id>:<Paris date>`, so a
    second run the same (Paris) day queues nothing new.
    """
    now = now or timezone.now()
    today = timezone.localtime(now, PARIS).date()
    queued = 0
    calls = Call.objects.filter(status=CallStatus.REVIEW, review_deadline__lte=now)
    for call in calls:
        board = progress_board(call=call, now=now)
        for line in board.jurors:
            if not line.late:
                continue
            _email, created = queue_email(
                key=f"jury-reminder:{line.juror.pk}:{today.isoformat()}",
                to=line.juror.user.email,
                template_prefix="emails/jury_reminder",
                context={
                    "name": line.juror.user.get_full_name() or line.juror.user.email,
                    "call_title": call.title,
                    "deadline": timezone.localtime(call.review_deadline),
                    "done": line.done,
                    "expected": line.expected,
                    "missing": line.missing,
                    "link": _dashboard_link(call),
                },
                call=call,
            )
            queued += created
    logger.info("jury reminders queued: %s", queued)
    return queued
