"""Business actions on calls. Each function lists its side effects."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from ami import audit
from ami.models import (
    CALL_TRANSITIONS,
    PUBLIC_RESULTS_STATUSES,
    Call,
    CallStatus,
    CallTransition,
    Criterion,
    EligibilityQuestion,
    Track,
)


def check_weights(weights):
    """Raises ValidationError unless the weights are positive integers that sum to 100."""
    weights = list(weights)
    if not weights:
        raise ValidationError(_("L'appel n'a aucun critère : ajoutez au moins un critère pondéré."), code="no_criteria")
    total = sum(weights)
    if total != 100:
        raise ValidationError(
            _("La somme des poids des critères doit être égale à 100 (actuellement %(total)s).") % {"total": total},
            code="weights_not_100",
        )


def readiness_errors(call, target):
    """What stops `call` from entering phase `target` (a list of messages, empty when ready)."""
    errors = []
    if target == CallStatus.OPEN:
        try:
            check_weights(call.criteria.values_list("weight", flat=True))
        except ValidationError as error:
            errors.extend(error.messages)
        if not call.tracks.exists():
            errors.append(_("L'appel n'a aucun parcours d'accompagnement avec une enveloppe budgétaire."))
        if call.closes_at <= call.opens_at:
            errors.append(_("La date de clôture doit être postérieure à la date d'ouverture."))
        for criterion in call.criteria.all():
            try:
                check_rubric(criterion.rubric, call.score_scale_max)
            except ValidationError as error:
                errors.append(f"{criterion.title} : {error.messages[0]}")
    return errors


@transaction.atomic
def transition_call(*, call, to_status, by=None, note=""):
    """Moves `call` to `to_status` if the transition table allows it and the call is ready.

    Side effects: locks and saves the call's status; writes one CallTransition row and one audit entry
    `call.transition`.
    Raises ValidationError (nothing saved) for a refused transition.
    """
    call = Call.objects.select_for_update(no_key=True).get(pk=call.pk)
    current = CallStatus(call.status)
    target = CallStatus(to_status)
    if target not in CALL_TRANSITIONS[current]:
        raise ValidationError(
            _("Passage impossible de la phase « %(from)s » à la phase « %(to)s ».")
            % {"from": current.label, "to": target.label},
            code="illegal_transition",
        )
    errors = readiness_errors(call, target)
    if errors:
        raise ValidationError(errors, code="not_ready")
    call.status = target
    call.save(update_fields=["status", "updated_at"])
    CallTransition.objects.create(call=call, from_status=current, to_status=target, by=by, note=note)
    audit.record(action="call.transition", actor=by, call=call, target=call,
                 before={"status": current.value}, after={"status": target.value, "note": note})
    return call


# Call set-up by the programme staff (the "Espace équipe" pages).

# Fields of a call that staff set; the phase moves only through transition_call.
CALL_SETUP_FIELDS = (
    "slug", "title", "reference_prefix", "description", "eligibility_text", "opens_at", "closes_at",
    "jury_date", "announcement_date", "review_deadline", "score_scale_max", "reviews_per_proposal", "uses_pairs",
    "conflict_same_ministry", "min_reviews_for_normalisation", "disagreement_threshold", "max_file_mb",
    "max_total_mb",
)
# What a clone copies besides tracks, criteria and questions; dates and identity are the new call's own.
CLONED_FIELDS = (
    "reference_prefix", "description", "eligibility_text", "score_scale_max", "reviews_per_proposal", "uses_pairs",
    "conflict_same_ministry", "min_reviews_for_normalisation", "disagreement_threshold", "max_file_mb",
    "max_total_mb",
)
# Phases from which a part of the set-up is frozen, and why (shown on screen).
_JURY_PHASES = {CallStatus.REVIEW, CallStatus.DELIBERATION, *PUBLIC_RESULTS_STATUSES}
_DELIBERATION_PHASES = {CallStatus.DELIBERATION, *PUBLIC_RESULTS_STATUSES}


def locked_call_fields(call):
    """The call's fields that may no longer change in its current phase."""
    locked = set()
    if call.status != CallStatus.DRAFT:
        # Public URLs and the references of submitted proposals are built from these.
        locked |= {"slug", "reference_prefix"}
    if call.status in _JURY_PHASES:
        # The jury scores on this scale and was assigned with these rules.
        locked |= {"score_scale_max", "reviews_per_proposal", "uses_pairs", "conflict_same_ministry"}
    if call.status in PUBLIC_RESULTS_STATUSES:
        locked |= set(CALL_SETUP_FIELDS)
    return locked


def tracks_lock_reason(call):
    """Why the tracks may no longer change ("" when they may)."""
    if call.status in _DELIBERATION_PHASES:
        return _("Les parcours et leurs enveloppes sont figés depuis le début de la délibération : "
                 "le jury sélectionne les lauréats dans ces enveloppes.")
    return ""


def criteria_lock_reason(call):
    """Why the criteria may no longer change ("" when they may)."""
    if call.status in _JURY_PHASES:
        return _("Les critères, leurs poids et leurs grilles sont figés depuis le début de l'évaluation : "
                 "le jury note les projets sur cette grille.")
    return ""


def questions_lock_reason(call):
    """Why the eligibility questions may no longer change ("" when they may).

    Applicants answer them in their drafts: once a proposal exists, changing them would change what was answered.
    """
    if call.status == CallStatus.DRAFT:
        return ""
    if call.status == CallStatus.OPEN and not call.proposals.exists():
        return ""
    return _("Les questions de recevabilité sont figées : des administrations ont commencé à y répondre "
             "(ou l'appel n'est plus ouvert aux candidatures).")


def _changes(instance, fields):
    """(before, after) dicts of the fields whose value differs from the saved row; values as the audit stores them."""
    saved = type(instance).objects.filter(pk=instance.pk).values(*fields).first() or {}
    before, after = {}, {}
    for name in fields:
        if saved.get(name) != getattr(instance, name):
            before[name], after[name] = saved.get(name), getattr(instance, name)
    return before, after


def _check_call_dates(call):
    if call.closes_at and call.opens_at and call.closes_at <= call.opens_at:
        raise ValidationError(_("La date de clôture doit être postérieure à la date d'ouverture."), code="dates")


@transaction.atomic
def create_call(*, by, fields):
    """Creates a call in the DRAFT phase from `fields` (names from CALL_SETUP_FIELDS).

    Side effects: inserts one Call; one audit entry `call.create`.
    Raises ValidationError (nothing saved) for an unknown field, a taken slug or a closing date before opening.
    """
    unknown = set(fields) - set(CALL_SETUP_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown call fields: {sorted(unknown)}")
    call = Call(status=CallStatus.DRAFT, **fields)
    _check_call_dates(call)
    if Call.objects.filter(slug=call.slug).exists():
        raise ValidationError(_("Un appel utilise déjà l'identifiant « %(slug)s ».") % {"slug": call.slug},
                              code="slug_taken")
    call.save()
    audit.record(action="call.create", actor=by, call=call, target=call, after={k: fields[k] for k in sorted(fields)})
    return call


@transaction.atomic
def update_call(*, call, by, fields):
    """Changes the set-up fields of `call` (names from CALL_SETUP_FIELDS) that differ from the saved ones.

    Side effects: locks and saves the call; one audit entry `call.update` with the changed values (none if nothing
    changed). Raises ValidationError (nothing saved) when a field frozen in the current phase would change, the slug
    is taken or the closing date is not after the opening date.
    """
    unknown = set(fields) - set(CALL_SETUP_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown call fields: {sorted(unknown)}")
    call = Call.objects.select_for_update(no_key=True).get(pk=call.pk)
    for name, value in fields.items():
        setattr(call, name, value)
    before, after = _changes(call, list(fields))
    frozen = sorted(set(after) & locked_call_fields(call))
    if frozen:
        labels = ", ".join(str(Call._meta.get_field(name).verbose_name) for name in frozen)
        raise ValidationError(
            _("Ces paramètres ne sont plus modifiables dans la phase « %(phase)s » : %(fields)s.")
            % {"phase": call.get_status_display(), "fields": labels},
            code="frozen",
        )
    _check_call_dates(call)
    if "slug" in after and Call.objects.filter(slug=call.slug).exclude(pk=call.pk).exists():
        raise ValidationError(_("Un appel utilise déjà l'identifiant « %(slug)s ».") % {"slug": call.slug},
                              code="slug_taken")
    if after:
        call.save()
        audit.record(action="call.update", actor=by, call=call, target=call, before=before, after=after)
    return call


@transaction.atomic
def clone_call(*, call, by, slug, title, opens_at, closes_at):
    """Creates a DRAFT call from `call`: its settings, tracks, criteria (with rubrics) and eligibility questions.

    The new call has its own slug, title and submission dates; jury, announcement and review dates are left
    empty. Side effects: inserts the Call (cloned_from=call) and copies of its Track, Criterion and
    EligibilityQuestion rows; one audit entry `call.clone`. Raises ValidationError (nothing saved) for a taken
    slug or a closing date before opening.
    """
    fields = {name: getattr(call, name) for name in CLONED_FIELDS}
    fields.update(slug=slug, title=title, opens_at=opens_at, closes_at=closes_at)
    new = Call(status=CallStatus.DRAFT, cloned_from=call, **fields)
    _check_call_dates(new)
    if Call.objects.filter(slug=slug).exists():
        raise ValidationError(_("Un appel utilise déjà l'identifiant « %(slug)s ».") % {"slug": slug},
                              code="slug_taken")
    new.save()
    Track.objects.bulk_create(
        Track(call=new, code=t.code, name=t.name, description=t.description, budget_eur=t.budget_eur,
              max_laureates=t.max_laureates, position=t.position)
        for t in call.tracks.all()
    )
    Criterion.objects.bulk_create(
        Criterion(call=new, position=c.position, title=c.title, description=c.description, weight=c.weight,
                  rubric=list(c.rubric))
        for c in call.criteria.all()
    )
    EligibilityQuestion.objects.bulk_create(
        EligibilityQuestion(call=new, position=q.position, text=q.text, help_text=q.help_text,
                            ineligible_answer=q.ineligible_answer)
        for q in call.eligibility_questions.all()
    )
    audit.record(action="call.clone", actor=by, call=new, target=new,
                 before={"cloned_from": call.slug}, after={"slug": slug, "title": title})
    return new


def _rows_snapshot(queryset, fields):
    return [{"id": row["id"], **{name: row[name] for name in fields}} for row in queryset.values("id", *fields)]


def _replace_rows(*, model, call, rows, fields, protected_message):
    """Makes `call`'s rows of `model` equal to `rows` (dicts; "id" for an existing row, none for a new one).

    Rows of the call missing from `rows` are deleted. Positions are written in two passes, so that
    reordering never trips the unique constraints on (call, position). Rows are saved one by one (not with
    QuerySet.update) so that the post_save signals, such as the public pages' cache, see every change.
    """
    existing = {obj.pk: obj for obj in model.objects.select_for_update().filter(call=call)}
    kept = {row["id"] for row in rows if row.get("id")}
    if kept - set(existing):
        raise ValidationError(_("Une ligne à modifier n'appartient pas à cet appel ; rechargez la page."),
                              code="unknown_row")
    for pk in set(existing) - kept:
        try:
            with transaction.atomic():
                existing[pk].delete()
        except ProtectedError:
            raise ValidationError(protected_message % {"name": existing[pk]}, code="protected") from None
    # First pass: move kept rows out of the way (positions are unique per call for criteria).
    for offset, pk in enumerate(sorted(kept)):
        existing[pk].position = 10_000 + offset
        existing[pk].save(update_fields=["position"])
    for row in rows:
        obj = existing[row["id"]] if row.get("id") else model(call=call)
        for name in fields:
            setattr(obj, name, row[name])
        obj.save()


TRACK_FIELDS = ("position", "code", "name", "description", "budget_eur", "max_laureates")
CRITERION_FIELDS = ("position", "title", "description", "weight", "rubric")
QUESTION_FIELDS = ("position", "text", "help_text", "ineligible_answer")


@transaction.atomic
def save_tracks(*, call, by, rows):
    """Makes the call's tracks equal to `rows` (dicts of TRACK_FIELDS, with "id" for an existing track).

    Side effects: locks the call; deletes, updates and creates Track rows; one audit entry `call.tracks`.
    Raises ValidationError (nothing saved) when the tracks are frozen in this phase, a code is used twice,
    no track is left, or a deleted track was requested by a proposal.
    """
    call = Call.objects.select_for_update(no_key=True).get(pk=call.pk)
    reason = tracks_lock_reason(call)
    if reason:
        raise ValidationError(reason, code="frozen")
    if not rows:
        raise ValidationError(_("Un appel a au moins un parcours d'accompagnement."), code="no_track")
    codes = [row["code"] for row in rows]
    if len(set(codes)) != len(codes):
        raise ValidationError(_("Deux parcours ne peuvent pas avoir le même code."), code="duplicate_code")
    before = _rows_snapshot(call.tracks.all(), TRACK_FIELDS)
    try:
        with transaction.atomic():
            _replace_rows(model=Track, call=call, rows=rows, fields=TRACK_FIELDS, protected_message=_(
                "Le parcours « %(name)s » est demandé par des projets : il ne peut pas être supprimé."))
    except IntegrityError:
        raise ValidationError(_("Deux parcours ne peuvent pas avoir le même code."), code="duplicate_code") from None
    after = _rows_snapshot(call.tracks.all(), TRACK_FIELDS)
    audit.record(action="call.tracks", actor=by, call=call, target=call, before={"tracks": before},
                 after={"tracks": after})
    return list(call.tracks.all())


def check_rubric(rubric, scale_max):
    """Raises ValidationError unless the rubric is empty or has one text per score level, 0 to scale_max."""
    if rubric and len(rubric) != scale_max + 1:
        raise ValidationError(
            _("La grille doit compter %(expected)s lignes, une par note de 0 à %(max)s (elle en compte %(count)s).")
            % {"expected": scale_max + 1, "max": scale_max, "count": len(rubric)},
            code="rubric_levels",
        )


@transaction.atomic
def save_criteria(*, call, by, rows):
    """Makes the call's criteria equal to `rows` (dicts of CRITERION_FIELDS, "id" for an existing criterion).

    The set is checked as a whole before anything is written: weights summing to 100 (check_weights),
    distinct positions, rubrics of one text per score level. Side effects: locks the call; deletes, updates
    and creates Criterion rows; one audit entry `call.criteria`. Raises ValidationError (nothing saved) otherwise,
    or when the criteria are frozen in this phase.
    """
    call = Call.objects.select_for_update(no_key=True).get(pk=call.pk)
    reason = criteria_lock_reason(call)
    if reason:
        raise ValidationError(reason, code="frozen")
    check_weights(row["weight"] for row in rows)
    positions = [row["position"] for row in rows]
    if len(set(positions)) != len(positions):
        raise ValidationError(_("Deux critères ne peuvent pas avoir le même ordre."), code="duplicate_position")
    for row in rows:
        check_rubric(row["rubric"], call.score_scale_max)
    before = _rows_snapshot(call.criteria.all(), CRITERION_FIELDS)
    _replace_rows(model=Criterion, call=call, rows=rows, fields=CRITERION_FIELDS, protected_message=_(
        "Le critère « %(name)s » a déjà reçu des notes : il ne peut pas être supprimé."))
    after = _rows_snapshot(call.criteria.all(), CRITERION_FIELDS)
    audit.record(action="call.criteria", actor=by, call=call, target=call, before={"criteria": before},
                 after={"criteria": after})
    return list(call.criteria.all())


@transaction.atomic
def save_eligibility_questions(*, call, by, rows):
    """Makes the call's eligibility questions equal to `rows` (dicts of QUESTION_FIELDS, "id" for existing ones).

    Side effects: locks the call; deletes, updates and creates EligibilityQuestion rows; one audit entry
    `call.eligibility_questions`. Raises ValidationError (nothing saved) when the questions are frozen.
    """
    call = Call.objects.select_for_update(no_key=True).get(pk=call.pk)
    reason = questions_lock_reason(call)
    if reason:
        raise ValidationError(reason, code="frozen")
    before = _rows_snapshot(call.eligibility_questions.all(), QUESTION_FIELDS)
    _replace_rows(model=EligibilityQuestion, call=call, rows=rows, fields=QUESTION_FIELDS, protected_message="%(name)s")
    after = _rows_snapshot(call.eligibility_questions.all(), QUESTION_FIELDS)
    audit.record(action="call.eligibility_questions", actor=by, call=call, target=call,
                 before={"questions": before}, after={"questions": after})
    return list(call.eligibility_questions.all())
