"""The optional antivirus step: attachments scanned by clamd before the jury may open them.

Off unless `CLAMD_SOCKET` (a Unix socket path) or `CLAMD_HOST` (with `CLAMD_PORT`) is set. When on, a
new attachment is saved "pending" and the `applications.scan_attachment` task sends it to clamd through
its INSTREAM protocol; the jury sees it only once declared clean (`AttachmentQuerySet.readable_by_jury`).
When off, attachments are saved "not scanned" and the jury reads them at once.

The client is a few lines of sockets (clamd's protocol: `zINSTREAM\\0`, then chunks each preceded by its
length on 4 big-endian bytes, a zero length to finish; the reply is `stream: OK` or
`stream: <signature> FOUND`), so the portal needs no extra package.
"""

import logging
import socket
import struct
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from ami import audit
from ami.mail import queue_email
from applications.models import Attachment, Membership, MembershipStatus, ScanStatus

logger = logging.getLogger(__name__)
CHUNK_BYTES = 64 * 1024
MAX_REPLY_BYTES = 4096


class ScanError(Exception):
    """clamd could not be reached or did not give a verdict: the file stays pending and the scan is retried."""


@dataclass(frozen=True)
class Verdict:
    clean: bool
    signature: str = ""


def enabled():
    return bool(getattr(settings, "CLAMD_SOCKET", "") or getattr(settings, "CLAMD_HOST", ""))


def initial_status():
    """The scan status of a file just uploaded: pending while the antivirus is on, not scanned otherwise."""
    return ScanStatus.PENDING if enabled() else ScanStatus.NOT_SCANNED


def _connect():
    timeout = getattr(settings, "CLAMD_TIMEOUT_SECONDS", 60)
    if getattr(settings, "CLAMD_SOCKET", ""):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(settings.CLAMD_SOCKET)
        return sock
    return socket.create_connection((settings.CLAMD_HOST, getattr(settings, "CLAMD_PORT", 3310)), timeout=timeout)


def _reply(sock):
    data = b""
    while not data.endswith(b"\0") and len(data) < MAX_REPLY_BYTES:
        chunk = sock.recv(1024)
        if not chunk:
            break
        data += chunk
    return data.rstrip(b"\0\n").decode("utf-8", "replace").strip()


def parse_reply(reply):
    """The Verdict of a clamd INSTREAM reply; ScanError for anything but OK or FOUND (an ERROR, a size limit)."""
    if reply.endswith(" OK") or reply == "OK":
        return Verdict(clean=True)
    if reply.endswith(" FOUND"):
        signature = reply.removesuffix(" FOUND").split(":", 1)[-1].strip()
        return Verdict(clean=False, signature=signature)
    raise ScanError(f"clamd answered {reply!r}")


def scan_stream(handle):
    """Sends the bytes of the open binary file `handle` to clamd and returns its Verdict. Raises ScanError."""
    try:
        with _connect() as sock:
            sock.sendall(b"zINSTREAM\0")
            for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
                sock.sendall(struct.pack("!L", len(chunk)) + chunk)
            sock.sendall(struct.pack("!L", 0))
            return parse_reply(_reply(sock))
    except OSError as error:  # refused, timed out, reset (clamd closes the stream past its size limit)
        raise ScanError(f"clamd unreachable: {error}") from error


def queue_scan(attachment):
    """Queues the scan of a pending attachment once the transaction that saved it commits."""
    if attachment.scan_status != ScanStatus.PENDING:
        return
    from applications.tasks import scan_attachment

    attachment_id = attachment.pk
    transaction.on_commit(lambda: scan_attachment.delay(attachment_id=attachment_id), robust=True)


def jury_snapshot(snapshot):
    """A submission snapshot as the jury may see it: only its attachments readable by the jury are listed."""
    if not snapshot:
        return snapshot
    items = snapshot.get("attachments") or []
    readable = set(Attachment.objects.filter(pk__in=[item.get("id") for item in items]).readable_by_jury()
                   .values_list("pk", flat=True))
    return {**snapshot, "attachments": [item for item in items if item.get("id") in readable]}


def _owners(attachment):
    """Who hears about an infected file: who uploaded it and who started the proposal, if still active members."""
    proposal = attachment.proposal
    user_ids = [pk for pk in (attachment.uploaded_by_id, proposal.created_by_id) if pk]
    memberships = Membership.objects.filter(administration_id=proposal.administration_id, user_id__in=user_ids,
                                            status=MembershipStatus.ACTIVE).select_related("user")
    by_id = {membership.user_id: membership.user for membership in memberships}
    return [by_id[pk] for pk in dict.fromkeys(user_ids) if pk in by_id]


def _quarantine(attachment, signature):
    """Deletes the file from storage (the row stays, for the history and the audit), takes it out of the proposal
    and tells its owners."""
    attachment.file.storage.delete(attachment.file.name)
    proposal = attachment.proposal
    context = {"name": attachment.original_name, "label": attachment.label, "proposal": proposal.title,
               "call": proposal.call.title, "signature": signature,
               "my_proposals_url": getattr(settings, "SITE_URL", "") + reverse("applications:my_proposals")}
    for user in _owners(attachment):
        queue_email(key=f"attachment-infected:{attachment.pk}:{user.pk}", to=user.email,
                    template_prefix="emails/attachment_infected", context={**context, "recipient": user},
                    call=proposal.call, proposal=proposal, kind="attachment_infected")


@transaction.atomic
def record_scan(*, attachment_id, verdict):
    """Records clamd's verdict on a pending attachment; does nothing if it is no longer pending.

    Side effects: the row's scan_status (CLEAN or INFECTED) and scanned_at, one audit entry
    "attachment.scanned"; for an infected file also: the file deleted from storage, replaced_at set
    (the file leaves the proposal's current attachments), one email per owner ("attachment-infected:…").
    Returns the new status, or None when the row was gone or already scanned.
    """
    attachment = (Attachment.objects.select_for_update().filter(pk=attachment_id, scan_status=ScanStatus.PENDING)
                  .select_related("proposal__call").first())
    if attachment is None:
        return None
    now = timezone.now()
    before = {"scan_status": attachment.scan_status}
    attachment.scan_status = ScanStatus.CLEAN if verdict.clean else ScanStatus.INFECTED
    attachment.scanned_at = now
    fields = ["scan_status", "scanned_at"]
    if not verdict.clean and attachment.replaced_at is None:
        attachment.replaced_at = now
        fields.append("replaced_at")
    attachment.save(update_fields=fields)
    audit.record(action="attachment.scanned", call=attachment.proposal.call, target=attachment, before=before,
                 after={"scan_status": attachment.scan_status, "signature": verdict.signature,
                        "name": attachment.original_name, "sha256": attachment.sha256})
    if not verdict.clean:
        logger.warning("attachment %s infected (%s): file deleted", attachment.pk, verdict.signature)
        _quarantine(attachment, verdict.signature)
    return attachment.scan_status


def scan_attachment(*, attachment):
    """Scans one pending attachment with clamd and records the verdict (see record_scan for the side effects).

    Raises ScanError when clamd gives no verdict (the caller retries later); returns None when the attachment
    is not pending or its file is missing.
    """
    if attachment.scan_status != ScanStatus.PENDING:
        return None
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError):
        logger.warning("scan_attachment: the file of attachment %s is missing", attachment.pk)
        return None
    with handle:
        verdict = scan_stream(handle)
    return record_scan(attachment_id=attachment.pk, verdict=verdict)
