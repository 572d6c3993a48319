"""Call phases: one function, a table of allowed transitions, one audit row per change."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ami.models import CALL_TRANSITIONS, CallStatus, CallTransition
from ami.services import check_weights, transition_call
from tests.ami.factories import CallFactory, CriterionFactory, TrackFactory, UserFactory, ready_call

pytestmark = pytest.mark.django_db


def test_weights_must_sum_to_100():
    check_weights([25, 20, 15, 10, 15, 5, 10])
    with pytest.raises(ValidationError, match=r"égale à 100 \(actuellement 90\)"):
        check_weights([50, 40])
    with pytest.raises(ValidationError, match="aucun critère"):
        check_weights([])


def test_opening_a_ready_call_records_who_and_when():
    staff = UserFactory(is_staff=True)
    call = ready_call()
    transition_call(call=call, to_status=CallStatus.OPEN, by=staff)
    call.refresh_from_db()
    assert call.status == CallStatus.OPEN
    row = CallTransition.objects.get(call=call)
    assert (row.from_status, row.to_status, row.by) == ("draft", "open", staff)


def test_opening_with_weights_not_summing_to_100_is_refused_and_changes_nothing():
    call = CallFactory()
    TrackFactory(call=call)
    CriterionFactory(call=call, weight=70)
    with pytest.raises(ValidationError) as raised:
        transition_call(call=call, to_status=CallStatus.OPEN)
    assert "actuellement 70" in " ".join(raised.value.messages)
    call.refresh_from_db()
    assert call.status == CallStatus.DRAFT
    assert not CallTransition.objects.exists()


def test_opening_without_track_is_refused():
    call = CallFactory()
    CriterionFactory(call=call, weight=100)
    with pytest.raises(ValidationError, match="aucun parcours"):
        transition_call(call=call, to_status=CallStatus.OPEN)


@pytest.mark.parametrize(
    ("start", "target"),
    [("draft", "announced"), ("open", "review"), ("announced", "open"), ("archived", "draft"), ("review", "open")],
)
def test_illegal_transitions_are_refused(start, target):
    call = ready_call(status=start)
    with pytest.raises(ValidationError, match="Passage impossible"):
        transition_call(call=call, to_status=target)
    call.refresh_from_db()
    assert call.status == start


def test_every_phase_is_reachable_in_order():
    call = ready_call()
    path = ["open", "closed", "eligibility", "review", "deliberation", "announced", "follow_up", "archived"]
    for status in path:
        transition_call(call=call, to_status=status)
    assert list(CallTransition.objects.filter(call=call).values_list("to_status", flat=True)) == path
    assert set(CALL_TRANSITIONS) == set(CallStatus)


def test_closing_date_before_opening_is_refused_by_the_database():
    call = CallFactory()
    call.closes_at = call.opens_at
    with pytest.raises(IntegrityError), transaction.atomic():
        call.save()
