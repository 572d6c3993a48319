"""Programme staff at the door: the eligibility check of submitted proposals, and the registry's
gatekeeping of administrations proposed by agents (approve, reject, or merge into an existing one)."""

import re
import unicodedata
from difflib import SequenceMatcher

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ami import audit
from ami.mail import queue_email
from applications.models import Administration, Membership, MembershipStatus, Proposal, ProposalStatus
from applications.services import transition_proposal
from jury import dashboard_cache


def _require_staff(user):
    if not (user.is_authenticated and user.is_staff):
        raise PermissionDenied(_("Seule l'équipe du programme peut faire cela."))


# Eligibility


@transaction.atomic
def record_eligibility(*, proposal, eligible, by, reason="", expected_status=None):
    """Records the eligibility check of `proposal` by staff member `by`: eligible, or ineligible with a reason.

    `expected_status` is the status the deciding page showed: when someone else changed it meanwhile,
    nothing is saved (ValidationError), so that one decision never silently overwrites another.
    Side effects: locks the proposal; moves its status through the transition table (one ProposalTransition
    row with `by`, `at` and the reason); one audit entry `proposal.eligibility`.
    Raises PermissionDenied for non-staff and ValidationError (nothing saved) for a missing reason or a
    transition the table refuses.
    """
    _require_staff(by)
    reason = (reason or "").strip()
    if not eligible and not reason:
        raise ValidationError(_("Indiquez le motif d'irrecevabilité : il sera conservé dans l'historique."),
                              code="reason_required")
    locked = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if expected_status and locked.status != expected_status:
        raise ValidationError(
            _("Le statut de ce projet a changé pendant que vous l'examiniez (il est maintenant « %(status)s ») : "
              "rien n'est enregistré. Relisez l'historique avant de décider.")
            % {"status": locked.get_status_display()},
            code="stale",
        )
    before = {"status": locked.status}
    target = ProposalStatus.ELIGIBLE if eligible else ProposalStatus.INELIGIBLE
    transition_proposal(proposal=locked, to_status=target, by=by, reason=reason)
    audit.record(action="proposal.eligibility", actor=by, call=locked.call, target=locked,
                 before=before, after={"status": target.value, "reason": reason})
    proposal.status = target
    return locked


def eligibility_review(questions, answered):
    """The eligibility answers as staff read them, each flagged when it makes the proposal ineligible.

    `answered` is a list of (question id, question text, answer); the flag is an automatic hint only
    (a question deleted since is shown, never flagged). Returns [{"question", "answer", "flagged"}].
    """
    by_id = {question.pk: question for question in questions}
    rows = []
    for question_id, text, answer in answered:
        question = by_id.get(question_id)
        rows.append({"question": text or getattr(question, "text", ""), "answer": answer,
                     "flagged": bool(question and question.makes_ineligible(answer))})
    return rows


def live_answers(proposal, questions):
    """(id, text, answer) of each question of the call, from the proposal as it is now (None: no answer)."""
    answers = proposal.eligibility_answers or {}
    return [(question.pk, question.text, answers.get(str(question.pk))) for question in questions]


def snapshot_answers(snapshot):
    return [(entry.get("question_id"), entry.get("question", ""), entry.get("answer"))
            for entry in snapshot.get("eligibility", [])]


# Proposed administrations


def _normalised(text):
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def likely_duplicates(administration, registry, limit=5):
    """The approved administrations of `registry` that `administration` probably duplicates, best first.

    Same acronym, one name inside the other, or names alike (agents often propose "DDTM Hérault" for
    "Direction départementale des territoires et de la mer de l'Hérault"). Pure: no query.
    """
    name, acronym = _normalised(administration.name), _normalised(administration.acronym)
    scored = []
    for candidate in registry:
        other, other_acronym = _normalised(candidate.name), _normalised(candidate.acronym)
        score = SequenceMatcher(None, name, other).ratio()
        if (acronym and acronym == other_acronym) or (other_acronym and f" {other_acronym} " in f" {name} "):
            score += 1
        if name and other and (name in other or other in name):
            score += 0.5
        if score >= 0.75:
            scored.append((-score, candidate.name, candidate))
    return [candidate for _score, _name, candidate in sorted(scored, key=lambda row: row[:2])[:limit]]




def _describe(administration):
    return {"name": administration.name, "acronym": administration.acronym, "kind": administration.kind,
            "ministry": administration.ministry, "approved": administration.approved}


def _lock_pending(administration):
    locked = Administration.objects.select_for_update().filter(pk=administration.pk).first()
    if locked is None or locked.approved:
        raise ValidationError(_("Cette proposition d'administration a déjà été traitée."), code="already_handled")
    return locked


def _pending_memberships(administration):
    return list(Membership.objects.pending().filter(administration=administration).select_related("user"))


def _tell(memberships, *, key, template, context, administration_pk):
    for membership in memberships:
        queue_email(key=f"{key}:{administration_pk}:{membership.user_id}", to=membership.user.email,
                    template_prefix=f"emails/{template}",
                    context={**context, "user": membership.user, "site_url": settings.SITE_URL})


@transaction.atomic
def approve_administration(*, administration, by):
    """Adds a proposed administration to the registry and confirms the memberships of those who proposed it.

    Side effects: locks the administration, sets approved=True; moves its pending memberships to ACTIVE
    (confirmed_by `by`, confirmed_at now); one audit entry `administration.approve`; one email per
    confirmed member through the outbox. Raises ValidationError (nothing saved) when it was already handled.
    """
    _require_staff(by)
    locked = _lock_pending(administration)
    memberships = _pending_memberships(locked)
    now = timezone.now()
    locked.approved = True
    locked.save(update_fields=["approved"])
    Membership.objects.filter(pk__in=[m.pk for m in memberships]).update(
        status=MembershipStatus.ACTIVE, confirmed_by=by, confirmed_at=now
    )
    audit.record(action="administration.approve", actor=by, target=locked, before={"approved": False},
                 after={"approved": True, "confirmed_members": [m.user.email for m in memberships]})
    _tell(memberships, key="administration-approved", template="administration_approved",
          context={"administration": locked}, administration_pk=locked.pk)
    administration.approved = True
    return locked


@transaction.atomic
def reject_administration(*, administration, by, reason):
    """Refuses a proposed administration, with a reason told to those who proposed it.

    An administration without any proposal is deleted with its memberships; one that already carries
    proposals is kept, unapproved, and its pending memberships are revoked (proposals are never lost).
    Side effects: locks the administration; deletes it or revokes its pending memberships; one audit
    entry `administration.reject`; one email per pending member through the outbox. Returns True when
    it was deleted. Raises ValidationError (nothing saved) for a missing reason or one already handled.
    """
    _require_staff(by)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Indiquez le motif du refus : il sera envoyé à l'agent qui l'a proposée."),
                              code="reason_required")
    locked = _lock_pending(administration)
    memberships = _pending_memberships(locked)
    deleted = not Proposal.objects.filter(administration=locked).exists()
    pk, before = locked.pk, _describe(locked)
    _tell(memberships, key="administration-rejected", template="administration_rejected",
          context={"administration_name": locked.name, "reason": reason}, administration_pk=pk)
    audit.record(action="administration.reject", actor=by, target=locked, before=before,
                 after={"deleted": deleted, "reason": reason, "proposed_by": [m.user.email for m in memberships]})
    if deleted:
        locked.delete()
    else:
        Membership.objects.filter(pk__in=[m.pk for m in memberships]).update(status=MembershipStatus.REVOKED)
    return deleted


@transaction.atomic
def merge_administration(*, duplicate, into, by):
    """Records that the proposed administration `duplicate` is in fact the registered `into`.

    Side effects: locks both; moves the duplicate's memberships to `into`, still pending (a member of
    `into` or staff confirms them as for any request to join), except for people who already belong
    to `into`, whose existing membership is kept; moves its proposals, if any; deletes the duplicate;
    one audit entry `administration.merge`; one email per moved member through the outbox.
    Raises ValidationError (nothing saved) when `into` is not an approved administration or the
    duplicate was already handled.
    """
    _require_staff(by)
    if into.pk == duplicate.pk or not Administration.objects.filter(pk=into.pk, approved=True).exists():
        raise ValidationError(_("Choisissez une administration validée du registre, différente de celle proposée."),
                              code="bad_target")
    locked = _lock_pending(duplicate)
    target = Administration.objects.select_for_update().get(pk=into.pk)
    memberships = list(Membership.objects.filter(administration=locked).select_related("user"))
    already = set(Membership.objects.filter(administration=target).values_list("user_id", flat=True))
    moved = [m for m in memberships if m.user_id not in already]
    Membership.objects.filter(pk__in=[m.pk for m in moved]).update(administration=target)
    moved_proposals = list(Proposal.objects.filter(administration=locked).values_list("pk", flat=True))
    Proposal.objects.filter(pk__in=moved_proposals).update(administration=target)
    transaction.on_commit(dashboard_cache.bump_global)  # the jurors' dashboards name the administration
    for membership in memberships:
        if membership.status == MembershipStatus.PENDING:
            _tell([membership], key="administration-merged", template="administration_merged",
                  context={"administration_name": locked.name, "administration": target,
                           "already_member": membership.user_id in already}, administration_pk=locked.pk)
    audit.record(action="administration.merge", actor=by, target=locked, before=_describe(locked),
                 after={"merged_into": target.pk, "merged_into_name": target.name,
                        "moved_members": [m.user.email for m in moved], "moved_proposals": moved_proposals})
    locked.delete()
    return target
