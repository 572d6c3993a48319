"""The crispy DSFR pack renders every kind of field with DSFR markup, hints and errors."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout, Submit
from crispy_forms.utils import render_crispy_form
from django import forms


class EveryWidgetForm(forms.Form):
    title = forms.CharField(label="Titre", max_length=20, help_text="Vingt caractères au plus")
    summary = forms.CharField(label="Résumé", widget=forms.Textarea, max_length=500, required=False)
    track = forms.ChoiceField(label="Parcours", choices=[("a", "Technique"), ("b", "Scientifique")])
    kind = forms.ChoiceField(label="Type", choices=[("x", "Centrale"), ("y", "Hôpital")], widget=forms.RadioSelect)
    tags = forms.MultipleChoiceField(
        label="Expertises",
        choices=[("nlp", "TAL"), ("cv", "Vision")],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    accept = forms.BooleanField(label="J'accepte la charte")
    attachment = forms.FileField(label="Pièce jointe (PDF)", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Fieldset("Identité", "title", "summary"), "track", "kind", "tags", "accept", "attachment"
        )
        self.helper.add_input(Submit("submit", "Enregistrer"))


def test_unbound_form_uses_dsfr_components():
    html = render_crispy_form(EveryWidgetForm())
    assert '<legend class="fr-fieldset__legend">Identité</legend>' in html
    assert 'class="fr-input-group"' in html and 'class="textinput fr-input"' in html
    assert '<span class="fr-hint-text">Vingt caractères au plus</span>' in html
    assert 'class="select fr-select"' in html
    assert html.count('class="fr-radio-group"') == 2
    assert html.count('class="fr-checkbox-group"') == 3  # two tags + the charter
    assert 'fr-upload"' in html and "fr-upload-group" in html
    assert 'data-counter-for="id_summary" data-max="500"' in html
    assert '<button type="submit" name="submit" value="Enregistrer" class="fr-btn"' in html
    assert "novalidate" in html


def test_bound_form_shows_errors_beside_fields_and_a_summary():
    form = EveryWidgetForm(data={"title": "x" * 30, "track": "z"})
    assert not form.is_valid()
    html = render_crispy_form(form)
    assert "Le formulaire contient des erreurs" in html
    assert '<a href="#id_title">Titre</a>' in html
    assert "fr-input-group--error" in html and "fr-input fr-input--error" in html
    assert "fr-select-group--error" in html
    assert "fr-fieldset--error" in html
    assert "fr-checkbox-group--error" in html
    assert 'id="id_title-messages"' in html and 'aria-describedby="id_title-messages"' in html
    assert '<p class="fr-message fr-message--error">' in html


def test_typed_html_is_escaped():
    form = EveryWidgetForm(data={"title": "<script>alert(1)</script>"})
    html = render_crispy_form(form)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
