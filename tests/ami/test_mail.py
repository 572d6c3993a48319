import copy
import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from ami import mail as outbox
from ami.models import EmailStatus, OutboundEmail

pytestmark = pytest.mark.django_db


@pytest.fixture
def templates(settings, tmp_path):
    folder = tmp_path / "emails"
    folder.mkdir()
    (folder / "hello_subject.txt").write_text("Bonjour\n{{ name }}\n")
    (folder / "hello.txt").write_text("Bonjour {{ name }}")
    (folder / "hello.html").write_text("<p>Bonjour {{ name }}</p>")
    engines = copy.deepcopy(settings.TEMPLATES)
    engines[0]["DIRS"] = [tmp_path, *engines[0]["DIRS"]]
    settings.TEMPLATES = engines  # a new value, so that Django rebuilds its template engines
    return folder


def queue(key="k1", **extra):
    return outbox.queue_email(
        key=key, to="agent@example.gouv.fr", template_prefix="emails/hello", context={"name": "<Camille>"}, **extra
    )


def test_a_queued_message_is_rendered_stored_then_sent_once(templates, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        email, created = queue()

    email.refresh_from_db()
    assert created
    assert (email.subject, email.status, email.attempts) == ("Bonjour <Camille>", EmailStatus.SENT, 1)
    assert [m.to for m in mail.outbox] == [["agent@example.gouv.fr"]]
    assert mail.outbox[0].body == "Bonjour <Camille>"
    assert mail.outbox[0].alternatives[0][0] == "<p>Bonjour &lt;Camille&gt;</p>"
    assert mail.outbox[0].alternatives[0][1] == "text/html"


def test_the_same_key_sends_nothing_more(templates, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first, _ = queue()
        again, created = queue()

    assert (again.pk, created) == (first.pk, False)
    assert OutboundEmail.objects.count() == 1
    assert len(mail.outbox) == 1


def test_a_sent_message_is_never_sent_again(templates, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        email, _ = queue()

    assert outbox.send_queued(email.pk) == EmailStatus.SENT
    assert outbox.flush_outbox() == 0
    assert len(mail.outbox) == 1


def test_a_transient_failure_stays_queued_with_its_error_then_gives_up(templates, settings):
    settings.EMAIL_BACKEND = "tests.ami.test_mail.BrokenBackend"
    email, _ = queue()

    with pytest.raises(outbox.TransientFailure):
        outbox.send_queued(email.pk)
    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error) == (EmailStatus.QUEUED, 1, "OSError: SMTP indisponible")
    for _ in range(outbox.MAX_ATTEMPTS - 2):
        with pytest.raises(outbox.TransientFailure):
            outbox.send_queued(email.pk)
    assert outbox.send_queued(email.pk) == EmailStatus.FAILED
    email.refresh_from_db()
    assert (email.status, email.attempts) == (EmailStatus.FAILED, outbox.MAX_ATTEMPTS)


def test_a_refused_recipient_fails_at_once_and_others_still_leave(templates, settings):
    settings.EMAIL_BACKEND = "tests.ami.test_mail.RefusingBackend"
    bounced, _ = outbox.queue_email(key="a", to="inconnu@example.gouv.fr", template_prefix="emails/hello",
                                    context={"name": "A"})
    fine, _ = outbox.queue_email(key="b", to="agent@example.gouv.fr", template_prefix="emails/hello",
                                 context={"name": "B"})

    assert outbox.send_queued(bounced.pk) == EmailStatus.FAILED
    assert outbox.send_queued(fine.pk) == EmailStatus.SENT
    bounced.refresh_from_db()
    assert (bounced.attempts, bounced.last_error.startswith("SMTPRecipientsRefused")) == (1, True)
    assert [m.to for m in RefusingBackend.sent] == [["agent@example.gouv.fr"]]


def test_a_row_being_sent_is_not_sent_by_a_second_worker(templates):
    email, _ = queue()
    OutboundEmail.objects.filter(pk=email.pk).update(status=EmailStatus.SENDING, sending_since=timezone.now())

    assert outbox.send_queued(email.pk) == EmailStatus.SENDING
    assert mail.outbox == []


def test_rows_stuck_sending_are_released_then_sent_with_the_same_message_id(templates):
    email, _ = queue()
    stuck_since = timezone.now() - timedelta(hours=1)
    OutboundEmail.objects.filter(pk=email.pk).update(status=EmailStatus.SENDING, sending_since=stuck_since)
    recent, _ = queue(key="recent")
    OutboundEmail.objects.filter(pk=recent.pk).update(status=EmailStatus.SENDING, sending_since=timezone.now())

    assert outbox.reconcile_stuck() == 1
    assert outbox.flush_outbox() == 1
    assert mail.outbox[0].extra_headers["Message-ID"] == outbox.message_id(email)
    assert OutboundEmail.objects.get(pk=recent.pk).status == EmailStatus.SENDING


def test_staff_retry_puts_failed_rows_back(templates, django_capture_on_commit_callbacks):
    email, _ = queue()
    OutboundEmail.objects.filter(pk=email.pk).update(status=EmailStatus.FAILED, attempts=5)

    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.retry_failed(emails=OutboundEmail.objects.all()) == 1
    email.refresh_from_db()
    assert (email.status, email.attempts) == (EmailStatus.SENT, 1)


def test_a_broker_failure_never_loses_the_row(templates, django_capture_on_commit_callbacks, monkeypatch):
    from ami import tasks

    def broker_down(**kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.send_email, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        email, _ = queue()
    assert OutboundEmail.objects.get(pk=email.pk).status == EmailStatus.QUEUED


def test_flush_sends_what_a_lost_task_left_queued(templates):
    email, _ = queue()  # outside on_commit capture: the task never ran

    assert outbox.flush_outbox() == 1
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT
    assert len(mail.outbox) == 1


def test_attachment_is_read_from_storage(templates):
    path = default_storage.save("receipts/test/recu.pdf", ContentFile(b"%PDF-1.4 test"))
    email, _ = queue(attachment_path=path, attachment_name="recu.pdf")

    outbox.send_queued(email.pk)
    assert mail.outbox[0].attachments == [("recu.pdf", b"%PDF-1.4 test", "application/pdf")]


class RefusingBackend:
    sent = []

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        for message in messages:
            if message.to == ["inconnu@example.gouv.fr"]:
                raise smtplib.SMTPRecipientsRefused({"inconnu@example.gouv.fr": (550, b"No such user")})
            RefusingBackend.sent.append(message)
        return len(messages)


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise OSError("SMTP indisponible")


def test_a_batch_shares_one_connection_and_skips_rows_already_sent(templates, monkeypatch):
    first, _ = queue(key="b1")
    second, _ = queue(key="b2")
    outbox.send_queued(first.pk)
    opened = []
    real = outbox.get_connection

    def counting_connection(*args, **kwargs):
        connection = real(*args, **kwargs)
        opened.append(connection)
        return connection

    monkeypatch.setattr(outbox, "get_connection", counting_connection)
    assert outbox.send_batch([first.pk, second.pk]) == {EmailStatus.SENT: 2}
    assert len(opened) == 1
    assert len(mail.outbox) == 2  # the first row was not sent a second time
