"""The proposal form's steps: which fields each one edits, the support rules, the eligibility answers."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ami.models import CallStatus, EligibilityQuestion
from applications.forms import (
    ATTACHMENTS_STEP,
    FORM_STEPS,
    STEP_TITLES,
    AttachmentForm,
    ProposalDraftForm,
    step_of_field,
)
from applications.services import DRAFT_FIELDS
from tests.ami.factories import CallFactory, TrackFactory
from tests.applications.factories import ProposalFactory

pytestmark = pytest.mark.django_db


def test_the_eight_sections_cover_every_draft_field_once_then_the_attachments():
    assert [str(step.title) for step in FORM_STEPS] == [
        "Identité et contacts", "Le problème et les personnes concernées", "Les données",
        "L'approche par l'intelligence artificielle", "L'équipe et la gouvernance",
        "Les bénéfices attendus et leur mesure", "L'accompagnement demandé", "Les questions de recevabilité"]
    fields = [name for step in FORM_STEPS for name in step.fields]
    assert sorted(fields) == sorted(DRAFT_FIELDS) and len(fields) == len(set(fields))
    assert (ATTACHMENTS_STEP, str(STEP_TITLES[ATTACHMENTS_STEP])) == (9, "Les pièces jointes")
    assert (step_of_field("problem"), step_of_field("requested_amount_eur"), step_of_field("eligibility_answers"),
            step_of_field("unknown")) == (2, 7, 8, 1)


@pytest.fixture
def proposal():
    call = CallFactory(status=CallStatus.OPEN)
    return ProposalFactory(call=call, requested_track=TrackFactory(call=call, name="Scientifique", budget_eur=500_000))


def support_form(proposal, **data):
    return ProposalDraftForm({"version": 1, **data}, instance=proposal,
                             fields=("requested_track", "requested_amount_eur"))


def test_a_step_form_holds_only_its_fields_and_saves_only_them(proposal):
    form = ProposalDraftForm({"version": 1, "problem": "Le problème", "title": "Ignoré"}, instance=proposal,
                             fields=("problem",))
    assert list(form.fields) == ["version", "problem"]
    assert form.is_valid(), form.errors
    assert form.draft_data() == {"problem": "Le problème"}


def test_the_amount_is_checked_against_the_chosen_track(proposal):
    big = TrackFactory(call=proposal.call, budget_eur=3_500_000)
    assert support_form(proposal, requested_track=big.pk, requested_amount_eur="3500000").is_valid()
    form = support_form(proposal, requested_track=proposal.requested_track_id, requested_amount_eur="500001")
    assert not form.is_valid()
    assert form.errors["requested_amount_eur"] == [
        "Le montant demandé (500\u00a0001 €) dépasse l'enveloppe du parcours « Scientifique » (500\u00a0000 €) : "
        "indiquez un montant inférieur ou égal à l'enveloppe."]


def test_an_amount_posted_alone_is_checked_against_the_saved_track(proposal):
    form = ProposalDraftForm({"version": 1, "requested_amount_eur": "600000"}, instance=proposal,
                             fields=("requested_amount_eur",))
    assert not form.is_valid() and "dépasse l'enveloppe" in form.errors["requested_amount_eur"][0]


def test_without_a_track_any_positive_amount_is_kept_for_later(proposal):
    assert support_form(proposal, requested_track="", requested_amount_eur="9000000").is_valid()


@pytest.fixture
def questions(proposal):
    return [EligibilityQuestion.objects.create(call=proposal.call, position=n, text=f"Question {n} ?",
                                               ineligible_answer=bool(n)) for n in range(3)]


def test_eligibility_answers_become_booleans_merged_into_the_saved_ones(proposal, questions):
    first, second, third = questions
    proposal.eligibility_answers = {str(first.pk): True, str(third.pk): False}
    form = ProposalDraftForm({"version": 1, f"eligibility_{first.pk}": "false", f"eligibility_{second.pk}": "true"},
                             instance=proposal, fields=("eligibility_answers",), questions=questions)
    assert form.is_valid(), form.errors
    assert form.draft_data() == {"eligibility_answers": {
        str(first.pk): False, str(second.pk): True, str(third.pk): False}}
    assert proposal.eligibility_answers == {str(first.pk): True, str(third.pk): False}  # not mutated


def test_an_eligibility_answer_is_yes_or_no(proposal, questions):
    form = ProposalDraftForm({"version": 1, f"eligibility_{questions[0].pk}": "peut-être"}, instance=proposal,
                             fields=("eligibility_answers",), questions=questions)
    assert not form.is_valid()
    assert "Sélectionnez un choix valide" in form.errors[f"eligibility_{questions[0].pk}"][0]


def test_saved_answers_are_shown_checked(proposal, questions):
    proposal.eligibility_answers = {str(questions[1].pk): True}
    form = ProposalDraftForm(instance=proposal, fields=("eligibility_answers",), questions=questions)
    assert form.fields[f"eligibility_{questions[1].pk}"].initial == "true"
    assert form.fields[f"eligibility_{questions[0].pk}"].initial is None
    assert (form.answer(questions[1]), form.answer(questions[0])) == (True, None)


def test_the_attachment_form_states_the_calls_limits():
    call = CallFactory(max_file_mb=5, max_total_mb=12)
    form = AttachmentForm(call=call, submit="Joindre", form_id="f")
    assert form.fields["file"].help_text == (
        "Format PDF uniquement. Taille maximale : 5 Mo par fichier, 12 Mo pour l'ensemble des pièces du projet.")
    assert form.fields["file"].widget.attrs["accept"] == "application/pdf,.pdf"
    empty = AttachmentForm({}, {"file": SimpleUploadedFile("vide.pdf", b"")}, call=call, submit="J", form_id="f")
    assert empty.is_valid()  # an empty file reaches the service, which says why it refuses it
    missing = AttachmentForm({}, {}, call=call, submit="J", form_id="f")
    assert missing.errors["file"] == ["Choisissez un fichier PDF à joindre."]
