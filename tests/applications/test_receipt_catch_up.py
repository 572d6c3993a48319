"""Receipts when the broker is down (issue 8, faults): the submission commits, beat renders the receipt later."""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerDown

from ami.models import CallStatus, OutboundEmail
from applications.models import ProposalStatus, Submission
from applications.services import submission as services
from applications.tasks import render_missing_receipts, render_receipt
from tests.ami.factories import CallFactory
from tests.applications.factories import MembershipFactory, complete_draft

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def owner():
    return MembershipFactory(user__email="alix.durand@interieur.gouv.fr").user


@pytest.fixture
def draft(owner):
    call = CallFactory(status=CallStatus.OPEN, reference_prefix="AMI2026")
    return complete_draft(call=call, administration=owner.memberships.get().administration, created_by=owner)


@pytest.fixture
def broker_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise BrokerDown("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(render_receipt, "delay", refuse)


def receipt_emails(submission):
    return OutboundEmail.objects.filter(key__startswith=f"receipt:{submission.pk}:")


def test_a_dead_broker_at_submit_keeps_the_submission_and_logs(draft, owner, broker_down, caplog,
                                                               django_capture_on_commit_callbacks):
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        submission = services.submit_proposal(proposal=draft, version=draft.version, by=owner)
    submission.refresh_from_db()
    draft.refresh_from_db()
    assert draft.status == ProposalStatus.SUBMITTED
    assert submission.receipt_pdf.name == ""
    assert not receipt_emails(submission).exists()
    assert f"receipt of submission {submission.pk} not queued now" in caplog.text


def test_beat_renders_the_missing_receipt_and_queues_its_email_once(draft, owner, broker_down,
                                                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        submission = services.submit_proposal(proposal=draft, version=draft.version, by=owner)

    assert render_missing_receipts() == 1
    submission.refresh_from_db()
    with submission.receipt_pdf.open("rb") as handle:
        assert handle.read(4) == b"%PDF"
    assert list(receipt_emails(submission).values_list("to", flat=True)) == ["alix.durand@interieur.gouv.fr"]
    assert render_missing_receipts() == 0  # nothing left to catch up
    assert receipt_emails(submission).count() == 1


def test_a_receipt_downloaded_before_beat_still_gets_its_email(draft, owner, broker_down,
                                                               django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        submission = services.submit_proposal(proposal=draft, version=draft.version, by=owner)
    services.render_receipt_pdf(submission=submission)  # what the receipt page does on demand

    assert render_missing_receipts() == 1
    assert receipt_emails(submission).count() == 1


def test_old_submissions_without_receipt_are_left_to_the_receipt_page(draft, owner, broker_down,
                                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        submission = services.submit_proposal(proposal=draft, version=draft.version, by=owner)
    Submission.objects.filter(pk=submission.pk).update(submitted_at=timezone.now() - timedelta(days=3))

    assert render_missing_receipts() == 0
    submission.refresh_from_db()
    assert submission.receipt_pdf.name == ""
    assert not receipt_emails(submission).exists()


def test_beat_schedules_the_catch_up(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["render-missing-receipts"]
    assert entry == {"task": "applications.render_missing_receipts", "schedule": 600.0}
