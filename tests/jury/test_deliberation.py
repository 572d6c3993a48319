"""Deliberation services: decisions and their reasons, the optimal proposal, what-if runs, caps, the lock."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from ami.audit import verify
from ami.models import AuditEvent, CallStatus
from applications.models import ProposalStatus
from jury.algorithms.selection import Envelope
from jury.models import Decision, Deliberation, JuryRole, Outcome, RankBy
from jury.services import deliberation as services
from jury.services.ranking import rank_call
from tests.ami.factories import CallFactory, CriterionFactory, TrackFactory, UserFactory
from tests.applications.factories import AdministrationFactory
from tests.jury.factories import JuryMemberFactory, scored_proposal

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    """One track of 300 000 € for 2 laureates; A-1 (100 points, 250 000 €) alone fills it, while A-2 and A-3
    (80 points, 100 000 € each) fit together: the optimal selection keeps A-2 and A-3."""
    call = CallFactory(status=CallStatus.REVIEW, score_scale_max=5)
    CriterionFactory(call=call, weight=100)
    track = TrackFactory(call=call, name="Technique et métier", budget_eur=300_000, max_laureates=2)
    chair = JuryMemberFactory(call=call, role=JuryRole.CHAIR)
    member = JuryMemberFactory(call=call)
    proposals = {
        "A-1": scored_proposal(call=call, track=track, reference="A-1", amount=250_000, marks=[(member, [5])]),
        "A-2": scored_proposal(call=call, track=track, reference="A-2", amount=100_000, marks=[(member, [4])]),
        "A-3": scored_proposal(call=call, track=track, reference="A-3", amount=100_000, marks=[(member, [4])]),
    }
    return {"call": call, "track": track, "chair": chair.user, "member": member.user, "staff": UserFactory(
        is_staff=True), "p": proposals}


def outcomes(call):
    return dict(Decision.objects.filter(proposal__call=call).values_list("proposal__reference", "outcome"))


def test_chair_decides_with_reason_and_audit(setup):
    call, proposal = setup["call"], setup["p"]["A-2"]
    decision = services.decide(call=call, proposal=proposal, by=setup["chair"], outcome=Outcome.LAUREATE,
                               track=setup["track"], granted_amount_eur=90_000, reason="Projet mûr.")
    assert (decision.outcome, decision.granted_amount_eur, decision.score, decision.rank) == (
        Outcome.LAUREATE, 90_000, 80, 2)
    event = AuditEvent.objects.get(action="decision.set")
    assert event.before == {}
    assert event.after["outcome"] == "laureate" and event.after["reason"] == "Projet mûr."
    assert event.actor == setup["chair"] and event.call == call
    services.decide(call=call, proposal=proposal, by=setup["staff"], outcome=Outcome.WAITING_LIST,
                    reason="Finalement en attente.")
    second = AuditEvent.objects.filter(action="decision.set").last()
    assert (second.before["outcome"], second.after["outcome"]) == ("laureate", "waiting_list")
    assert second.after["granted_amount_eur"] is None
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.ELIGIBLE  # provisional until the lock
    assert verify()[0]


@pytest.mark.parametrize("who", ["member", "outsider"])
def test_only_the_chair_or_staff_decide(setup, who):
    user = setup["member"] if who == "member" else UserFactory()
    with pytest.raises(PermissionDenied, match="Seul le président du jury"):
        services.decide(call=setup["call"], proposal=setup["p"]["A-1"], by=user, outcome=Outcome.NOT_SELECTED,
                        reason="Non.")
    assert not Decision.objects.exists() and not AuditEvent.objects.filter(action="decision.set").exists()


def test_decision_needs_a_reason_and_laureate_fields(setup):
    call, proposal, chair = setup["call"], setup["p"]["A-1"], setup["chair"]
    with pytest.raises(ValidationError, match="motif de la décision"):
        services.decide(call=call, proposal=proposal, by=chair, outcome=Outcome.NOT_SELECTED, reason="  ")
    with pytest.raises(ValidationError, match="parcours de cet appel et un montant"):
        services.decide(call=call, proposal=proposal, by=chair, outcome=Outcome.LAUREATE, reason="Oui.")
    assert not Decision.objects.exists()


def test_decisions_only_during_review_or_deliberation(setup):
    call = setup["call"]
    call.status = CallStatus.ELIGIBILITY
    call.save()
    with pytest.raises(ValidationError, match="phases"):
        services.decide(call=call, proposal=setup["p"]["A-1"], by=setup["chair"], outcome=Outcome.NOT_SELECTED,
                        reason="Non.")


def test_laureate_beyond_the_envelope_needs_an_override_reason(setup):
    call, track, chair, p = setup["call"], setup["track"], setup["chair"], setup["p"]
    services.decide(call=call, proposal=p["A-1"], by=chair, outcome=Outcome.LAUREATE, track=track,
                    granted_amount_eur=250_000, reason="Premier.")
    with pytest.raises(ValidationError) as refused:
        services.decide(call=call, proposal=p["A-2"], by=chair, outcome=Outcome.LAUREATE, track=track,
                        granted_amount_eur=100_000, reason="Deuxième.")
    assert refused.value.messages == [
        "Décision refusée : le total des lauréats du parcours « Technique et métier » atteindrait 350 000 € pour "
        "une enveloppe de 300 000 €. Pour passer outre, indiquez le motif de la dérogation."]
    assert outcomes(call) == {"A-1": Outcome.LAUREATE}
    decision = services.decide(call=call, proposal=p["A-2"], by=chair, outcome=Outcome.LAUREATE, track=track,
                               granted_amount_eur=100_000, reason="Deuxième.",
                               override_reason="Cofinancement de la DITP confirmé en séance.")
    assert decision.override_reason == "Cofinancement de la DITP confirmé en séance."
    with pytest.raises(ValidationError, match="compterait 3 lauréats pour 2 au plus"):
        services.decide(call=call, proposal=p["A-3"], by=chair, outcome=Outcome.LAUREATE, track=track,
                        granted_amount_eur=1, reason="Troisième.")


def test_apply_optimal_fills_provisional_decisions_in_one_click(setup):
    call = setup["call"]
    changed = services.apply_optimal(call=call, by=setup["chair"])
    assert changed == 3
    assert outcomes(call) == {"A-1": Outcome.WAITING_LIST, "A-2": Outcome.LAUREATE, "A-3": Outcome.LAUREATE}
    laureate = Decision.objects.get(proposal=setup["p"]["A-2"])
    assert (laureate.granted_amount_eur, laureate.track, laureate.reason) == (
        100_000, setup["track"], "Classé 2 sur 3 dans le parcours ; retenu dans l'enveloppe.")
    assert AuditEvent.objects.filter(action="decision.set").count() == 3
    assert services.apply_optimal(call=call, by=setup["chair"]) == 0  # nothing changed, nothing audited
    assert AuditEvent.objects.filter(action="decision.set").count() == 3
    setup["p"]["A-1"].refresh_from_db()
    assert setup["p"]["A-1"].status == ProposalStatus.ELIGIBLE


def test_optimal_beside_plain_rank_order_with_one_sentence_each(setup):
    call, track = setup["call"], setup["track"]
    ranking = rank_call(call)
    outcome = services.run_selection(ranking, tracks=[track], caps={})
    p = setup["p"]
    assert outcome.selected == {p["A-2"].pk, p["A-3"].pk} and outcome.plain == {p["A-1"].pk}
    assert (outcome.total_score, outcome.plain_score) == (160, 100)
    sentences = [d.sentence for d in outcome.differences]
    assert sentences[0].startswith("« ") and "(rang 1, 250 000 €) cède sa place" in sentences[0]
    assert "est retenu : son montant tient dans l'enveloppe restante" in sentences[1]
    assert len(sentences) == 3
    assert outcome.waiting == {track.pk: [p["A-1"].pk]}


def test_what_if_changes_nothing_and_infeasible_is_said_plainly(setup):
    call, track, p = setup["call"], setup["track"], setup["p"]
    services.apply_optimal(call=call, by=setup["chair"])
    before = outcomes(call)
    ranking = rank_call(call)
    bigger = services.run_selection(ranking, tracks=[track], caps={},
                                    envelopes={track.pk: Envelope(budget=450_000, max_count=3)})
    assert bigger.selected == {p["A-1"].pk, p["A-2"].pk, p["A-3"].pk}
    forced = services.run_selection(ranking, tracks=[track], caps={}, forced_in={p["A-1"].pk},
                                    forced_out={p["A-3"].pk})
    assert forced.selected == {p["A-1"].pk}
    impossible = services.run_selection(ranking, tracks=[track], caps={}, forced_in={p["A-1"].pk, p["A-2"].pk})
    assert not impossible.feasible
    assert impossible.problems == [
        "Les projets imposés dépassent à eux seuls l'enveloppe du parcours « Technique et métier » : "
        "350 000 € demandés pour 300 000 €."]
    assert outcomes(call) == before


def test_caps_per_administration_and_ministry(setup):
    call, track, chair = setup["call"], setup["track"], setup["chair"]
    track.budget_eur, track.max_laureates = 10_000_000, 10
    track.save()
    juror = JuryMemberFactory(call=call)
    health = AdministrationFactory(ministry="Santé")
    scored_proposal(call=call, track=track, reference="S-1", administration=health, marks=[(juror, [5])])
    scored_proposal(call=call, track=track, reference="S-2", administration=health, marks=[(juror, [5])])
    services.save_settings(call=call, by=chair, rank_by=RankBy.RAW, administration_cap=1, ministry_cap=None)
    deliberation = Deliberation.objects.get(call=call)
    selection = services.run_selection(rank_call(call), tracks=[track], caps=services.caps_of(deliberation))
    refs = {rank_call(call).rows[pk].reference for pk in selection.selected}
    assert len(refs & {"S-1", "S-2"}) == 1
    assert selection.differences == []  # plain rank order honours the caps too; a tie is not a difference
    uncapped = services.run_selection(rank_call(call), tracks=[track], caps={})
    assert {rank_call(call).rows[pk].reference for pk in uncapped.selected} >= {"S-1", "S-2"}
    event = AuditEvent.objects.get(action="deliberation.settings")
    assert event.after == {"rank_by": "raw", "administration_cap": 1, "ministry_cap": None}
    impossible = services.run_selection(rank_call(call), tracks=[track], caps={"ministry": 1},
                                        forced_in={pk for pk, row in rank_call(call).rows.items()
                                                   if row.reference.startswith("S-")})
    assert impossible.problems == ["2 projets du ministère « Santé » sont imposés, mais le plafond est de 1 "
                                   "lauréat(s) par ministère."]


def test_lock_refused_while_proposals_are_undecided(setup):
    call, chair = setup["call"], setup["chair"]
    services.decide(call=call, proposal=setup["p"]["A-1"], by=chair, outcome=Outcome.NOT_SELECTED, reason="Non.")
    with pytest.raises(ValidationError) as refused:
        services.lock_decisions(call=call, by=chair)
    assert refused.value.messages == ["2 projets n'ont pas encore de décision : A-2, A-3."]
    assert not Deliberation.objects.get(call=call).is_locked
    assert not AuditEvent.objects.filter(action="deliberation.lock").exists()


def test_lock_refused_beyond_the_envelope_without_override(setup):
    call, chair, track, p = setup["call"], setup["chair"], setup["track"], setup["p"]
    services.apply_optimal(call=call, by=chair)
    # Staff shrink the envelope after the decisions (as an edit outside the deliberation would).
    track.budget_eur = 150_000
    track.save()
    with pytest.raises(ValidationError, match="dépasse son enveloppe .* sans motif de dérogation"):
        services.lock_decisions(call=call, by=chair)
    services.decide(call=call, proposal=p["A-2"], by=chair, outcome=Outcome.LAUREATE, track=track,
                    granted_amount_eur=100_000, reason="Retenu.", override_reason="Enveloppe complétée par la DITP.")
    services.lock_decisions(call=call, by=chair)
    assert Deliberation.objects.get(call=call).is_locked


def test_member_cannot_lock(setup):
    services.apply_optimal(call=setup["call"], by=setup["chair"])
    with pytest.raises(PermissionDenied):
        services.lock_decisions(call=setup["call"], by=setup["member"])


@pytest.mark.parametrize(("start", "end"), [(CallStatus.REVIEW, CallStatus.DELIBERATION),
                                            (CallStatus.DELIBERATION, CallStatus.DELIBERATION)])
def test_lock_moves_proposals_and_the_call_on(setup, start, end):
    call, chair, p = setup["call"], setup["chair"], setup["p"]
    call.status = start
    call.save()
    services.apply_optimal(call=call, by=chair)
    deliberation = services.lock_decisions(call=call, by=chair)
    assert deliberation.locked_by == chair and deliberation.locked_at is not None
    call.refresh_from_db()
    assert call.status == end
    for proposal in p.values():
        proposal.refresh_from_db()
    assert [p[r].status for r in ("A-1", "A-2", "A-3")] == [
        ProposalStatus.WAITING_LIST, ProposalStatus.LAUREATE, ProposalStatus.LAUREATE]
    assert p["A-2"].transitions.get().by == chair
    event = AuditEvent.objects.get(action="deliberation.lock")
    assert event.after["call_status"] == end and event.after["decisions"] == 3
    with pytest.raises(ValidationError, match="déjà arrêtées"):
        services.lock_decisions(call=call, by=chair)


def test_after_the_lock_only_staff_with_a_reason(setup):
    call, chair, staff, track, p = setup["call"], setup["chair"], setup["staff"], setup["track"], setup["p"]
    services.apply_optimal(call=call, by=chair)
    services.lock_decisions(call=call, by=chair)
    call.refresh_from_db()
    with pytest.raises(PermissionDenied, match="seule l'équipe du programme"):
        services.decide(call=call, proposal=p["A-3"], by=chair, outcome=Outcome.NOT_SELECTED, reason="Retrait.")
    with pytest.raises(ValidationError, match="indiquez le motif de cette modification"):
        services.decide(call=call, proposal=p["A-3"], by=staff, outcome=Outcome.NOT_SELECTED, reason="Retrait.")
    with pytest.raises(ValidationError, match="ne peut plus être appliquée"):
        services.apply_optimal(call=call, by=staff)
    with pytest.raises(ValidationError, match="ne peut plus changer"):
        services.save_settings(call=call, by=staff, rank_by=RankBy.RAW)
    assert outcomes(call)["A-3"] == Outcome.LAUREATE
    services.decide(call=call, proposal=p["A-3"], by=staff, outcome=Outcome.NOT_SELECTED,
                    reason="Le porteur a renoncé.", change_reason="Courrier du porteur du 10 juillet.")
    p["A-3"].refresh_from_db()
    assert p["A-3"].status == ProposalStatus.NOT_SELECTED
    event = AuditEvent.objects.filter(action="decision.set").last()
    assert event.before["outcome"] == "laureate"
    assert event.after["outcome"] == "not_selected"
    assert event.after["change_reason"] == "Courrier du porteur du 10 juillet."
    assert event.actor == staff
    assert track.pk == Decision.objects.get(proposal=p["A-2"]).track_id


def test_minutes_saved_with_audit(setup):
    call, chair = setup["call"], setup["chair"]
    members = list(call.jury_members.all())
    services.save_minutes(call=call, by=chair, held_on=None, present_members=members, minutes="Séance ouverte à 9 h.")
    deliberation = Deliberation.objects.get(call=call)
    assert set(deliberation.present_members.all()) == set(members)
    assert AuditEvent.objects.get(action="deliberation.minutes").after["minutes"] == "Séance ouverte à 9 h."
    other = JuryMemberFactory()
    with pytest.raises(ValidationError):
        services.save_minutes(call=call, by=chair, held_on=None, present_members=[other], minutes="")
    with pytest.raises(PermissionDenied):
        services.save_minutes(call=call, by=setup["member"], held_on=None, present_members=[], minutes="x")


def test_decide_call_applies_and_locks_without_moving_the_call(setup):
    from jury.services import decide_call

    call = setup["call"]
    decide_call(call=call, by=setup["chair"])
    call.refresh_from_db()
    assert call.status == CallStatus.REVIEW
    assert Deliberation.objects.get(call=call).is_locked
    assert outcomes(call) == {"A-1": Outcome.WAITING_LIST, "A-2": Outcome.LAUREATE, "A-3": Outcome.LAUREATE}
    assert verify()[0]
