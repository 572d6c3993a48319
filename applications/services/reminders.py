"""Deadline reminders: the owners of drafts not yet submitted hear about the deadline 7 days and 1 day before."""

from collections import defaultdict
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from ami.mail import queue_email
from ami.models import Call, CallStatus
from applications.models import Membership, Proposal, ProposalStatus

PARIS = ZoneInfo("Europe/Paris")
# (kind, the remaining time up to which it is due): the narrowest window that contains the remaining time
# wins, so a call closing in 20 hours gets the 1-day reminder only, never a late 7-day one.
REMINDERS = (("1d", timedelta(days=1)), ("7d", timedelta(days=7)))


def reminder_kind(remaining):
    """'1d' when at most one day remains, '7d' when at most seven, None otherwise (or when closed)."""
    if remaining <= timedelta(0):
        return None
    return next((kind for kind, window in REMINDERS if remaining <= window), None)


def _drafts_by_user(call):
    """{user: [drafts]} for every active member of an administration with a draft on `call`."""
    drafts = list(
        Proposal.objects.filter(call=call, status=ProposalStatus.DRAFT)
        .select_related("administration").order_by("administration__name", "title", "pk")
    )
    by_administration = defaultdict(list)
    for draft in drafts:
        by_administration[draft.administration_id].append(draft)
    members = (Membership.objects.active().filter(administration_id__in=by_administration, user__is_active=True)
               .select_related("user").order_by("user_id", "administration_id"))
    by_user = defaultdict(list)
    for membership in members:
        by_user[membership.user].extend(by_administration[membership.administration_id])
    return by_user


def _context(call, user, drafts, kind, now):
    site = settings.SITE_URL
    return {
        "user": user,
        "call": call,
        "kind": kind,
        "deadline": timezone.localtime(call.closes_at, PARIS),
        "days_left": (call.closes_at - now).days,
        "drafts": [{"title": d.title, "administration": str(d.administration),
                    "url": site + reverse("applications:edit_draft", args=[d.pk])} for d in drafts],
        "my_proposals_url": site + reverse("applications:my_proposals"),
        "call_url": site + call.get_absolute_url(),
    }


def send_deadline_reminders(*, now=None):
    """Queues the deadline reminders due at `now` (default: the current time); returns how many were new.

    For each open call closing within 7 days, each active member of an administration that has a draft
    on it gets one message for the due kind ('7d' while more than one day remains, '1d' after), listing
    all their drafts on that call. Drafts are reminded even when the administration submitted another
    proposal (an administration may submit several). Side effects: at most one OutboundEmail row per
    (kind, call, user), keyed `deadline-reminder:<kind>:<call>:<user>`, so running this every hour,
    or twice at once, sends each reminder once; the outbox sends them after commit.
    """
    now = now or timezone.now()
    calls = Call.objects.filter(status=CallStatus.OPEN, closes_at__gt=now, closes_at__lte=now + timedelta(days=7))
    created = 0
    for call in calls:
        kind = reminder_kind(call.closes_at - now)
        for user, drafts in _drafts_by_user(call).items():
            _email, new = queue_email(
                key=f"deadline-reminder:{kind}:{call.pk}:{user.pk}",
                to=user.email,
                template_prefix="emails/deadline_reminder",
                context=_context(call, user, drafts, kind, now),
                call=call,
            )
            created += new
    return created
