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


# Call set-up by the staff: create, update, clone, tracks, criteria, eligibility questions.


def _fields(**overrides):
    from datetime import UTC, datetime

    fields = {
        "slug": "ami-ia-2026", "title": "AMI IA 2026", "reference_prefix": "AMI2026", "description": "Un appel.",
        "eligibility_text": "Les administrations.", "opens_at": datetime(2026, 4, 2, 7, tzinfo=UTC),
        "closes_at": datetime(2026, 5, 31, 21, 59, tzinfo=UTC),
    }
    fields.update(overrides)
    return fields


def test_create_call_makes_an_audited_draft():
    from ami.models import AuditEvent
    from ami.services import create_call

    staff = UserFactory(is_staff=True)
    call = create_call(by=staff, fields=_fields())
    assert (call.status, call.slug) == (CallStatus.DRAFT, "ami-ia-2026")
    event = AuditEvent.objects.get(action="call.create")
    assert (event.actor, event.call, event.after["title"]) == (staff, call, "AMI IA 2026")


def test_create_call_refuses_a_taken_slug_and_bad_dates():
    from ami.models import Call
    from ami.services import create_call

    CallFactory(slug="ami-ia-2026")
    with pytest.raises(ValidationError, match="existe déjà|utilise déjà"):
        create_call(by=None, fields=_fields())
    with pytest.raises(ValidationError, match="postérieure"):
        create_call(by=None, fields=_fields(slug="autre", closes_at=_fields()["opens_at"]))
    assert Call.objects.count() == 1


def test_update_call_records_only_what_changed():
    from ami.models import AuditEvent
    from ami.services import update_call

    call = CallFactory(title="Avant", max_file_mb=10)
    update_call(call=call, by=None, fields={"title": "Après", "max_file_mb": 10})
    event = AuditEvent.objects.get(action="call.update")
    assert (event.before, event.after) == ({"title": "Avant"}, {"title": "Après"})
    update_call(call=call, by=None, fields={"title": "Après"})  # nothing changed: no entry
    assert AuditEvent.objects.filter(action="call.update").count() == 1


@pytest.mark.parametrize(
    ("status", "field", "value"),
    [("open", "slug", "autre"), ("open", "reference_prefix", "AUTRE"), ("review", "score_scale_max", 4),
     ("review", "uses_pairs", True), ("announced", "title", "Réécrit")],
)
def test_update_call_refuses_fields_frozen_in_the_phase(status, field, value):
    from ami.services import update_call

    call = CallFactory(status=status, slug="appel", reference_prefix="AMI1", score_scale_max=5, title="Titre")
    with pytest.raises(ValidationError, match="ne sont plus modifiables"):
        update_call(call=call, by=None, fields={field: value})
    call.refresh_from_db()
    assert getattr(call, field) != value


def test_an_open_call_may_still_move_its_deadline():
    from datetime import timedelta

    from ami.services import update_call

    call = CallFactory(status=CallStatus.OPEN)
    later = call.closes_at + timedelta(days=7)
    update_call(call=call, by=None, fields={"closes_at": later})
    call.refresh_from_db()
    assert call.closes_at == later


def test_clone_call_copies_the_set_up_and_leaves_the_original_alone():
    from ami.models import AuditEvent, EligibilityQuestion
    from ami.services import clone_call

    original = ready_call(score_scale_max=4, max_file_mb=12, max_total_mb=40, uses_pairs=True, status="announced")
    original.criteria.update(rubric=["0", "1", "2", "3", "4"])
    EligibilityQuestion.objects.create(call=original, text="Porté par l'État ?", ineligible_answer=False, position=0)
    fields = _fields(slug="copie", title="Copie")
    clone = clone_call(call=original, by=None, slug="copie", title="Copie", opens_at=fields["opens_at"],
                       closes_at=fields["closes_at"])
    assert (clone.cloned_from, clone.status, clone.jury_date, clone.review_deadline) == (original, "draft", None, None)
    assert (clone.score_scale_max, clone.max_file_mb, clone.max_total_mb, clone.uses_pairs) == (4, 12, 40, True)
    assert list(clone.criteria.values_list("weight", "rubric")) == [(60, ["0", "1", "2", "3", "4"]),
                                                                      (40, ["0", "1", "2", "3", "4"])]
    assert [t.code for t in clone.tracks.all()] == [t.code for t in original.tracks.all()]
    assert list(clone.eligibility_questions.values_list("text", "ineligible_answer")) == [("Porté par l'État ?", False)]
    assert original.criteria.count() == 2 and original.tracks.count() == 1
    assert AuditEvent.objects.get(action="call.clone").call == clone


def test_clone_call_refuses_a_taken_slug():
    from ami.models import Call
    from ami.services import clone_call

    original = ready_call(slug="pris")
    with pytest.raises(ValidationError):
        clone_call(call=original, by=None, slug="pris", title="x", opens_at=original.opens_at,
                   closes_at=original.closes_at)
    assert Call.objects.count() == 1


def _criterion(title, weight, position, **extra):
    return {"id": None, "position": position, "title": title, "description": "", "weight": weight, "rubric": [],
            **extra}


def test_save_criteria_refuses_weights_not_summing_to_100_and_saves_nothing():
    from ami.models import AuditEvent, Criterion
    from ami.services import save_criteria

    call = ready_call()
    with pytest.raises(ValidationError, match=r"actuellement 90"):
        save_criteria(call=call, by=None, rows=[_criterion("A", 50, 0), _criterion("B", 40, 1)])
    assert list(Criterion.objects.filter(call=call).values_list("weight", flat=True)) == [60, 40]
    assert not AuditEvent.objects.filter(action="call.criteria").exists()


def test_save_criteria_reorders_without_tripping_unique_positions():
    from ami.services import save_criteria

    call = ready_call()
    first, second = call.criteria.all()
    rows = [_criterion(first.title, 60, 1, id=first.pk), _criterion(second.title, 40, 0, id=second.pk)]
    save_criteria(call=call, by=None, rows=rows)
    assert list(call.criteria.values_list("title", flat=True)) == [second.title, first.title]


def test_save_criteria_checks_rubrics_against_the_scale():
    from ami.services import save_criteria

    call = ready_call(score_scale_max=2)
    with pytest.raises(ValidationError, match="3 lignes"):
        save_criteria(call=call, by=None, rows=[_criterion("A", 100, 0, rubric=["a", "b"])])
    save_criteria(call=call, by=None, rows=[_criterion("A", 100, 0, rubric=["a", "b", "c"])])
    assert call.criteria.get().rubric == ["a", "b", "c"]


def test_criteria_are_frozen_from_review_on():
    from ami.services import save_criteria

    call = ready_call(status=CallStatus.REVIEW)
    with pytest.raises(ValidationError, match="figés"):
        save_criteria(call=call, by=None, rows=[_criterion("A", 100, 0)])
    assert call.criteria.count() == 2


def test_opening_needs_rubrics_that_match_the_scale():
    call = ready_call(score_scale_max=5)
    call.criteria.filter(position=0).update(rubric=["0", "1"])
    with pytest.raises(ValidationError, match="6 lignes"):
        transition_call(call=call, to_status=CallStatus.OPEN)


def _track(code, **extra):
    return {"id": None, "position": 0, "code": code, "name": code.title(), "description": "", "budget_eur": 1000,
            "max_laureates": 1, **extra}


def test_save_tracks_adds_updates_and_deletes():
    from ami.models import AuditEvent, Track
    from ami.services import save_tracks

    call = CallFactory()
    gone, kept = TrackFactory(call=call, code="gone"), TrackFactory(call=call, code="kept")
    save_tracks(call=call, by=None, rows=[_track("kept", id=kept.pk, budget_eur=5), _track("new", position=1)])
    assert list(Track.objects.filter(call=call).values_list("code", "budget_eur")) == [("kept", 5), ("new", 1000)]
    assert not Track.objects.filter(pk=gone.pk).exists()
    assert {row["code"] for row in AuditEvent.objects.get(action="call.tracks").before["tracks"]} == {"gone", "kept"}


def test_save_tracks_refuses_to_delete_a_requested_track():
    from ami.models import Track
    from ami.services import save_tracks
    from applications.models import Proposal
    from tests.applications.factories import ProposalFactory

    call = CallFactory()
    requested = TrackFactory(call=call, code="requested")
    ProposalFactory(call=call, requested_track=requested)
    with pytest.raises(ValidationError, match="demandé par des projets"):
        save_tracks(call=call, by=None, rows=[_track("other")])
    assert list(Track.objects.filter(call=call).values_list("code", flat=True)) == ["requested"]
    assert Proposal.objects.get().requested_track == requested


def test_save_tracks_refuses_rows_of_another_call():
    from ami.services import save_tracks

    other = TrackFactory(code="other")
    with pytest.raises(ValidationError, match="rechargez"):
        save_tracks(call=CallFactory(), by=None, rows=[_track("other", id=other.pk, name="Volé")])
    other.refresh_from_db()
    assert other.name != "Volé"


def test_tracks_are_frozen_from_deliberation_on():
    from ami.services import save_tracks

    call = CallFactory(status=CallStatus.DELIBERATION)
    with pytest.raises(ValidationError, match="figés"):
        save_tracks(call=call, by=None, rows=[_track("a")])
    assert not call.tracks.exists()


def test_eligibility_questions_are_frozen_once_a_proposal_exists():
    from ami.models import EligibilityQuestion
    from ami.services import save_eligibility_questions
    from tests.applications.factories import ProposalFactory

    call = CallFactory(status=CallStatus.OPEN)
    rows = [{"id": None, "position": 0, "text": "Porté par l'État ?", "help_text": "", "ineligible_answer": False}]
    save_eligibility_questions(call=call, by=None, rows=rows)
    assert EligibilityQuestion.objects.get().makes_ineligible(False)
    ProposalFactory(call=call)
    with pytest.raises(ValidationError, match="figées"):
        save_eligibility_questions(call=call, by=None, rows=[])
    assert EligibilityQuestion.objects.count() == 1


def test_a_phase_change_is_in_the_audit_trail():
    from ami.models import AuditEvent

    staff = UserFactory(is_staff=True)
    call = ready_call()
    transition_call(call=call, to_status=CallStatus.OPEN, by=staff)
    event = AuditEvent.objects.get(action="call.transition")
    assert (event.actor, event.before, event.after["status"]) == (staff, {"status": "draft"}, "open")
