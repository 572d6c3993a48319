"""A juror's work: accepting the charter, scoring a proposal, submitting the review, declaring a conflict.

Every function re-reads the review through `Review.objects.of_user(by)` under a row lock, so a juror
never writes on a review that is not theirs or on a proposal they are in conflict with.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ami import audit, auth_memo
from ami.mail import queue_email
from jury import dashboard_cache, rules
from jury.models import Conflict, ConflictSource, JuryMember, Recommendation, Review, ReviewStatus, Score
from jury.services.conflicts import withdraw_conflicted_review


class AlreadySubmitted(ValidationError):
    """The review is already submitted, hence final: nothing was changed."""


class IncompleteReview(ValidationError):
    """The review cannot be submitted yet; its messages list what is missing. Nothing was changed."""


def _state(review):
    """What the audit trail keeps of a review: its status, recommendation and notes per criterion id."""
    scores = Score.objects.filter(review=review).order_by("criterion_id").values_list("criterion_id", "value")
    return {
        "status": review.status,
        "recommendation": review.recommendation,
        "scores": {str(criterion_id): value for criterion_id, value in scores},
    }


def _locked(review, by):
    """`review` re-read under a row lock, only if it is still one of `by`'s reviews without a conflict."""
    locked = (
        Review.objects.of_user(by)
        .select_for_update(of=("self",))
        .select_related("proposal__call", "juror")
        .filter(pk=review.pk)
        .first()
    )
    if locked is None:
        raise ValidationError(_("Cette évaluation ne vous est pas (ou plus) confiée : rien n'a été enregistré."))
    return locked


@transaction.atomic
def accept_charter(*, member, by):
    """Records that `member` accepts the jury charter of their call, dated now.

    Side effects: sets `JuryMember.charter_accepted_at` through a conditional update (a second
    acceptance, such as a double click, changes nothing and returns False); one audit entry
    `charter.accepted`. Raises PermissionDenied when `by` is not that member.
    """
    if by.pk != member.user_id:
        raise PermissionDenied
    now = timezone.now()
    if not JuryMember.objects.filter(pk=member.pk, charter_accepted_at__isnull=True).update(charter_accepted_at=now):
        member.refresh_from_db(fields=["charter_accepted_at"])
        return False
    member.charter_accepted_at = now
    auth_memo.bump_user(member.user_id)  # an UPDATE sends no signal: the remembered seat is stale
    dashboard_cache.bump_call_on_commit(member.call_id)
    audit.record(
        action="charter.accepted", actor=by, call=member.call, target=member,
        before={"charter_accepted_at": None}, after={"charter_accepted_at": now},
    )
    return True


def _check_scores(entries, criteria, scale_max):
    """Refuses an unknown criterion, a note that is not an integer from 0 to `scale_max`, a comment without a note."""
    for criterion_id, entry in entries.items():
        if criterion_id not in criteria:
            raise ValidationError(_("Ce critère n'appartient pas à la grille de cet appel : rien n'a été enregistré."))
        value, title = entry.get("value"), criteria[criterion_id].title
        if value is not None and (type(value) is not int or not 0 <= value <= scale_max):
            raise ValidationError(
                _("La note du critère « %(criterion)s » doit être un nombre entier de 0 à %(max)s : "
                  "rien n'a été enregistré.") % {"criterion": title, "max": scale_max}
            )
        if value is None and (entry.get("comment") or "").strip():
            raise ValidationError(
                _("Donnez une note au critère « %(criterion)s » pour enregistrer votre commentaire : "
                  "rien n'a été enregistré.") % {"criterion": title}
            )


def _write_scores(review, entries):
    existing = {score.criterion_id: score for score in Score.objects.filter(review=review)}
    for criterion_id, entry in entries.items():
        score, value = existing.get(criterion_id), entry.get("value")
        comment = (entry.get("comment") or "").strip()
        public = bool(entry.get("public")) and bool(comment)
        if value is None:
            if score is not None:
                score.delete()
        elif score is None:
            Score.objects.create(review=review, criterion_id=criterion_id, value=value, comment=comment,
                                 comment_public=public)
        elif (score.value, score.comment, score.comment_public) != (value, comment, public):
            score.value, score.comment, score.comment_public = value, comment, public
            score.save(update_fields=["value", "comment", "comment_public"])


def _check_editable(review, call):
    if rules.is_submitted(review):
        raise AlreadySubmitted(
            _("Cette évaluation est déjà soumise : elle est définitive et ne peut plus être modifiée "
              "(l'équipe du programme peut la rouvrir si nécessaire). Rien n'a été changé."),
            code="already_submitted",
        )
    if not rules.is_review_phase(call):
        raise ValidationError(
            _("L'appel n'est pas en phase d'évaluation par le jury (%(status)s) : les évaluations ne peuvent "
              "pas être modifiées. Rien n'a été changé.") % {"status": call.get_status_display()},
            code="closed_phase",
        )


@transaction.atomic
def save_review(*, review, data, by):
    """Saves the juror's review as a draft.

    `data` is {"scores": {criterion id: {"value": int or None, "comment": str, "public": bool (the juror lets
    the comment appear, unsigned, on the applicant's evaluation sheet)}}, "overall_opinion": str,
    "recommendation": a Recommendation value or ""}. Side effects: locks the review; creates, updates or
    deletes its Score rows (a cleared note removes its row); saves the opinion and recommendation and moves
    the review to DRAFT; one audit entry `review.saved` with the notes before and after. Raises
    AlreadySubmitted for a submitted review, ValidationError for a call out of its review phase, an
    unknown criterion, a note outside 0…score_scale_max, a comment without a note or an unknown
    recommendation: nothing is saved then. Returns the saved review.
    """
    locked = _locked(review, by)
    call = locked.proposal.call
    _check_editable(locked, call)
    entries = data.get("scores", {})
    _check_scores(entries, {criterion.pk: criterion for criterion in call.criteria.all()}, call.score_scale_max)
    recommendation = data.get("recommendation") or ""
    if recommendation and recommendation not in Recommendation.values:
        raise ValidationError(_("Cette recommandation n'existe pas : rien n'a été enregistré."))
    before = _state(locked)
    _write_scores(locked, entries)
    locked.overall_opinion = (data.get("overall_opinion") or "").strip()
    locked.recommendation = recommendation
    locked.status = ReviewStatus.DRAFT
    locked.save(update_fields=["overall_opinion", "recommendation", "status", "updated_at"])
    audit.record(action="review.saved", actor=by, call=call, target=locked, before=before, after=_state(locked))
    review.status, review.overall_opinion, review.recommendation = locked.status, locked.overall_opinion, recommendation
    return locked


def missing_items(review, call):
    """What still prevents submitting `review`, in the order of the form: unscored criteria, opinion, recommendation."""
    scored = set(Score.objects.filter(review=review).values_list("criterion_id", flat=True))
    missing = [
        _("la note du critère « %(criterion)s »") % {"criterion": criterion.title}
        for criterion in call.criteria.all()
        if criterion.pk not in scored
    ]
    if not review.overall_opinion.strip():
        missing.append(_("l'avis général"))
    if not review.recommendation:
        missing.append(_("la recommandation"))
    return missing


@transaction.atomic
def submit_review(*, review, by):
    """Submits the juror's review, which then becomes final and opens the other reviews of the proposal to them.

    Side effects: locks the review; moves it to SUBMITTED with `submitted_at` through a conditional update,
    so that a second submission (double click, replay) changes nothing and returns False; one audit entry
    `review.submitted` with the notes. Raises IncompleteReview whose messages list what is missing
    (every criterion needs a note, and the opinion and recommendation are required), or ValidationError for
    a call out of its review phase: nothing is changed then. Returns True when this call submitted the review.
    """
    locked = _locked(review, by)
    if rules.is_submitted(locked):
        return False
    call = locked.proposal.call
    _check_editable(locked, call)
    missing = missing_items(locked, call)
    if missing:
        raise IncompleteReview(missing)
    before, now = _state(locked), timezone.now()
    submitted = Review.objects.filter(pk=locked.pk).exclude(status=ReviewStatus.SUBMITTED).update(
        status=ReviewStatus.SUBMITTED, submitted_at=now, updated_at=now
    )
    if not submitted:
        return False
    dashboard_cache.bump_call_on_commit(call.pk)  # an UPDATE sends no signal
    locked.status, locked.submitted_at = ReviewStatus.SUBMITTED, now
    audit.record(
        action="review.submitted", actor=by, call=call, target=locked, before=before,
        after={**_state(locked), "submitted_at": now},
    )
    review.status, review.submitted_at = locked.status, now
    return True


def staff_recipients():
    """Who hears about a declared conflict: settings.PROGRAMME_EMAIL when set, else every active staff user."""
    programme = getattr(settings, "PROGRAMME_EMAIL", "")
    if programme:
        return [programme]
    users = get_user_model().objects.filter(is_staff=True, is_active=True).exclude(email="")
    return list(users.order_by("email").values_list("email", flat=True))


@transaction.atomic
def declare_conflict(*, review, reason, by):
    """The juror declares a conflict of interest with the proposal of `review`, which then disappears from their pages.

    Side effects: locks the review; one Conflict row (source DECLARED, with the reason and the declarer);
    one audit entry `conflict.declared`; the review deleted if not yet submitted (a submitted one is kept
    for the record and hidden everywhere), as `conflicts.withdraw_conflicted_review` does for staff
    conflicts, so the assignment sees the proposal short of a juror; one email per staff recipient (see
    `staff_recipients`), queued in the outbox and sent after commit. Raises ValidationError without a
    reason or for a review no longer the juror's. Returns the conflict.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Indiquez le motif du conflit d'intérêts."))
    locked = _locked(review, by)
    proposal, call = locked.proposal, locked.proposal.call
    conflict, _created = Conflict.objects.get_or_create(
        juror=locked.juror, proposal=proposal,
        defaults={"source": ConflictSource.DECLARED, "reason": reason, "declared_by": by},
    )
    audit.record(
        action="conflict.declared", actor=by, call=call, target=conflict,
        before={"review_status": locked.status},
        after={"juror": locked.juror_id, "proposal": proposal.pk, "source": conflict.source, "reason": reason},
    )
    withdraw_conflicted_review(juror=locked.juror, proposal=proposal, by=by)
    context = {"juror": by, "proposal": proposal, "call": call, "reason": reason}
    for email in staff_recipients():
        queue_email(
            key=f"jury-conflict-declared:{conflict.pk}:{email}", to=email,
            template_prefix="emails/jury_conflict_declared", context=context, call=call,
        )
    return conflict
