"""run_assignment and move_assignment: coverage, balance, conflicts, pairs, re-runs, manual moves, audit."""

from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ami.models import AuditEvent, CallStatus
from applications.models import ProposalStatus
from jury.models import Review, ReviewStatus
from jury.services.assignment import assignment_overview, move_assignment, run_assignment
from tests.ami.factories import CallFactory, UserFactory
from tests.applications.factories import AdministrationFactory, MembershipFactory, ProposalFactory
from tests.jury.factories import ConflictFactory, JuryMemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return UserFactory(is_staff=True)


def make_call(**kwargs):
    return CallFactory(status=CallStatus.REVIEW, **kwargs)


def eligible(call, n, prefix="R", **kwargs):
    return [ProposalFactory(call=call, status=ProposalStatus.ELIGIBLE, reference=f"{prefix}-{i:03d}", **kwargs)
            for i in range(n)]


def loads(call):
    return Counter(Review.objects.filter(proposal__call=call).values_list("juror_id", flat=True))


def test_every_eligible_proposal_gets_k_distinct_reviewers_with_balanced_loads(staff):
    call = make_call(reviews_per_proposal=2)
    proposals = eligible(call, 7)
    ProposalFactory(call=call, status=ProposalStatus.SUBMITTED)  # not eligible: not assigned
    jurors = [JuryMemberFactory(call=call) for _ in range(4)]

    summary = run_assignment(call=call, by=staff)

    per_proposal = Counter(Review.objects.values_list("proposal_id", flat=True))
    assert per_proposal == {p.pk: 2 for p in proposals}
    counts = loads(call)
    assert set(counts) == {j.pk for j in jurors}
    assert max(counts.values()) - min(counts.values()) <= 1
    assert (summary.created, summary.removed, summary.kept, summary.uncovered) == (14, 0, 0, {})
    review = Review.objects.first()
    assert (review.status, review.assigned_by, review.assigned_manually) == (ReviewStatus.ASSIGNED, staff, False)
    assert review.assigned_at is not None
    actions = Counter(AuditEvent.objects.values_list("action", flat=True))
    assert actions == {"assignment.review_created": 14, "assignment.run": 1}
    run = AuditEvent.objects.get(action="assignment.run")
    assert (run.after["created"], run.after["imbalance"], run.after["coverage"], run.actor) == (14, 1, 1.0, staff)


def test_conflicted_jurors_are_never_assigned(staff):
    call = make_call(reviews_per_proposal=1)
    administration = AdministrationFactory()
    own = eligible(call, 1, prefix="OWN", administration=administration)[0]
    others = eligible(call, 3)
    insider, declared, outsider = (JuryMemberFactory(call=call) for _ in range(3))
    MembershipFactory(user=insider.user, administration=administration)
    ConflictFactory(juror=declared, proposal=own)

    run_assignment(call=call, by=staff)

    assert list(Review.objects.filter(proposal=own).values_list("juror", flat=True)) == [outsider.pk]
    assert Review.objects.filter(proposal__in=others).count() == 3


def test_pairs_are_one_reviewing_unit(staff):
    call = make_call(reviews_per_proposal=1, uses_pairs=True)
    proposals = eligible(call, 4)
    pair_a = [JuryMemberFactory(call=call, pair_label="B1") for _ in range(2)]
    pair_b = [JuryMemberFactory(call=call, pair_label="B2") for _ in range(2)]

    run_assignment(call=call, by=staff)

    for proposal in proposals:
        readers = set(Review.objects.filter(proposal=proposal).values_list("juror", flat=True))
        assert readers in ({j.pk for j in pair_a}, {j.pk for j in pair_b})
    assert Counter(loads(call).values()) == {2: 4}  # every juror reads 2 of the 4 proposals


def test_a_pair_is_conflicted_when_one_member_is(staff):
    call = make_call(reviews_per_proposal=1, uses_pairs=True)
    proposal = eligible(call, 1)[0]
    conflicted, partner = (JuryMemberFactory(call=call, pair_label="B1") for _ in range(2))
    ConflictFactory(juror=conflicted, proposal=proposal)
    other_pair = [JuryMemberFactory(call=call, pair_label="B2") for _ in range(2)]
    run_assignment(call=call, by=staff)
    assert set(Review.objects.values_list("juror", flat=True)) == {j.pk for j in other_pair}


def test_rerun_keeps_started_reviews_and_changes_nothing_when_nothing_changed(staff):
    call = make_call(reviews_per_proposal=2)
    eligible(call, 6)
    [JuryMemberFactory(call=call) for _ in range(4)]
    run_assignment(call=call, by=staff)
    started = list(Review.objects.order_by("id")[:3])
    for review, status in zip(started, [ReviewStatus.DRAFT, ReviewStatus.SUBMITTED, ReviewStatus.DRAFT], strict=True):
        review.status = status
        review.save()
    before = set(Review.objects.values_list("proposal_id", "juror_id"))

    summary = run_assignment(call=call, by=staff)

    assert (summary.created, summary.removed) == (0, 0)
    assert set(Review.objects.values_list("proposal_id", "juror_id")) == before
    # A new juror: only reviews not started may move to them.
    newcomer = JuryMemberFactory(call=call)
    summary = run_assignment(call=call, by=staff)
    assert summary.created == summary.removed > 0
    for review in started:
        assert Review.objects.get(pk=review.pk).status == review.status
    assert Review.objects.filter(juror=newcomer).exclude(status=ReviewStatus.ASSIGNED).count() == 0
    counts = loads(call)
    assert max(counts.values()) - min(counts.values()) <= 1
    assert AuditEvent.objects.filter(action="assignment.review_removed").count() == summary.removed


def test_maximum_loads_and_the_exact_reason_of_each_uncovered_proposal(staff):
    call = make_call(reviews_per_proposal=2)
    proposals = eligible(call, 4)
    JuryMemberFactory(call=call, max_load=1)
    JuryMemberFactory(call=call, max_load=2)
    JuryMemberFactory(call=call, max_load=2)

    summary = run_assignment(call=call, by=staff)

    assert max(loads(call).values()) <= 2
    assert Review.objects.count() == 5
    assert len(summary.uncovered) == 2
    assert set(summary.uncovered.values()) == {
        "Tous les évaluateurs sans conflit d'intérêts ont atteint leur charge maximale."}
    overview = assignment_overview(call=call)
    assert {line.proposal for line in overview.uncovered} == set(summary.uncovered)
    assert {line.reason for line in overview.uncovered} == set(summary.uncovered.values())
    assert {p.pk for p in proposals} >= {line.proposal.pk for line in overview.uncovered}


def test_not_enough_non_conflicted_reviewers_is_explained(staff):
    call = make_call(reviews_per_proposal=2)
    administration = AdministrationFactory()
    proposal = eligible(call, 1, administration=administration)[0]
    insider, _outsider = JuryMemberFactory(call=call), JuryMemberFactory(call=call)
    MembershipFactory(user=insider.user, administration=administration)
    summary = run_assignment(call=call, by=staff)
    assert summary.uncovered == {proposal: "Pas assez d'évaluateurs sans conflit d'intérêts pour 2 évaluations."}
    [line] = assignment_overview(call=call).uncovered
    assert line.reason == "Seulement 1 évaluateur sans conflit d'intérêts pour 2 évaluations demandées."


def test_expertise_is_matched_when_loads_allow(staff):
    call = make_call(reviews_per_proposal=1)
    nlp = eligible(call, 1, expertise_tags=["NLP"])[0]
    vision = ProposalFactory(call=call, status=ProposalStatus.ELIGIBLE, reference="V-1",
                             expertise_tags=["Vision par ordinateur"])
    linguist = JuryMemberFactory(call=call, expertise=["nlp", "justice"])
    photographer = JuryMemberFactory(call=call, expertise=["vision par ordinateur"])
    for seed in range(5):
        Review.objects.all().delete()
        run_assignment(call=call, by=staff, seed=seed)
        assert Review.objects.get(proposal=nlp).juror == linguist
        assert Review.objects.get(proposal=vision).juror == photographer


def test_refused_outside_the_assignable_phases_or_without_jury(staff):
    call = CallFactory(status=CallStatus.DELIBERATION)
    eligible(call, 2)
    JuryMemberFactory(call=call)
    with pytest.raises(ValidationError, match="L'affectation n'est possible que"):
        run_assignment(call=call, by=staff)
    empty = make_call()
    eligible(empty, 2)
    with pytest.raises(ValidationError, match="aucun membre"):
        run_assignment(call=empty, by=staff)
    assert not Review.objects.exists() and not AuditEvent.objects.exists()


# Moves


@pytest.fixture
def assigned(staff):
    call = make_call(reviews_per_proposal=1)
    proposal = eligible(call, 1)[0]
    source, target = JuryMemberFactory(call=call), JuryMemberFactory(call=call)
    review = Review.objects.create(proposal=proposal, juror=source)
    return call, review, source, target


def test_move_assignment_moves_and_audits(assigned, staff):
    call, review, source, target = assigned
    move_assignment(review=review, to_juror=target, by=staff)
    moved = Review.objects.get()
    assert (moved.juror, moved.assigned_manually, moved.assigned_by) == (target, True, staff)
    event = AuditEvent.objects.get(action="assignment.moved")
    assert (event.before["jurors"], event.after["jurors"]) == ([source.user.email], [target.user.email])


@pytest.mark.parametrize("problem", ["conflict", "duplicate", "started", "other_call"])
def test_bad_moves_are_refused_and_change_nothing(assigned, staff, problem):
    call, review, source, target = assigned
    messages = {
        "conflict": "a un conflit d'intérêts avec ce projet",
        "duplicate": "évalue déjà ce projet",
        "started": "déjà commencée",
        "other_call": "ne fait pas partie du jury de cet appel",
    }
    if problem == "conflict":
        ConflictFactory(juror=target, proposal=review.proposal)
    elif problem == "duplicate":
        Review.objects.create(proposal=review.proposal, juror=target)
    elif problem == "started":
        Review.objects.filter(pk=review.pk).update(status=ReviewStatus.DRAFT)
    else:
        target = JuryMemberFactory()
    before = set(Review.objects.values_list("pk", "juror_id", "status"))
    with pytest.raises(ValidationError, match=messages[problem]):
        move_assignment(review=review, to_juror=target, by=staff)
    assert set(Review.objects.values_list("pk", "juror_id", "status")) == before
    assert not AuditEvent.objects.filter(action="assignment.moved").exists()


def test_moving_a_pair_moves_both_members(staff):
    call = make_call(reviews_per_proposal=1, uses_pairs=True)
    proposal = eligible(call, 1)[0]
    pair_a = [JuryMemberFactory(call=call, pair_label="B1") for _ in range(2)]
    pair_b = [JuryMemberFactory(call=call, pair_label="B2") for _ in range(2)]
    first = Review.objects.create(proposal=proposal, juror=pair_a[0])
    Review.objects.create(proposal=proposal, juror=pair_a[1])
    move_assignment(review=first, to_juror=pair_b[1], by=staff)
    assert set(Review.objects.values_list("juror", flat=True)) == {j.pk for j in pair_b}


# Property: random small instances through the service


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_proposals=st.integers(1, 8),
    n_jurors=st.integers(1, 6),
    k=st.integers(1, 3),
    memberships=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3)), max_size=4, unique=True),
    seed=st.integers(0, 1000),
)
def test_property_coverage_balance_and_no_conflicts(n_proposals, n_jurors, k, memberships, seed):
    """Any instance: no conflicted review; every proposal covered or explained; balance ≤ 1 when nothing limits it."""
    with transaction.atomic():  # each example rolls back: examples share the test's database transaction
        staff = UserFactory(is_staff=True)
        call = make_call(reviews_per_proposal=k)
        administrations = [AdministrationFactory() for _ in range(4)]
        proposals = [ProposalFactory(call=call, status=ProposalStatus.ELIGIBLE, reference=f"H-{i}",
                                     administration=administrations[i % 4]) for i in range(n_proposals)]
        jurors = [JuryMemberFactory(call=call) for _ in range(n_jurors)]
        for juror_index, administration_index in memberships:
            if juror_index < n_jurors:
                MembershipFactory(user=jurors[juror_index].user, administration=administrations[administration_index])

        summary = run_assignment(call=call, by=staff, seed=seed)

        reviews = Review.objects.filter(proposal__call=call)
        assert reviews.count() == reviews.without_conflicts().count()
        per_proposal = Counter(reviews.values_list("proposal_id", flat=True))
        for proposal in proposals:
            assert per_proposal[proposal.pk] == k or proposal in summary.uncovered
            assert per_proposal[proposal.pk] <= k
        if not memberships:
            counts = [loads(call).get(j.pk, 0) for j in jurors]
            assert max(counts) - min(counts) <= 1
            assert (not summary.uncovered) == (n_jurors >= k)
        transaction.set_rollback(True)
