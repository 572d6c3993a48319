"""Mail is a row before it is a message: queue_email() writes the outbox, the `ami.send_email` task sends it."""

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.utils import timezone, translation

from ami.models import EmailStatus, OutboundEmail

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


def render_text(template_name, context):
    """Renders a plain-text template without HTML escaping (a text mail shows « < », not « &lt; »)."""
    template = get_template(template_name).template
    return template.render(Context(context, autoescape=False))


def render_email(template_prefix, context):
    """The subject, text and HTML parts of `templates/<prefix>_subject.txt|.txt|.html`."""
    subject = " ".join(render_text(f"{template_prefix}_subject.txt", context).split())
    text = render_text(f"{template_prefix}.txt", context)
    html = render_to_string(f"{template_prefix}.html", context)
    return subject, text, html


def queue_email(
    *, key, to, template_prefix, context, call=None, proposal=None, kind="", attachment_path="", attachment_name=""
):
    """Writes the message `key` to the outbox once and schedules its sending after commit.

    Returns (email, created). A second call with the same `key` changes nothing and sends nothing:
    that is how a reminder or a receipt reaches its reader once. Rendered in French, the
    language of the service (each template carries its English version below the French).
    """
    existing = OutboundEmail.objects.filter(key=key).first()
    if existing is not None:
        return existing, False
    with translation.override(settings.LANGUAGE_CODE):
        subject, text, html = render_email(template_prefix, context)
    return queue_rendered(
        key=key, to=to, subject=subject, text=text, html=html, call=call, proposal=proposal, kind=kind,
        attachment_path=attachment_path, attachment_name=attachment_name,
    )


@transaction.atomic
def queue_rendered(
    *, key, to, subject, text, html="", call=None, proposal=None, kind="", attachment_path="", attachment_name="",
    enqueue=True,
):
    """queue_email() for a message already rendered (the announcement templates staff write).

    With enqueue=False the caller queues the sending itself, in batches (enqueue_batches).
    """
    email, created = OutboundEmail.objects.get_or_create(
        key=key,
        defaults={
            "to": to, "subject": subject[:250], "body_text": text, "body_html": html, "call": call,
            "proposal": proposal, "kind": kind,
            "attachment_path": attachment_path, "attachment_name": attachment_name,
        },
    )
    if created and enqueue:
        from ami.tasks import send_email

        transaction.on_commit(lambda: _enqueue(send_email, email.pk))
    return email, created


def _enqueue(task, email_id):
    """Queues the sending; if the broker (or an eager send) fails, the row stays queued for flush_outbox."""
    try:
        task.delay(email_id=email_id)
    except Exception as error:  # noqa: BLE001 - the outbox row is the source of truth, not the broker
        logger.warning("email %s not queued now (%s): flush_outbox will send it", email_id, error)


class TransientFailure(Exception):
    """The message could not leave now (server down, 4xx): it stays queued and is retried with backoff."""


def message_id(email):
    """A Message-ID fixed per outbox row: a copy resent after a crash is recognisable as the same message."""
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> ")
    return f"<outbox-{email.pk}-{email.created_at:%Y%m%d%H%M%S}@{domain}>"


def _build(email, connection=None):
    message = EmailMultiAlternatives(
        email.subject, email.body_text, settings.DEFAULT_FROM_EMAIL, [email.to], connection=connection,
        headers={"Message-ID": message_id(email), "Auto-Submitted": "auto-generated"},
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    if email.attachment_path:
        from django.core.files.storage import default_storage

        with default_storage.open(email.attachment_path, "rb") as handle:
            message.attach(email.attachment_name or "piece-jointe.pdf", handle.read(), "application/pdf")
    return message


def _is_permanent(error):
    """5xx answers and refused recipients are final; everything else (4xx, network) is worth retrying."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return isinstance(error, (ValueError, UnicodeError))


def _claim(email_id):
    """QUEUED → SENDING under a row lock, committed before the SMTP conversation; None when not ours to send."""
    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update().filter(pk=email_id).first()
        if email is None or email.status != EmailStatus.QUEUED:
            return None
        email.status, email.sending_since, email.attempts = EmailStatus.SENDING, timezone.now(), email.attempts + 1
        email.save(update_fields=["status", "sending_since", "attempts"])
        return email


def send_queued(email_id, connection=None):
    """Sends one queued message; returns its final status (None when the row is gone).

    Side effects: the row moves QUEUED → SENDING (committed), then one SMTP (or backend) send, then
    SENDING → SENT; a transient failure moves it back to QUEUED with the error and raises
    TransientFailure (the task retries with backoff); a permanent one, or the last attempt, marks it
    FAILED. A row that is SENDING or SENT is never sent again by this function: a crash between the
    send and the mark leaves it SENDING, for reconcile_stuck() to decide.
    """
    email = _claim(email_id)
    if email is None:
        row = OutboundEmail.objects.filter(pk=email_id).values_list("status", flat=True).first()
        return row
    try:
        _build(email, connection).send()
    except Exception as error:  # noqa: BLE001 - every transport error is recorded on the row
        logger.warning("email %s failed: %s", email.pk, error)
        final = _is_permanent(error) or email.attempts >= MAX_ATTEMPTS
        status = EmailStatus.FAILED if final else EmailStatus.QUEUED
        OutboundEmail.objects.filter(pk=email.pk, status=EmailStatus.SENDING).update(
            status=status, last_error=f"{type(error).__name__}: {error}"[:2000], sending_since=None
        )
        if not final:
            raise TransientFailure(str(error)) from error
        return status
    OutboundEmail.objects.filter(pk=email.pk, status=EmailStatus.SENDING).update(
        status=EmailStatus.SENT, sent_at=timezone.now(), sending_since=None, last_error=""
    )
    return EmailStatus.SENT


def send_batch(email_ids):
    """send_queued() for several rows over one SMTP connection (an announcement sends thousands).

    Returns {status: count}. A transient failure stops the batch: the rows not yet tried stay
    QUEUED, and the exception goes up so that the task retries the whole batch (rows already sent
    are skipped by send_queued).
    """
    counts = {}
    with get_connection() as connection:
        for email_id in email_ids:
            status = send_queued(email_id, connection=connection)
            counts[status] = counts.get(status, 0) + 1
    return counts


def enqueue_batches(email_ids, size=50):
    """Queues `ami.send_email_batch` tasks after commit, `size` rows each."""
    from ami.tasks import send_email_batch

    ids = list(email_ids)
    for start in range(0, len(ids), size):
        chunk = ids[start:start + size]
        transaction.on_commit(lambda chunk=chunk: _enqueue_batch(send_email_batch, chunk))


def _enqueue_batch(task, email_ids):
    try:
        task.delay(email_ids=email_ids)
    except Exception as error:  # noqa: BLE001 - the rows stay queued for flush_outbox
        logger.warning("batch of %s emails not queued now (%s): flush_outbox will send them", len(email_ids), error)


def reconcile_stuck(older_than_seconds=900):
    """Rows left SENDING by a killed worker go back to QUEUED, to be sent again with the same Message-ID.

    A worker can die after the server accepted a message and before the row was marked SENT; sending it
    again is the only way not to lose a message that never left, and the fixed Message-ID lets mail
    clients fold the rare copy. Returns how many rows were released.
    """
    limit = timezone.now() - timedelta(seconds=older_than_seconds)
    return OutboundEmail.objects.filter(status=EmailStatus.SENDING, sending_since__lt=limit).update(
        status=EmailStatus.QUEUED, sending_since=None, last_error="Relancé après un envoi interrompu."
    )


def retry_failed(*, emails):
    """Staff retry: FAILED rows go back to QUEUED (attempts reset) and are queued for sending again."""
    ids = list(emails.filter(status=EmailStatus.FAILED).values_list("pk", flat=True))
    OutboundEmail.objects.filter(pk__in=ids, status=EmailStatus.FAILED).update(status=EmailStatus.QUEUED, attempts=0)
    from ami.tasks import send_email

    for email_id in ids:
        transaction.on_commit(lambda email_id=email_id: _enqueue(send_email, email_id))
    return len(ids)


def flush_outbox(limit=500):
    """Sends what is still queued (a worker died, the broker was down); returns how many were tried."""
    ids = list(OutboundEmail.objects.filter(status=EmailStatus.QUEUED).values_list("pk", flat=True)[:limit])
    for email_id in ids:
        try:
            send_queued(email_id)
        except TransientFailure:
            continue
    return len(ids)
