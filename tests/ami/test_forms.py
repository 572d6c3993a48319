"""The call form and the criteria formset refuse bad input before anything is saved."""

import pytest
from django.forms import inlineformset_factory

from ami.forms import CallAdminForm, CriterionInlineFormSet
from ami.models import Call, Criterion
from tests.ami.factories import CallFactory

pytestmark = pytest.mark.django_db


def formset_data(weights):
    data = {"criteria-TOTAL_FORMS": str(len(weights)), "criteria-INITIAL_FORMS": "0"}
    for index, weight in enumerate(weights):
        data.update(
            {
                f"criteria-{index}-title": f"Critère {index}",
                f"criteria-{index}-weight": str(weight),
                f"criteria-{index}-position": str(index),
                f"criteria-{index}-rubric": "[]",
            }
        )
    return data


def test_criteria_formset_requires_weights_summing_to_100():
    call = CallFactory()
    FormSet = inlineformset_factory(
        Call, Criterion, formset=CriterionInlineFormSet, fields=["title", "weight", "position", "rubric"], extra=0
    )
    bad = FormSet(formset_data([60, 30]), instance=call, prefix="criteria")
    assert not bad.is_valid()
    assert bad.non_form_errors() == ["La somme des poids des critères doit être égale à 100 (actuellement 90)."]
    good = FormSet(formset_data([60, 40]), instance=call, prefix="criteria")
    assert good.is_valid(), good.errors
    good.save()
    assert call.weights_total() == 100


def test_call_form_refuses_closing_before_opening():
    data = {
        "slug": "x",
        "title": "X",
        "reference_prefix": "X",
        "description": "d",
        "eligibility_text": "e",
        "opens_at": "2026-05-02 10:00",
        "closes_at": "2026-05-01 10:00",
        "score_scale_max": 5,
        "reviews_per_proposal": 2,
        "min_reviews_for_normalisation": 4,
        "disagreement_threshold": 25,
        "max_file_mb": 10,
        "max_total_mb": 30,
        "status": "draft",
    }
    form = CallAdminForm(data)
    assert not form.is_valid()
    assert form.errors["closes_at"] == ["La date de clôture doit être postérieure à la date d'ouverture."]
    assert not Call.objects.exists()
