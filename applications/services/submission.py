"""Submitting a proposal: completeness, the immutable snapshot, the receipt; reopening and withdrawing.

Every owner action here is allowed only while the call accepts submissions, judged on the server
clock (`call.accepts_submissions(timezone.now())`, aware datetimes, shown in Paris time).
"""

import hashlib
import json
import logging
import math
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Prefetch
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ami import audit
from ami.mail import queue_email
from ami.models import Call
from applications.models import Attachment, Membership, MembershipStatus, Proposal, ProposalStatus, Submission
from applications.services import PROPOSAL_SECTIONS, next_reference, transition_proposal

logger = logging.getLogger(__name__)

SNAPSHOT_SCHEMA = 1
# What must be filled in before a proposal can be submitted, in the order of the form.
REQUIRED_FIELDS = (
    "title", "summary", "problem", "data_description", "ai_approach", "team",
    "expected_benefits", "requested_track", "requested_amount_eur",
)
TEXT_FIELDS = ("title", "summary", "problem", "data_description", "ai_approach", "team", "expected_benefits")
RECEIPT_CSS = settings.BASE_DIR / "static" / "css" / "receipt.css"
# The beat task renders the receipts missing from the submissions of these last days (broker down meanwhile).
RECEIPT_CATCH_UP_DAYS = 2


class SubmissionRefused(ValidationError):
    """The proposal was not submitted and nothing changed; `messages` says why (one line per missing item)."""


class AlreadySubmitted(Exception):
    """A double click or a replayed request: this version (or the proposal) is submitted already."""

    def __init__(self, submission):
        super().__init__(submission)
        self.submission = submission


# Rules: small predicates on the server clock


def owner_actions_open(proposal, at=None):
    """Submitting, reopening, withdrawing and restoring are allowed until the deadline only."""
    return proposal.call.accepts_submissions(at or timezone.now())


def can_submit(proposal, at=None):
    return proposal.status == ProposalStatus.DRAFT and owner_actions_open(proposal, at)


def can_reopen(proposal, at=None):
    return proposal.status in (ProposalStatus.SUBMITTED, ProposalStatus.WITHDRAWN) and owner_actions_open(proposal, at)


def can_withdraw(proposal, at=None):
    return proposal.status in (ProposalStatus.DRAFT, ProposalStatus.SUBMITTED) and owner_actions_open(proposal, at)


# Dates in Paris time


def paris_datetime(value, *, seconds=False):
    """« 12 décembre 2026 à 23 h 59 » (Paris time), with « min ss s » when `seconds`."""
    local = timezone.localtime(value, timezone.get_default_timezone())
    time = _("%(hour)d h %(minute)02d") % {"hour": local.hour, "minute": local.minute}
    if seconds:
        time = _("%(hour)d h %(minute)02d min %(second)02d s") % {
            "hour": local.hour, "minute": local.minute, "second": local.second}
    return _("%(date)s à %(time)s") % {"date": date_format(local, "j F Y"), "time": time}


def time_left(delta):
    """« 3 jours », « 5 heures », « 12 minutes »: the time until the deadline, rounded up."""
    minutes = math.ceil(delta.total_seconds() / 60)
    if minutes >= 2 * 24 * 60:
        days = minutes // (24 * 60)
        return ngettext("%(count)d jour", "%(count)d jours", days) % {"count": days}
    if minutes >= 60:
        hours = minutes // 60
        return ngettext("%(count)d heure", "%(count)d heures", hours) % {"count": hours}
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


def deadline_text(call, at=None):
    """« Clôture le 12 décembre 2026 à 23 h 59 (heure de Paris) — dans 3 jours », or « Clôturé le … »."""
    at = at or timezone.now()
    when = paris_datetime(call.closes_at)
    if call.closes_at <= at:
        return _("Candidatures closes le %(when)s (heure de Paris)") % {"when": when}
    text = _("Clôture le %(when)s (heure de Paris)") % {"when": when}
    if call.accepts_submissions(at):
        text = _("%(text)s — dans %(left)s") % {"text": text, "left": time_left(call.closes_at - at)}
    return text


# Completeness


class MissingItem(str):
    """A French message naming what is missing; `field` names the draft field to fill (a name of
    DRAFT_FIELDS), or is "attachments" when a document is missing."""

    def __new__(cls, message, *, field):
        item = super().__new__(cls, message)
        item.field = field
        return item


def current_attachments(proposal):
    """Current attachments, from a prefetch (`.attachments.all()`) when there is one."""
    return [attachment for attachment in proposal.attachments.all() if attachment.replaced_at is None]


def draft_prefetches():
    """The lookups that make missing_items() and build_snapshot() read the call's questions and the current
    attachments once (for prefetch_related or prefetch_related_objects)."""
    return ["call__eligibility_questions", Prefetch("attachments", queryset=Attachment.objects.current())]


def missing_items(proposal):
    """What must still be done before `proposal` can be submitted: a list of French messages (empty when
    complete). Required fields, every eligibility question of the call, at least one current PDF attachment.
    Reads the call's questions and the attachments through prefetches when the caller made them.
    """
    missing = []
    for name in REQUIRED_FIELDS:
        value = getattr(proposal, f"{name}_id" if name == "requested_track" else name)
        if value is None or (isinstance(value, str) and not value.strip()):
            label = Proposal._meta.get_field(name).verbose_name
            missing.append(MissingItem(_("Champ à remplir : %(label)s") % {"label": label.capitalize()},
                                       field=name))
    answers = proposal.eligibility_answers or {}
    for question in proposal.call.eligibility_questions.all():
        if answers.get(str(question.pk)) is None:
            missing.append(MissingItem(_("Question de recevabilité sans réponse : %(question)s")
                                       % {"question": question.text}, field="eligibility_answers"))
    if not current_attachments(proposal):
        missing.append(MissingItem(_("Aucune pièce jointe : joignez au moins un document PDF."),
                                   field="attachments"))
    return missing


# The snapshot


def canonical_json(snapshot):
    return json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def snapshot_sha256(snapshot):
    """SHA-256 hex of the canonical JSON (sorted keys, no spaces, UTF-8): anyone can recompute it."""
    return hashlib.sha256(canonical_json(snapshot).encode()).hexdigest()


def _text_sections(proposal):
    """The text fields of the proposal, grouped as the form groups them (the track, the amount and the
    eligibility answers have their own keys in the snapshot)."""
    sections = []
    for title, names in PROPOSAL_SECTIONS:
        fields = [{"name": name, "label": str(Proposal._meta.get_field(name).verbose_name).capitalize(),
                   "value": getattr(proposal, name)} for name in names if name in TEXT_FIELDS]
        if fields:
            sections.append({"title": str(title), "fields": fields})
    return sections


def build_snapshot(*, proposal, number, at, by):
    """The JSON the jury reads (shared contract in the README of the submission); French labels whatever
    the language of the request. Pure: reads the proposal, its call, track, questions and attachments."""
    administration, track = proposal.administration, proposal.requested_track
    answers = proposal.eligibility_answers or {}
    with translation.override("fr"):
        return {
            "schema": SNAPSHOT_SCHEMA,
            "call": {"slug": proposal.call.slug, "title": proposal.call.title},
            "reference": proposal.reference,
            "number": number,
            "administration": {
                "name": administration.name, "acronym": administration.acronym, "kind": administration.kind,
                "kind_label": str(administration.get_kind_display()), "ministry": administration.ministry,
            },
            "title": proposal.title,
            "sections": _text_sections(proposal),
            "requested_track": {"code": track.code, "name": track.name} if track else None,
            "requested_amount_eur": proposal.requested_amount_eur,
            "eligibility": [
                {"question_id": question.pk, "question": question.text, "answer": answers.get(str(question.pk))}
                for question in proposal.call.eligibility_questions.all()
            ],
            "attachments": [
                {"id": a.pk, "name": a.original_name, "label": a.label, "size": a.size, "sha256": a.sha256}
                for a in current_attachments(proposal)
            ],
            "submitted_at": timezone.localtime(at).isoformat() if at else None,
            "submitted_by": getattr(by, "email", "") or "",
        }


# Submit, reopen, withdraw


def _late_message(call, at):
    if at >= call.closes_at:
        return _("Les candidatures à cet appel sont closes depuis le %(when)s (heure de Paris) : votre projet "
                 "n'a pas été déposé. Votre brouillon est conservé tel quel.") % {
                     "when": paris_datetime(call.closes_at)}
    return _("Cet appel n'accepte pas de dépôt en ce moment : votre projet n'a pas été déposé. "
             "Votre brouillon est conservé tel quel.")


def _locked(proposal, *, for_snapshot=False):
    """The proposal as stored, locked; `for_snapshot`: with what missing_items() and build_snapshot() read (the
    call's questions, the current attachments), each read once."""
    # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of the track's outer join.
    proposals = Proposal.objects.select_for_update(of=("self",)).select_related("call", "administration",
                                                                                   "requested_track")
    if for_snapshot:
        proposals = proposals.prefetch_related(*draft_prefetches())
    return proposals.get(pk=proposal.pk)


@transaction.atomic
def submit_proposal(*, proposal, version, by, at=None):
    """Submits the draft `proposal` as it was at `version` (the version the owner reviewed).

    Side effects, all in one transaction: locks the proposal, checks it and builds its snapshot; then locks
    the call row, last and for as short a time as possible (references stay sequential, submits of a call
    are serialised only for that end: the deadline checked again as it stands, the next reference, the
    writes); gives it its reference if it has none (a reopened one keeps its own); one conditional UPDATE
    of the proposal (reference, submitted_at) guarded by status and version; the DRAFT → SUBMITTED
    transition (one ProposalTransition row); one Submission row (number + 1, the snapshot and its SHA-256;
    the unique constraint `submission_once_per_version` stops a second one); one audit entry
    `proposal.submit`; after commit, queues the `applications.render_receipt` task (receipt PDF, then the
    receipt emails). Locks are taken in the order proposal, then call (no code takes them the other way
    round for a proposal that is being submitted).
    Raises AlreadySubmitted (nothing changes) for a replay, SubmissionRefused (nothing changes) when
    late, not a draft, edited since `version`, or incomplete. Returns the new Submission.
    """
    now = at or timezone.now()
    replayed = Submission.objects.filter(proposal_id=proposal.pk, proposal_version=version).first()
    if replayed is not None:
        raise AlreadySubmitted(replayed)
    current = _locked(proposal, for_snapshot=True)
    if current.status == ProposalStatus.SUBMITTED:
        raise AlreadySubmitted(current.submissions.order_by("-number").first())
    if not current.call.accepts_submissions(now):
        raise SubmissionRefused(_late_message(current.call, now), code="late")
    if current.status != ProposalStatus.DRAFT:
        raise SubmissionRefused(_("Seul un brouillon peut être déposé : ce projet est « %(status)s ».")
                                % {"status": current.get_status_display()}, code="not_draft")
    if current.version != version:
        raise SubmissionRefused(_("Le brouillon a été modifié depuis que vous l'avez relu : relisez-le, "
                                  "puis déposez-le à nouveau."), code="stale")
    missing = missing_items(current)
    if missing:
        raise SubmissionRefused([str(item) for item in missing], code="incomplete")
    at = now.replace(microsecond=0)
    number = (current.submissions.aggregate(last=Max("number"))["last"] or 0) + 1  # the proposal lock serialises
    snapshot = build_snapshot(proposal=current, number=number, at=at, by=by)  # its reference comes below
    call = Call.objects.select_for_update(no_key=True).get(pk=current.call_id)
    if not call.accepts_submissions(now):  # closed while this one was being checked
        raise SubmissionRefused(_late_message(call, now), code="late")
    return _record_submission(call=call, proposal=current, version=version, by=by, at=at, number=number,
                              snapshot=snapshot)


def _record_submission(*, call, proposal, version, by, at, number, snapshot):
    """The writes of a submission, under the call's lock: the reference, the proposal, the Submission."""
    reference = proposal.reference or next_reference(call)
    snapshot["reference"] = reference
    claimed = Proposal.objects.filter(pk=proposal.pk, status=ProposalStatus.DRAFT, version=version).update(
        reference=reference, submitted_at=at, updated_at=at)
    if not claimed:  # only reachable without row locks; the constraint below is the last word anyway
        raise SubmissionRefused(_("Le brouillon a été modifié pendant le dépôt : relisez-le."), code="stale")
    proposal.reference, proposal.submitted_at = reference, at
    transition_proposal(proposal=proposal, to_status=ProposalStatus.SUBMITTED, by=by)
    try:
        with transaction.atomic():
            submission = Submission.objects.create(
                proposal=proposal, number=number, proposal_version=version, snapshot=snapshot,
                sha256=snapshot_sha256(snapshot), submitted_by=by, submitted_at=at)
    except IntegrityError:
        raise AlreadySubmitted(Submission.objects.filter(proposal=proposal, proposal_version=version).first())
    audit.record(action="proposal.submit", actor=by, call=call, target=proposal,
                 before={"status": ProposalStatus.DRAFT, "version": version},
                 after={"status": ProposalStatus.SUBMITTED, "reference": reference, "number": number,
                        "sha256": submission.sha256})
    transaction.on_commit(lambda: _queue_receipt(submission.pk))
    return submission


def _queue_receipt(submission_id):
    """Queues the receipt task; if the broker is down the submission stays committed without its receipt,
    which the `applications.render_missing_receipts` beat task renders later (or the receipt page on demand)."""
    from applications.tasks import render_receipt

    try:
        render_receipt.delay(submission_id=submission_id)
    except Exception as error:  # noqa: BLE001 - the Submission row is the source of truth, not the broker
        logger.warning("receipt of submission %s not queued now (%s): render_missing_receipts will render it",
                       submission_id, error)


@transaction.atomic
def reopen_proposal(*, proposal, by, at=None):
    """Puts a submitted (or withdrawn) proposal back to draft before the deadline: editable again, the
    reference and the earlier submissions kept.

    Side effects: locks the proposal; the → DRAFT transition (one ProposalTransition row); one UPDATE
    that increments the version (so the next submit is a new version, hence a new Submission); one audit
    entry `proposal.reopen` (from SUBMITTED) or `proposal.restore` (from WITHDRAWN).
    Raises SubmissionRefused (nothing changes) after the deadline or from another status.
    """
    current = _locked(proposal)
    if current.status not in (ProposalStatus.SUBMITTED, ProposalStatus.WITHDRAWN):
        raise SubmissionRefused(_("Seul un projet déposé ou retiré peut redevenir un brouillon."), code="status")
    if not owner_actions_open(current, at):
        raise SubmissionRefused(_("La date limite de dépôt est passée : ce projet ne peut plus redevenir "
                                  "un brouillon."), code="late")
    before = current.status
    transition_proposal(proposal=current, to_status=ProposalStatus.DRAFT, by=by)
    Proposal.objects.filter(pk=current.pk).update(version=F("version") + 1)
    proposal.status, proposal.version = ProposalStatus.DRAFT, current.version + 1
    action = "proposal.reopen" if before == ProposalStatus.SUBMITTED else "proposal.restore"
    audit.record(action=action, actor=by, call=current.call, target=current,
                 before={"status": before, "version": current.version},
                 after={"status": ProposalStatus.DRAFT, "version": proposal.version})
    return proposal


@transaction.atomic
def withdraw_proposal(*, proposal, by, at=None):
    """Withdraws a draft or a submitted proposal before the deadline (it can be restored until then).

    Side effects: locks the proposal; the → WITHDRAWN transition (one ProposalTransition row); one audit
    entry `proposal.withdraw`. Submissions are kept. Raises SubmissionRefused (nothing changes) after the
    deadline or from another status.
    """
    current = _locked(proposal)
    if current.status not in (ProposalStatus.DRAFT, ProposalStatus.SUBMITTED):
        raise SubmissionRefused(_("Seul un brouillon ou un projet déposé peut être retiré."), code="status")
    if not owner_actions_open(current, at):
        raise SubmissionRefused(_("La date limite de dépôt est passée : ce projet ne peut plus être retiré "
                                  "par son administration."), code="late")
    before = current.status
    transition_proposal(proposal=current, to_status=ProposalStatus.WITHDRAWN, by=by)
    proposal.status = ProposalStatus.WITHDRAWN
    audit.record(action="proposal.withdraw", actor=by, call=current.call, target=current,
                 before={"status": before}, after={"status": ProposalStatus.WITHDRAWN})
    return proposal


# The receipt


def receipt_filename(submission):
    return f"recepisse-{submission.snapshot['reference']}-depot-{submission.number}.pdf"


def _refuse_fetch(url, *args, **kwargs):
    """WeasyPrint fetches nothing: the receipt is made of our template and our stylesheet only."""
    raise ValueError(f"refused to fetch {url!r} while rendering a receipt")


def receipt_pdf_bytes(submission):
    """The receipt PDF (A4) of `submission`, rendered from its snapshot with WeasyPrint. Pure."""
    from weasyprint import CSS, HTML

    with translation.override("fr"):
        html = render_to_string("applications/receipt.html", {
            "submission": submission, "snapshot": submission.snapshot,
            "submitted_at": paris_datetime(submission.submitted_at, seconds=True),
            "generated_at": paris_datetime(timezone.now(), seconds=True),
        })
    stylesheet = CSS(filename=str(RECEIPT_CSS), url_fetcher=_refuse_fetch)
    return HTML(string=html, url_fetcher=_refuse_fetch).write_pdf(stylesheets=[stylesheet])


def render_receipt_pdf(*, submission):
    """Renders the receipt PDF once into `submission.receipt_pdf`; returns its name in storage.

    Side effects: writes one file to the default storage and one conditional UPDATE of the submission
    (only while it has no receipt: a task run twice keeps the first file and deletes its own copy).
    """
    if submission.receipt_pdf:
        return submission.receipt_pdf.name
    field = submission.receipt_pdf
    name = field.storage.save(field.field.generate_filename(submission, receipt_filename(submission)),
                              ContentFile(receipt_pdf_bytes(submission)))
    if Submission.objects.filter(pk=submission.pk, receipt_pdf="").update(receipt_pdf=name):
        submission.receipt_pdf.name = name
        return name
    field.storage.delete(name)
    submission.refresh_from_db(fields=["receipt_pdf"])
    return submission.receipt_pdf.name


def render_missing_receipts(*, limit=200, within_days=RECEIPT_CATCH_UP_DAYS):
    """Catches up the receipts of recent submissions whose `applications.render_receipt` task never ran
    (the broker was down at submission time, a worker died): renders the missing PDFs and queues the
    receipt emails not queued yet. Returns how many submissions were caught up.

    Only submissions of the last `within_days` days are looked at (older ones, such as the demo's
    history, keep their receipt to be rendered on demand by the receipt page, without an email); a
    receipt the owner already downloaded (rendered on demand) still gets its emails here.
    Side effects, per submission caught up (oldest first, at most `limit`): what render_receipt_pdf and
    queue_receipt_emails do (at most one file, one conditional UPDATE, one OutboundEmail per recipient).
    A submission whose rendering fails is logged and left for the next run.
    """
    from ami.models import OutboundEmail

    since = timezone.now() - timedelta(days=within_days)
    recent = (Submission.objects.filter(submitted_at__gte=since)
              .select_related("proposal__call", "proposal__administration").order_by("pk"))
    done = 0
    for submission in recent.iterator():
        if done >= limit:
            break
        emailed = OutboundEmail.objects.filter(key__startswith=f"receipt:{submission.pk}:")
        if submission.receipt_pdf and emailed.exists():
            continue
        try:
            render_receipt_pdf(submission=submission)
            queue_receipt_emails(submission=submission)
        except Exception:  # noqa: BLE001 - one broken receipt must not stop the others
            logger.exception("receipt of submission %s could not be rendered", submission.pk)
            continue
        done += 1
    return done


def receipt_recipients(submission):
    """Who receives the receipt: the person who submitted and the person who started the draft, when
    they are still active members of the administration (never every member: a large administration
    would receive every project's receipt)."""
    proposal = submission.proposal
    user_ids = [pk for pk in (submission.submitted_by_id, proposal.created_by_id) if pk]
    memberships = (Membership.objects.filter(administration_id=proposal.administration_id, user_id__in=user_ids,
                                             status=MembershipStatus.ACTIVE).select_related("user"))
    by_id = {membership.user_id: membership.user for membership in memberships}
    return [by_id[pk] for pk in dict.fromkeys(user_ids) if pk in by_id]


def queue_receipt_emails(*, submission):
    """Queues the receipt email (with the PDF attached) to each recipient once.

    Side effects: at most one OutboundEmail per recipient, keyed `receipt:<submission>:<user>` (a replay
    or a second run of the task queues nothing more); each is sent by the `ami.send_email` task.
    Returns the number of messages queued now.
    """
    proposal = submission.proposal
    context = {"snapshot": submission.snapshot, "number": submission.number, "sha256": submission.sha256,
               "submitted_at": paris_datetime(submission.submitted_at, seconds=True),
               "site_url": getattr(settings, "SITE_URL", "")}
    created = 0
    for user in receipt_recipients(submission):
        _email, new = queue_email(
            key=f"receipt:{submission.pk}:{user.pk}", to=user.email, template_prefix="emails/receipt",
            context={**context, "recipient": user}, call=proposal.call,
            attachment_path=submission.receipt_pdf.name, attachment_name=receipt_filename(submission))
        created += new
    return created
