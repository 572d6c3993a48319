"""Reminders to late jurors: after the review deadline, at most one email a day per juror."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from ami.models import CallStatus, OutboundEmail
from applications.models import ProposalStatus
from jury.models import ReviewStatus
from jury.services.reminders import remind_late_jurors
from jury.tasks import remind_late_jurors as task
from tests.ami.factories import CallFactory
from tests.applications.factories import ProposalFactory
from tests.jury.factories import JuryMemberFactory, ReviewFactory

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def late_call():
    call = CallFactory(status=CallStatus.REVIEW, title="AMI IA 2019",
                       review_deadline=timezone.now() - timedelta(hours=2))
    late = JuryMemberFactory(call=call, user__email="lea@exemple.fr", user__first_name="Léa", user__last_name="R")
    done = JuryMemberFactory(call=call, user__email="dan@exemple.fr")
    for juror, statuses in ((late, [ReviewStatus.SUBMITTED, ReviewStatus.DRAFT]), (done, [ReviewStatus.SUBMITTED])):
        for status in statuses:
            ReviewFactory(juror=juror, proposal=ProposalFactory(call=call, status=ProposalStatus.ELIGIBLE),
                          status=status)
    return call, late


def test_late_jurors_get_one_reminder_a_day(late_call):
    call, late = late_call
    now = datetime(2019, 6, 20, 23, 30, tzinfo=PARIS)  # 21:30 UTC
    call.review_deadline = now - timedelta(days=1)
    call.save()

    assert remind_late_jurors(now=now) == 1
    email = OutboundEmail.objects.get()
    assert (email.key, email.to, email.call) == (f"jury-reminder:{late.pk}:2019-06-20", "lea@exemple.fr", call)
    assert "Vous avez soumis 1 évaluation sur 2 : il en reste 1." in email.body_text
    assert email.subject == "Évaluations en retard : AMI IA 2019 — Reviews overdue"

    assert remind_late_jurors(now=now + timedelta(minutes=20)) == 0  # 23:50 in Paris: same day
    assert remind_late_jurors(now=now + timedelta(hours=1)) == 1  # 00:30 in Paris: a new day
    assert list(OutboundEmail.objects.values_list("key", flat=True)) == [
        f"jury-reminder:{late.pk}:2019-06-20", f"jury-reminder:{late.pk}:2019-06-21"]


def test_no_reminder_before_the_deadline_or_outside_the_review_phase(late_call):
    call, _late = late_call
    call.review_deadline = timezone.now() + timedelta(days=1)
    call.save()
    assert remind_late_jurors() == 0
    call.review_deadline = timezone.now() - timedelta(days=1)
    call.status = CallStatus.DELIBERATION
    call.save()
    assert remind_late_jurors() == 0
    assert not OutboundEmail.objects.exists()


def test_the_daily_task_delegates_and_is_scheduled(late_call):
    assert task.name == "jury.remind_late_jurors"
    assert task.delay().get() == 1
    schedule = settings.CELERY_BEAT_SCHEDULE["jury-late-reminders"]
    assert (schedule["task"], schedule["schedule"]) == ("jury.remind_late_jurors", 86400.0)
