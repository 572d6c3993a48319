"""Business actions on calls. Each function lists its side effects."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ami.models import CALL_TRANSITIONS, Call, CallStatus, CallTransition


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
    return errors


@transaction.atomic
def transition_call(*, call, to_status, by=None, note=""):
    """Moves `call` to `to_status` if the transition table allows it and the call is ready.

    Side effects: locks and saves the call's status; writes one CallTransition row.
    Raises ValidationError (nothing saved) for a refused transition.
    """
    call = Call.objects.select_for_update().get(pk=call.pk)
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
    return call
