"""Deadline reminders: owners of unsubmitted drafts hear about the deadline 7 days and 1 day before, once."""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core import mail

from ami.celery import app
from ami.models import CallStatus, OutboundEmail
from ami.tasks import send_deadline_reminders as reminder_task
from applications.models import MembershipStatus, ProposalStatus
from applications.services.reminders import reminder_kind, send_deadline_reminders
from tests.ami.factories import CallFactory, UserFactory
from tests.applications.factories import AdministrationFactory, MembershipFactory, ProposalFactory

pytestmark = pytest.mark.django_db

CLOSES = datetime(2030, 5, 31, 21, 59, tzinfo=UTC)  # 23:59 in Paris (summer time)


@pytest.fixture
def call():
    return CallFactory(status=CallStatus.OPEN, title="AMI IA 2030", opens_at=CLOSES - timedelta(days=60),
                       closes_at=CLOSES)


@pytest.fixture
def dgs():
    return AdministrationFactory(name="Direction générale de la santé", acronym="DGS")


@pytest.fixture
def owner(dgs):
    return MembershipFactory(administration=dgs, user__email="owner@sante.gouv.fr", user__first_name="Camille").user


@pytest.fixture
def colleague(dgs):
    return MembershipFactory(administration=dgs, user__email="colleague@sante.gouv.fr").user


@pytest.fixture
def draft(call, dgs, owner):
    return ProposalFactory(call=call, administration=dgs, title="Tri des signalements", created_by=owner)


def sent(run, **kwargs):
    """Runs `run` and the outbox's after-commit sends; returns the messages sent."""
    before = len(mail.outbox)
    run(**kwargs)
    return mail.outbox[before:]


@pytest.mark.parametrize(("remaining", "kind"), [
    (timedelta(days=8), None),
    (timedelta(days=7, seconds=1), None),
    (timedelta(days=7), "7d"),
    (timedelta(days=1, seconds=1), "7d"),
    (timedelta(days=1), "1d"),
    (timedelta(hours=20), "1d"),
    (timedelta(0), None),
    (timedelta(hours=-1), None),
])
def test_which_reminder_is_due(remaining, kind):
    assert reminder_kind(remaining) == kind


def test_the_7_day_reminder_lists_the_drafts_with_the_paris_deadline_and_links(
        draft, owner, colleague, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert send_deadline_reminders(now=CLOSES - timedelta(days=6)) == 2
    assert sorted(message.to[0] for message in mail.outbox) == ["colleague@sante.gouv.fr", "owner@sante.gouv.fr"]
    message = next(m for m in mail.outbox if m.to == ["owner@sante.gouv.fr"])
    assert message.subject == "Rappel : « AMI IA 2030 » clôt le 31 mai 2030 à 23:59 — Reminder: deadline approaching"
    assert "Bonjour Camille," in message.body
    assert "vendredi 31 mai 2030 à 23:59 (heure de Paris) : il reste 6 jours" in message.body
    assert "Tri des signalements (Direction générale de la santé (DGS))" in message.body
    assert f"{settings.SITE_URL}/mes-projets/{draft.pk}/modifier/" in message.body
    assert "English version" in message.body and "2030-05-31 at 23:59 (Paris time)" in message.body
    html = message.alternatives[0][0]
    assert f'<a href="{settings.SITE_URL}/mes-projets/{draft.pk}/modifier/">Tri des signalements</a>' in html
    assert set(OutboundEmail.objects.values_list("key", flat=True)) == {
        f"deadline-reminder:7d:{draft.call_id}:{owner.pk}", f"deadline-reminder:7d:{draft.call_id}:{colleague.pk}"}


def test_running_twice_sends_once(draft, owner, django_capture_on_commit_callbacks):
    now = CLOSES - timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        assert send_deadline_reminders(now=now) == 1
        assert send_deadline_reminders(now=now + timedelta(hours=1)) == 0
    assert len(mail.outbox) == 1 and OutboundEmail.objects.count() == 1


def test_the_7_day_then_the_1_day_reminder(draft, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send_deadline_reminders(now=CLOSES - timedelta(days=7))
        send_deadline_reminders(now=CLOSES - timedelta(days=2))
        send_deadline_reminders(now=CLOSES - timedelta(hours=23))
        send_deadline_reminders(now=CLOSES - timedelta(hours=2))
    assert [m.subject.split(" :")[0] for m in mail.outbox] == ["Rappel", "Dernier jour"]
    assert "il reste moins de 24 heures" in mail.outbox[1].body


def test_a_call_closing_in_20_hours_gets_only_the_1_day_reminder(draft, owner):
    send_deadline_reminders(now=CLOSES - timedelta(hours=20))
    assert list(OutboundEmail.objects.values_list("key", flat=True)) == [
        f"deadline-reminder:1d:{draft.call_id}:{owner.pk}"]


def test_nothing_before_7_days_nor_after_the_deadline(draft, owner):
    assert send_deadline_reminders(now=CLOSES - timedelta(days=7, minutes=1)) == 0
    assert send_deadline_reminders(now=CLOSES) == 0
    assert send_deadline_reminders(now=CLOSES + timedelta(hours=1)) == 0
    assert not OutboundEmail.objects.exists()


def test_owners_of_a_submitted_proposal_get_nothing(draft, owner):
    draft.status = ProposalStatus.SUBMITTED
    draft.save()
    assert send_deadline_reminders(now=CLOSES - timedelta(days=3)) == 0


def test_a_closed_call_gets_nothing(draft, call, owner):
    call.status = CallStatus.CLOSED
    call.save()
    assert send_deadline_reminders(now=CLOSES - timedelta(days=3)) == 0


def test_pending_revoked_and_deactivated_members_get_nothing(call, dgs):
    ProposalFactory(call=call, administration=dgs)
    MembershipFactory(administration=dgs, status=MembershipStatus.PENDING)
    MembershipFactory(administration=dgs, status=MembershipStatus.REVOKED)
    MembershipFactory(administration=dgs, user__is_active=False)
    assert send_deadline_reminders(now=CLOSES - timedelta(days=3)) == 0


def test_a_member_of_two_administrations_gets_one_message_per_call_and_kind(
        call, dgs, owner, django_capture_on_commit_callbacks):
    chu = AdministrationFactory(name="CHU de Bordeaux", acronym="CHUB")
    MembershipFactory(user=owner, administration=chu)
    ProposalFactory(call=call, administration=dgs, title="Tri des signalements")
    ProposalFactory(call=call, administration=chu, title="Recherche sémantique")
    other_call = CallFactory(status=CallStatus.OPEN, title="Autre appel", opens_at=CLOSES - timedelta(days=30),
                             closes_at=CLOSES + timedelta(hours=1))
    ProposalFactory(call=other_call, administration=chu, title="Autre projet")
    with django_capture_on_commit_callbacks(execute=True):
        assert send_deadline_reminders(now=CLOSES - timedelta(days=3)) == 2
    by_call = {m.subject.split("»")[0]: m.body for m in mail.outbox}
    assert set(by_call) == {"Rappel : « AMI IA 2030 ", "Rappel : « Autre appel "}
    assert "Tri des signalements" in by_call["Rappel : « AMI IA 2030 "]
    assert "Recherche sémantique" in by_call["Rappel : « AMI IA 2030 "]
    assert "Autre projet" not in by_call["Rappel : « AMI IA 2030 "]


def test_the_task_is_scheduled_and_delegates_to_the_service(call, dgs, django_capture_on_commit_callbacks):
    UserFactory()
    member = MembershipFactory(administration=dgs).user
    ProposalFactory(call=call, administration=dgs)
    assert settings.CELERY_BEAT_SCHEDULE["deadline-reminders"]["task"] == "applications.send_deadline_reminders"
    assert "applications.send_deadline_reminders" in app.tasks
    call.opens_at, call.closes_at = datetime.now(UTC) - timedelta(days=30), datetime.now(UTC) + timedelta(days=2)
    call.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert reminder_task.delay().get(timeout=5) == 1
        assert reminder_task.delay().get(timeout=5) == 0
    assert [m.to for m in mail.outbox] == [[member.email]]
