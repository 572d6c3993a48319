"""Attachments of a proposal: PDF files checked by content, within the call's limits, kept in history.

Files live under MEDIA_ROOT with random names (models.attachment_path) and leave only through
file_response(), after the caller's permission check.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from ami import audit
from applications import antivirus
from applications.models import Attachment, Proposal, ProposalStatus
from applications.validators import check_pdf, human_size, megabytes, sanitise_filename


def limits(call):
    """(maximum bytes per file, maximum bytes of a proposal's current attachments) for `call`."""
    return megabytes(call.max_file_mb), megabytes(call.max_total_mb)


def current_total(proposal, *, excluding=None):
    """Bytes of the proposal's current attachments (replaced and removed ones do not count)."""
    current = Attachment.objects.filter(proposal=proposal).current()
    if excluding is not None:
        current = current.exclude(pk=excluding.pk)
    return current.aggregate(total=Sum("size"))["total"] or 0


def _lock_draft(proposal):
    """Locks the proposal row (concurrent uploads count the total one at a time) and checks it is a draft."""
    locked = Proposal.objects.select_for_update().select_related("call").get(pk=proposal.pk)
    if locked.status != ProposalStatus.DRAFT:
        raise ValidationError(
            _("Les pièces jointes ne peuvent plus être modifiées : ce projet n'est plus un brouillon."),
            code="not_draft",
        )
    return locked


def _check_total(proposal, size, *, excluding=None):
    _max_file, max_total = limits(proposal.call)
    total = current_total(proposal, excluding=excluding) + size
    if total > max_total:
        raise ValidationError(
            _("Avec ce fichier, les pièces jointes du projet pèseraient %(total)s : la limite est de %(max)s "
              "par projet. Retirez ou allégez une pièce, puis réessayez.")
            % {"total": human_size(total), "max": human_size(max_total)},
            code="total_too_large",
        )


def _store(*, proposal, uploaded_file, label, by, size, sha256, written, replaces=None):
    """Writes the file, then creates the row; `written` lists the file for removal if the transaction fails."""
    attachment = Attachment(
        proposal=proposal, label=(label or "").strip(), original_name=sanitise_filename(uploaded_file.name),
        size=size, sha256=sha256, uploaded_by=by, replaces=replaces, scan_status=antivirus.initial_status(),
    )
    attachment.file.save(attachment.original_name, uploaded_file, save=False)
    written.append(attachment)
    attachment.save()
    antivirus.queue_scan(attachment)
    return attachment


def _summary(attachment):
    return {"id": attachment.pk, "name": attachment.original_name, "label": attachment.label,
            "size": attachment.size, "sha256": attachment.sha256}


def _guarded(store_and_record):
    """Runs the database part in a transaction; a rollback removes the file it wrote (no orphan on disk)."""
    written = []
    try:
        with transaction.atomic():
            attachment = store_and_record(written)
    except BaseException:
        for attachment in written:
            attachment.file.delete(save=False)
        raise
    return attachment


def add_attachment(*, proposal, uploaded_file, label, by):
    """Adds a PDF to a draft proposal and returns the Attachment.

    Checks, before writing anything: PDF content (signature and parsing), the call's size limit per
    file and per proposal (current attachments only), and that the proposal is still a draft (under
    a row lock, so parallel uploads cannot exceed the total). Raises ValidationError with a French
    message otherwise, leaving no row and no file.
    Side effects: writes one file under MEDIA_ROOT, creates one Attachment row (sanitised name,
    size, SHA-256), one audit entry "attachment.added"; with the antivirus on (settings CLAMD_*), the row
    is "pending" and the `applications.scan_attachment` task is queued after commit (applications/antivirus.py).
    """
    max_file, _max_total = limits(proposal.call)
    size, sha256 = check_pdf(uploaded_file, max_bytes=max_file)

    def store_and_record(written):
        locked = _lock_draft(proposal)
        _check_total(locked, size)
        attachment = _store(proposal=locked, uploaded_file=uploaded_file, label=label, by=by,
                            size=size, sha256=sha256, written=written)
        audit.record(action="attachment.added", actor=by, call=locked.call, target=attachment,
                     after=_summary(attachment))
        return attachment

    return _guarded(store_and_record)


def replace_attachment(*, attachment, uploaded_file, by):
    """Replaces a current attachment by a new PDF; the old one stays in the history and returns the new one.

    Same checks as add_attachment (the replaced file no longer counts toward the total); also
    refuses an attachment that was already replaced or removed.
    Side effects: writes one file, creates one Attachment row pointing to the old one (`replaces`),
    sets the old row's `replaced_at` (its file is kept), one audit entry "attachment.replaced"; the new
    file is scanned as in add_attachment when the antivirus is on.
    """
    max_file, _max_total = limits(attachment.proposal.call)
    size, sha256 = check_pdf(uploaded_file, max_bytes=max_file)

    def store_and_record(written):
        locked = _lock_draft(attachment.proposal)
        now = timezone.now()
        if not Attachment.objects.filter(pk=attachment.pk).current().update(replaced_at=now):
            raise ValidationError(_("Cette pièce a déjà été remplacée ou retirée : rechargez la page."),
                                  code="not_current")
        _check_total(locked, size, excluding=attachment)
        new = _store(proposal=locked, uploaded_file=uploaded_file, label=attachment.label, by=by,
                     size=size, sha256=sha256, written=written, replaces=attachment)
        attachment.replaced_at = now
        audit.record(action="attachment.replaced", actor=by, call=locked.call, target=new,
                     before=_summary(attachment), after=_summary(new))
        return new

    return _guarded(store_and_record)


@transaction.atomic
def remove_attachment(*, attachment, by):
    """Takes an attachment out of a draft proposal; it stays in the history, with its file.

    Kept rather than deleted because an earlier submission's snapshot may list it (the jury
    reads that). Raises ValidationError when the proposal is no longer a draft or the attachment
    is no longer current. Side effects: sets `replaced_at` on the row, one audit entry
    "attachment.removed".
    """
    locked = _lock_draft(attachment.proposal)
    now = timezone.now()
    if not Attachment.objects.filter(pk=attachment.pk).current().update(replaced_at=now):
        raise ValidationError(_("Cette pièce a déjà été remplacée ou retirée : rechargez la page."),
                              code="not_current")
    attachment.replaced_at = now
    audit.record(action="attachment.removed", actor=by, call=locked.call, target=attachment,
                 before=_summary(attachment))
    return attachment


def file_response(attachment):
    """The attachment as a download (never displayed inline, never sniffed), for views that checked permission.

    Raises Http404 when the file is missing from storage.
    """
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404(_("Ce fichier est introuvable."))
    response = FileResponse(handle, as_attachment=True, filename=attachment.original_name,
                            content_type="application/pdf")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
