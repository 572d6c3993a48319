"""decide_call: every scored eligible proposal gets a decision, laureates chosen by the optimiser."""

import pytest

from applications.models import ProposalStatus
from jury.models import Decision, Outcome
from jury.services import decide_call
from tests.ami.factories import CriterionFactory, TrackFactory, UserFactory
from tests.applications.factories import ProposalFactory
from tests.jury.factories import JuryMemberFactory, ReviewFactory, ScoreFactory

pytestmark = pytest.mark.django_db


def scored(call, track, reference, amount, note, juror):
    proposal = ProposalFactory(call=call, reference=reference, requested_track=track, requested_amount_eur=amount,
                               status=ProposalStatus.ELIGIBLE)
    review = ReviewFactory(proposal=proposal, juror=juror)
    ScoreFactory(review=review, criterion=call.criteria.get(), value=note)
    return proposal


def test_optimal_selection_beats_plain_rank_order_and_records_reasons():
    track = TrackFactory(budget_eur=300_000, max_laureates=2)
    call = track.call
    CriterionFactory(call=call, weight=100)
    juror = JuryMemberFactory(call=call)
    expensive = scored(call, track, "A-1", 250_000, 5, juror)  # 100 points, alone fills the envelope
    cheap_1 = scored(call, track, "A-2", 100_000, 4, juror)  # 80
    cheap_2 = scored(call, track, "A-3", 100_000, 4, juror)  # 80: 160 together beat 100
    chair = UserFactory()
    decide_call(call=call, by=chair)
    outcomes = dict(Decision.objects.values_list("proposal__reference", "outcome"))
    assert outcomes == {"A-1": Outcome.WAITING_LIST, "A-2": Outcome.LAUREATE, "A-3": Outcome.LAUREATE}
    laureate = Decision.objects.get(proposal=cheap_1)
    assert (laureate.granted_amount_eur, laureate.track, laureate.score, laureate.rank) == (100_000, track, 80, 2)
    assert laureate.reason == "Classé 2 sur 3 dans le parcours ; retenu dans l'enveloppe."
    expensive.refresh_from_db()
    cheap_2.refresh_from_db()
    assert (expensive.status, cheap_2.status) == (ProposalStatus.WAITING_LIST, ProposalStatus.LAUREATE)
    assert expensive.transitions.get().by == chair
