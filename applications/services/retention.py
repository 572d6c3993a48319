"""Retention of personal data (RGPD): what a proposal that was not selected keeps once its call's period is over.

A call keeps the personal data of its non-selected proposals for `Call.retention_months` after the
results were announced (the call's transition to ANNOUNCED). After that, `purge_proposal` erases the
texts, files and contacts of each such proposal and keeps what the programme's statistics and the
accountability of the selection need: the reference, administration, title, track, amount,
eligibility answers, the jury's scores and recommendations, the decision, and the audit trail.
"""

from dateutil.relativedelta import relativedelta
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Avg, Count, Exists, OuterRef, Q
from django.utils import timezone

from ami import audit
from ami.models import Call, CallStatus, CallTransition, EmailStatus, OutboundEmail
from applications.models import Attachment, Proposal, ProposalStatus, Submission
from applications.services.submission import snapshot_sha256
from jury import dashboard_cache
from jury.models import Review, ReviewStatus, Score

PURGED_STATUSES = (ProposalStatus.NOT_SELECTED, ProposalStatus.INELIGIBLE, ProposalStatus.WITHDRAWN)
FREE_TEXT_FIELDS = ("summary", "problem", "data_description", "ai_approach", "team", "expected_benefits")


def announced_at(call):
    """When the call's results were announced (its first transition to ANNOUNCED), or None."""
    transition = CallTransition.objects.filter(call=call, to_status=CallStatus.ANNOUNCED).order_by("at", "id").first()
    return transition.at if transition else None


def retention_ends_at(call):
    """The instant after which the call's non-selected proposals lose their personal data, or None."""
    announced = announced_at(call)
    return announced + relativedelta(months=call.retention_months) if announced else None


def calls_past_retention(*, now=None):
    """The calls announced more than `retention_months` ago, oldest announcement first."""
    now = now or timezone.now()
    calls = Call.objects.filter(transitions__to_status=CallStatus.ANNOUNCED).distinct()
    due = [(end, call) for call in calls if (end := retention_ends_at(call)) is not None and end <= now]
    return [call for _end, call in sorted(due, key=lambda pair: (pair[0], pair[1].pk))]


def proposals_to_purge(call):
    """The call's non-selected proposals that still hold personal data (a purged one is never listed again)."""
    has_text = Q()
    for name in FREE_TEXT_FIELDS:
        has_text |= ~Q(**{name: ""})
    submissions = Submission.objects.filter(proposal=OuterRef("pk"))
    not_anonymised = submissions.exclude(snapshot__anonymised=True)
    return (
        Proposal.objects.filter(call=call, status__in=PURGED_STATUSES)
        .filter(
            has_text
            | Q(created_by__isnull=False)
            | Q(Exists(Attachment.objects.filter(proposal=OuterRef("pk"))))
            | Q(Exists(not_anonymised))
            | Q(Exists(submissions.exclude(receipt_pdf="")))
            | Q(Exists(submissions.filter(submitted_by__isnull=False)))
        )
        .order_by("reference", "id")
    )


def _score_summary(proposal):
    """Per criterion: the number of submitted scores and their mean (the anonymised statistics)."""
    rows = (
        Score.objects.filter(review__proposal=proposal, review__status=ReviewStatus.SUBMITTED)
        .values("criterion__position", "criterion__title")
        .annotate(count=Count("id"), mean=Avg("value"))
        .order_by("criterion__position")
    )
    return [{"criterion": row["criterion__title"], "scores": row["count"], "mean": round(float(row["mean"]), 2)}
            for row in rows]


def anonymised_snapshot(submission, scores):
    """The submission's snapshot without its texts, attachments and submitter, in the same shape (schema 1)
    so that every page reading snapshots still renders it; `original_sha256` is the receipt's fingerprint."""
    old = submission.snapshot
    return {
        "schema": old.get("schema", 1),
        "anonymised": True,
        "original_sha256": old.get("original_sha256", submission.sha256),
        "call": old.get("call", {}),
        "reference": old.get("reference", ""),
        "number": old.get("number", submission.number),
        "administration": old.get("administration", {}),
        "title": old.get("title", ""),
        "sections": [],
        "requested_track": old.get("requested_track"),
        "requested_amount_eur": old.get("requested_amount_eur"),
        "eligibility": old.get("eligibility", []),
        "attachments": [],
        "submitted_at": old.get("submitted_at"),
        "submitted_by": "",
        "scores": scores,
    }


def _delete_files_on_commit(names):
    def delete():
        for name in names:
            default_storage.delete(name)

    transaction.on_commit(delete)


@transaction.atomic
def purge_proposal(*, proposal, by=None):
    """Erases the personal data of one non-selected proposal; returns what was erased (counts), or None
    when there was nothing left to erase.

    Side effects, in one transaction: locks the proposal; blanks its free-text fields and its creator;
    deletes its attachment rows (every version) and, after commit, their files and its receipt PDFs;
    replaces each Submission's snapshot by `anonymised_snapshot` (new sha256, the old one kept inside)
    and clears its submitter and receipt; blanks the jury's comments and opinions on it (scores and
    recommendations stay); blanks the recipient and body of its sent or failed emails (the rows stay,
    so their idempotency keys still hold); one audit entry `proposal.purge_personal_data` with the
    counts, never the data.
    """
    locked = Proposal.objects.select_for_update().select_related("call").get(pk=proposal.pk)
    if locked.status not in PURGED_STATUSES or not proposals_to_purge(locked.call).filter(pk=locked.pk).exists():
        return None
    attachments = list(Attachment.objects.filter(proposal=locked))
    submissions = list(Submission.objects.filter(proposal=locked).order_by("number"))
    files = [a.file.name for a in attachments if a.file] + [s.receipt_pdf.name for s in submissions if s.receipt_pdf]
    erased = {
        "fields": [name for name in FREE_TEXT_FIELDS if getattr(locked, name)],
        "attachments": len(attachments),
        "receipts": sum(1 for s in submissions if s.receipt_pdf),
        "submissions": len(submissions),
    }
    Attachment.objects.filter(proposal=locked).delete()
    scores = _score_summary(locked)
    for submission in submissions:
        snapshot = anonymised_snapshot(submission, scores)
        Submission.objects.filter(pk=submission.pk).update(
            snapshot=snapshot, sha256=snapshot_sha256(snapshot), submitted_by=None, receipt_pdf="")
    erased["comments"] = Score.objects.filter(review__proposal=locked).exclude(comment="").update(
        comment="", comment_public=False)
    erased["opinions"] = Review.objects.filter(proposal=locked).exclude(overall_opinion="").update(overall_opinion="")
    erased["emails"] = OutboundEmail.objects.filter(
        proposal=locked, status__in=[EmailStatus.SENT, EmailStatus.FAILED]).exclude(to="").update(
        to="", body_text="", body_html="", attachment_path="", attachment_name="")
    Proposal.objects.filter(pk=locked.pk).update(created_by=None, **{name: "" for name in FREE_TEXT_FIELDS})
    dashboard_cache.bump_call_on_commit(locked.call_id)  # UPDATEs send no signal
    audit.record(action="proposal.purge_personal_data", actor=by, call=locked.call, target=locked,
                 before=erased, after={"anonymised": True, "retention_months": locked.call.retention_months})
    _delete_files_on_commit(files)
    return erased


def purge_call(*, call, by=None):
    """Purges every non-selected proposal of `call` that still holds personal data, one transaction each.

    Side effects: those of `purge_proposal`, per proposal. Returns [(proposal, erased)] for the purged ones.
    """
    done = []
    for proposal in proposals_to_purge(call):
        erased = purge_proposal(proposal=proposal, by=by)
        if erased is not None:
            done.append((proposal, erased))
    return done
