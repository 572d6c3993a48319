"""The receipt task: the PDF once, then the receipt email once per recipient, with the PDF attached."""

import time
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from ami.models import CallStatus, OutboundEmail
from applications.models import MembershipStatus, Submission
from applications.services import submission as services
from applications.tasks import render_receipt
from tests.ami.factories import CallFactory
from tests.applications.factories import MembershipFactory, complete_draft

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def call():
    return CallFactory(status=CallStatus.OPEN, reference_prefix="AMI2026", closes_at=timezone.now() + timedelta(days=3))


@pytest.fixture
def creator():
    return MembershipFactory(user__email="dominique.petit@sante.gouv.fr", user__first_name="Dominique").user


@pytest.fixture
def submitter(creator):
    return MembershipFactory(administration=creator.memberships.get().administration,
                             user__email="camille.martin@sante.gouv.fr").user


@pytest.fixture
def proposal(call, creator):
    return complete_draft(call=call, administration=creator.memberships.get().administration, created_by=creator)


def test_submitting_queues_the_task_that_renders_the_pdf_and_mails_the_submitter_and_the_creator(
        proposal, submitter, creator, django_capture_on_commit_callbacks):
    MembershipFactory(administration=proposal.administration)  # another member: not a recipient
    with django_capture_on_commit_callbacks(execute=True):
        submission = services.submit_proposal(proposal=proposal, version=1, by=submitter)
    submission.refresh_from_db()
    assert submission.receipt_pdf.name.startswith(f"receipts/{proposal.call_id}/{proposal.pk}/")
    assert sorted(message.to[0] for message in mail.outbox) == [
        "camille.martin@sante.gouv.fr", "dominique.petit@sante.gouv.fr"]
    message = next(m for m in mail.outbox if m.to == ["dominique.petit@sante.gouv.fr"])
    assert message.subject == "Récépissé de dépôt AMI2026-0001 (dépôt n° 1) — Submission receipt"
    assert "Bonjour Dominique," in message.body and submission.sha256 in message.body
    assert "Déposé par : camille.martin@sante.gouv.fr" in message.body
    assert "presentation.pdf (" in message.body and "English version" in message.body
    [(name, content, mimetype)] = message.attachments
    assert (name, mimetype) == ("recepisse-AMI2026-0001-depot-1.pdf", "application/pdf")
    assert content.startswith(b"%PDF")
    assert sorted(OutboundEmail.objects.values_list("key", flat=True)) == sorted(
        [f"receipt:{submission.pk}:{submitter.pk}", f"receipt:{submission.pk}:{creator.pk}"])


def test_running_the_task_twice_keeps_one_pdf_and_sends_nothing_more(
        proposal, submitter, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        submission = services.submit_proposal(proposal=proposal, version=1, by=submitter)
    first = Submission.objects.get(pk=submission.pk).receipt_pdf.name
    with django_capture_on_commit_callbacks(execute=True):
        assert render_receipt.delay(submission_id=submission.pk).get() == first
    assert Submission.objects.get(pk=submission.pk).receipt_pdf.name == first
    assert len(mail.outbox) == 2 and OutboundEmail.objects.count() == 2


def test_a_revoked_creator_gets_no_receipt(proposal, submitter, creator, django_capture_on_commit_callbacks):
    creator.memberships.update(status=MembershipStatus.REVOKED)
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_proposal(proposal=proposal, version=1, by=submitter)
    assert [message.to for message in mail.outbox] == [["camille.martin@sante.gouv.fr"]]


def test_the_task_returns_quietly_when_the_submission_is_gone():
    assert render_receipt.delay(submission_id=987654).get() is None


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_process_renders_the_receipt_and_queues_the_email(celery_worker_process, call, creator):
    """On PostgreSQL + Redis: the on_commit task reaches a separate worker, which writes the PDF and the outbox."""
    proposal = complete_draft(call=call, administration=creator.memberships.get().administration,
                              created_by=creator)
    submission = services.submit_proposal(proposal=proposal, version=1, by=creator)  # commits: the task leaves
    deadline = time.monotonic() + 60
    while not Submission.objects.get(pk=submission.pk).receipt_pdf:
        assert time.monotonic() < deadline, "the worker did not render the receipt within 60 s"
        time.sleep(0.5)
    assert Submission.objects.get(pk=submission.pk).receipt_pdf.name.startswith("receipts/")
    while not OutboundEmail.objects.filter(key=f"receipt:{submission.pk}:{creator.pk}").exists():
        assert time.monotonic() < deadline, "the worker did not queue the receipt email within 60 s"
        time.sleep(0.5)
