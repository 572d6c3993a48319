"""Mail is a row before it is a message: queue_email() writes the outbox, the `ami.send_email` task sends it."""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
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


@transaction.atomic
def queue_email(*, key, to, template_prefix, context, call=None, attachment_path="", attachment_name=""):
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
    email, created = OutboundEmail.objects.get_or_create(
        key=key,
        defaults={
            "to": to, "subject": subject[:250], "body_text": text, "body_html": html, "call": call,
            "attachment_path": attachment_path, "attachment_name": attachment_name,
        },
    )
    if created:
        from ami.tasks import send_email

        transaction.on_commit(lambda: send_email.delay(email_id=email.pk))
    return email, created


def send_queued(email_id):
    """Sends one queued message under a row lock; returns its final status.

    Side effects: one SMTP (or backend) send; the row moves to SENT, or stays QUEUED with the error
    and an attempt more (FAILED after MAX_ATTEMPTS). A message already sent is never sent again.
    """
    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update().filter(pk=email_id).first()
        if email is None or email.status != EmailStatus.QUEUED:
            return email.status if email else None
        message = EmailMultiAlternatives(email.subject, email.body_text, settings.DEFAULT_FROM_EMAIL, [email.to])
        if email.body_html:
            message.attach_alternative(email.body_html, "text/html")
        if email.attachment_path:
            from django.core.files.storage import default_storage

            with default_storage.open(email.attachment_path, "rb") as handle:
                message.attach(email.attachment_name or "piece-jointe.pdf", handle.read(), "application/pdf")
        email.attempts += 1
        try:
            message.send()
        except Exception as error:  # noqa: BLE001 - any transport error is recorded and retried
            logger.warning("email %s failed: %s", email.pk, error)
            email.last_error = str(error)[:2000]
            email.status = EmailStatus.FAILED if email.attempts >= MAX_ATTEMPTS else EmailStatus.QUEUED
            email.save(update_fields=["attempts", "last_error", "status"])
            return email.status
        email.status, email.sent_at = EmailStatus.SENT, timezone.now()
        email.save(update_fields=["attempts", "status", "sent_at"])
        return email.status


def flush_outbox(limit=500):
    """Sends what is still queued (a worker died, the broker was down); returns how many were tried."""
    ids = list(OutboundEmail.objects.filter(status=EmailStatus.QUEUED).values_list("pk", flat=True)[:limit])
    for email_id in ids:
        send_queued(email_id)
    return len(ids)
