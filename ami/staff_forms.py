"""Forms of the staff's call set-up: validation only, the services in ami.services save.

Dates are typed and shown in Paris time whatever the browser's time zone.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Fieldset, Layout, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ami.forms import CallAdminForm
from ami.models import Call, Criterion, EligibilityQuestion, Track
from ami.services import CALL_SETUP_FIELDS, check_rubric, check_weights

PARIS = ZoneInfo("Europe/Paris")
RESERVED_SLUGS = {"nouveau"}  # /equipe/appels/nouveau/ is the creation page


def _check_slug(slug):
    if slug in RESERVED_SLUGS:
        raise ValidationError(_("Cet identifiant est réservé : choisissez-en un autre."))
    return slug


class ParisDateTimeField(forms.DateTimeField):
    """A date and time typed in Paris time (a `datetime-local` input), stored as an aware instant."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def prepare_value(self, value):
        if isinstance(value, datetime) and timezone.is_aware(value):
            return timezone.localtime(value, PARIS)
        return value

    def to_python(self, value):
        with timezone.override(PARIS):
            return super().to_python(value)


class DateField(forms.DateField):
    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _row(*columns):
    """A grid row; each column is (field name, DSFR column classes)."""
    return Div(*(Div(name, css_class=f"fr-col-12 {css}") for name, css in columns),
               css_class="fr-grid-row fr-grid-row--gutters fr-grid-row--bottom")


class CallSetupForm(CallAdminForm):
    """A call's settings; the fields frozen in the call's phase (services.locked_call_fields) are disabled."""

    class Meta(CallAdminForm.Meta):
        fields = list(CALL_SETUP_FIELDS)
        field_classes = {
            "opens_at": ParisDateTimeField, "closes_at": ParisDateTimeField, "review_deadline": ParisDateTimeField,
            "jury_date": DateField, "announcement_date": DateField,
        }
        labels = {
            "slug": _("Identifiant dans l'adresse de l'appel"),
            "reference_prefix": _("Préfixe des références des projets"),
            "eligibility_text": _("Qui peut candidater"),
            "opens_at": _("Ouverture des candidatures (heure de Paris)"),
            "closes_at": _("Clôture des candidatures (heure de Paris)"),
            "review_deadline": _("Date limite des évaluations du jury (heure de Paris)"),
            "jury_date": _("Date de la réunion du jury"),
            "announcement_date": _("Date prévue d'annonce des résultats"),
            "score_scale_max": _("Note maximale de chaque critère"),
            "reviews_per_proposal": _("Nombre d'évaluations par projet"),
            "uses_pairs": _("Le jury travaille en binômes"),
            "conflict_same_ministry": _("Conflit d'intérêts étendu au même ministère"),
            "max_file_mb": _("Taille maximale d'une pièce jointe (Mo)"),
            "max_total_mb": _("Taille maximale de toutes les pièces d'un projet (Mo)"),
        }
        help_texts = {
            "slug": _("Lettres minuscules, chiffres et tirets, par exemple ami-ia-2026. Figé dès l'ouverture."),
            "reference_prefix": _("Par exemple AMI2026 : les projets déposés sont numérotés AMI2026-0001, "
                                  "AMI2026-0002… Figé dès l'ouverture."),
            "eligibility_text": _("Le texte affiché sur la page publique de l'appel."),
            "opens_at": _("Jour et heure à Paris, par exemple 02/04/2026 09:00."),
            "closes_at": _("Jour et heure à Paris : après cette minute, plus aucun dépôt n'est accepté. "
                           "Par exemple 31/05/2026 23:59."),
            "review_deadline": _("Jour et heure à Paris. Facultatif."),
            "score_scale_max": _("Chaque critère est noté de 0 à cette note."),
            "uses_pairs": _("Les deux membres d'un binôme évaluent les mêmes projets."),
            "conflict_same_ministry": _("Un juré ne lit pas les projets des administrations de son ministère."),
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "eligibility_text": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, locked=(), submit=None, **kwargs):
        super().__init__(*args, **kwargs)
        for name in locked:
            self.fields[name].disabled = True
        self.helper = FormHelper()
        self.helper.form_id = "call-form"
        self.helper.layout = Layout(
            Fieldset(_("Présentation"), "title", _row(("slug", "fr-col-md-6"), ("reference_prefix", "fr-col-md-6")),
                     "description", "eligibility_text"),
            Fieldset(_("Calendrier (heure de Paris)"),
                     _row(("opens_at", "fr-col-md-6"), ("closes_at", "fr-col-md-6")),
                     _row(("review_deadline", "fr-col-md-6"), ("jury_date", "fr-col-md-3"),
                          ("announcement_date", "fr-col-md-3"))),
            Fieldset(_("Évaluation par le jury"),
                     _row(("score_scale_max", "fr-col-md-6"), ("reviews_per_proposal", "fr-col-md-6")),
                     _row(("min_reviews_for_normalisation", "fr-col-md-6"), ("disagreement_threshold", "fr-col-md-6")),
                     "uses_pairs", "conflict_same_ministry"),
            Fieldset(_("Pièces jointes (PDF)"),
                     _row(("max_file_mb", "fr-col-md-6"), ("max_total_mb", "fr-col-md-6"))),
        )
        if set(self.fields) - set(locked):
            self.helper.add_input(Submit("submit", submit or _("Enregistrer")))

    def clean_slug(self):
        return _check_slug(self.cleaned_data["slug"])

    def clean(self):
        cleaned = super().clean()
        per_file, total = cleaned.get("max_file_mb"), cleaned.get("max_total_mb")
        if per_file and total and total < per_file:
            self.add_error("max_total_mb", _("La taille totale ne peut pas être inférieure à celle d'un fichier."))
        for name in ("max_file_mb", "max_total_mb"):
            if cleaned.get(name) == 0:
                self.add_error(name, _("Indiquez une taille d'au moins 1 Mo."))
        return cleaned

    def setup_fields(self):
        return {name: self.cleaned_data[name] for name in CALL_SETUP_FIELDS}


class CloneCallForm(forms.Form):
    title = forms.CharField(label=_("Titre du nouvel appel"), max_length=Call._meta.get_field("title").max_length)
    slug = forms.SlugField(label=_("Identifiant dans l'adresse du nouvel appel"), max_length=80,
                           help_text=_("Lettres minuscules, chiffres et tirets, par exemple ami-ia-2026."))
    opens_at = ParisDateTimeField(label=_("Ouverture des candidatures (heure de Paris)"),
                                  help_text=_("Jour et heure à Paris, par exemple 02/04/2026 09:00."))
    closes_at = ParisDateTimeField(label=_("Clôture des candidatures (heure de Paris)"),
                                   help_text=_("Jour et heure à Paris, par exemple 31/05/2026 23:59."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_id = "clone-form"
        self.helper.layout = Layout("title", "slug", _row(("opens_at", "fr-col-md-6"), ("closes_at", "fr-col-md-6")))
        self.helper.add_input(Submit("submit", _("Créer la copie")))

    def clean_slug(self):
        slug = _check_slug(self.cleaned_data["slug"])
        if Call.objects.filter(slug=slug).exists():
            raise ValidationError(_("Un appel utilise déjà l'identifiant « %(slug)s ».") % {"slug": slug})
        return slug

    def clean(self):
        cleaned = super().clean()
        opens, closes = cleaned.get("opens_at"), cleaned.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", _("La date de clôture doit être postérieure à la date d'ouverture."))
        return cleaned


# Formsets: one form per row; the view hands formset.rows() to a service that replaces the whole set.


def _row_helper(layout):
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    helper.form_show_errors = False  # one summary above the formset; each field still shows its own message
    helper.layout = layout
    return helper


class RowFormSet(forms.BaseFormSet):
    """Rows to keep, in order, as dicts; blank extra rows and rows ticked for deletion are left out."""

    delete_label = _("Supprimer cette ligne")

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = self.delete_label

    def kept_forms(self):
        # An untouched blank extra row has empty cleaned_data; an existing row always has its values.
        return [form for form in self.forms if form.cleaned_data and not self._should_delete_form(form)]

    def rows(self):
        rows = []
        for position, form in enumerate(self.kept_forms()):
            row = {key: value for key, value in form.cleaned_data.items() if key != "DELETE"}
            row.setdefault("position", position)
            rows.append(row)
        return rows

    def error_list(self):
        """Every error as text, for the summary above the formset."""
        errors = list(self.non_form_errors())
        for number, form in enumerate(self.forms, start=1):
            if self._should_delete_form(form):
                continue
            for name, messages in form.errors.items():
                label = form.fields[name].label if name in form.fields else ""
                errors.extend(_("Ligne %(number)s, %(field)s : %(error)s") % {
                    "number": number, "field": label, "error": message} for message in messages)
        return errors


class TrackRowForm(forms.Form):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    code = forms.SlugField(label=_("Code"), max_length=Track._meta.get_field("code").max_length,
                           help_text=_("Par exemple technique-metier."))
    name = forms.CharField(label=_("Nom du parcours"), max_length=Track._meta.get_field("name").max_length)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    budget_eur = forms.IntegerField(label=_("Enveloppe (€)"), min_value=0, help_text=_("En euros, sans espace."))
    max_laureates = forms.IntegerField(label=_("Nombre maximal de lauréats"), min_value=1, max_value=32767)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _row_helper(Layout(
            _row(("code", "fr-col-md-3"), ("name", "fr-col-md-9")),
            "description",
            _row(("budget_eur", "fr-col-md-6"), ("max_laureates", "fr-col-md-6")),
            "id", "DELETE",
        ))


class TrackFormSetBase(RowFormSet):
    delete_label = _("Supprimer ce parcours")

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        codes = [form.cleaned_data["code"] for form in self.kept_forms()]
        if not codes:
            raise ValidationError(_("Un appel a au moins un parcours d'accompagnement."))
        if len(set(codes)) != len(codes):
            raise ValidationError(_("Deux parcours ne peuvent pas avoir le même code."))


TrackFormSet = forms.formset_factory(TrackRowForm, formset=TrackFormSetBase, extra=1, can_delete=True)


def track_initial(call):
    return [{"id": t.pk, "code": t.code, "name": t.name, "description": t.description, "budget_eur": t.budget_eur,
             "max_laureates": t.max_laureates} for t in call.tracks.all()]


class CriterionRowForm(forms.Form):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    position = forms.IntegerField(label=_("Ordre"), min_value=0, max_value=999, required=False,
                                  help_text=_("Facultatif."))
    title = forms.CharField(label=_("Intitulé du critère"), max_length=Criterion._meta.get_field("title").max_length)
    weight = forms.IntegerField(label=_("Poids (sur 100)"), min_value=1, max_value=100,
                                widget=forms.NumberInput(attrs={"data-weight": ""}))
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    rubric = forms.CharField(label=_("Grille de notation"), required=False)

    def __init__(self, *args, scale_max, **kwargs):
        super().__init__(*args, **kwargs)
        self.scale_max = scale_max
        self.fields["rubric"].widget = forms.Textarea(attrs={"rows": scale_max + 1})
        self.fields["rubric"].help_text = _(
            "Une ligne par note, de 0 à %(max)s (%(count)s lignes) : ce que vaut chaque note pour ce critère. "
            "Facultatif."
        ) % {"max": scale_max, "count": scale_max + 1}
        self.helper = _row_helper(Layout(
            _row(("position", "fr-col-md-2"), ("title", "fr-col-md-7"), ("weight", "fr-col-md-3")),
            "description", "rubric", "id", "DELETE",
        ))

    def clean_rubric(self):
        lines = [line.strip() for line in self.cleaned_data["rubric"].splitlines()]
        while lines and not lines[-1]:
            lines.pop()
        if "" in lines:
            raise ValidationError(_("La grille contient une ligne vide : écrivez un texte par note."))
        check_rubric(lines, self.scale_max)
        return lines


class CriterionFormSetBase(RowFormSet):
    delete_label = _("Supprimer ce critère")

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        check_weights(form.cleaned_data["weight"] for form in self.kept_forms())  # the message says the total

    def rows(self):
        """Numbered 0, 1, 2… in the order typed; rows without an order come last, ties keep the page's order."""
        rows = super().rows()
        rows.sort(key=lambda row: (row["position"] is None, row["position"] or 0))
        for position, row in enumerate(rows):
            row["position"] = position
        return rows

    def current_total(self):
        """The total of the weights shown (typed or saved), rows ticked for deletion left out."""
        total = 0
        for form in self.forms:
            if form["DELETE"].value():
                continue
            try:
                total += int(form["weight"].value() or 0)
            except (TypeError, ValueError):
                continue
        return total


CriterionFormSet = forms.formset_factory(CriterionRowForm, formset=CriterionFormSetBase, extra=1, can_delete=True)


def criterion_initial(call):
    return [{"id": c.pk, "position": c.position, "title": c.title, "description": c.description,
             "weight": c.weight, "rubric": "\n".join(c.rubric)} for c in call.criteria.all()]


class QuestionRowForm(forms.Form):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    text = forms.CharField(label=_("Question (réponse par oui ou par non)"),
                           max_length=EligibilityQuestion._meta.get_field("text").max_length)
    help_text = forms.CharField(label=_("Aide affichée sous la question"), required=False,
                                max_length=EligibilityQuestion._meta.get_field("help_text").max_length)
    ineligible_answer = forms.TypedChoiceField(
        label=_("Réponse qui rend le projet irrecevable"),
        choices=[("", _("Choisir")), ("True", _("Oui")), ("False", _("Non"))],
        coerce=lambda value: value == "True",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _row_helper(Layout(
            "text", _row(("help_text", "fr-col-md-8"), ("ineligible_answer", "fr-col-md-4")), "id", "DELETE",
        ))


class QuestionFormSetBase(RowFormSet):
    delete_label = _("Supprimer cette question")


QuestionFormSet = forms.formset_factory(QuestionRowForm, formset=QuestionFormSetBase, extra=1, can_delete=True)


def question_initial(call):
    return [{"id": q.pk, "text": q.text, "help_text": q.help_text, "ineligible_answer": str(q.ineligible_answer)}
            for q in call.eligibility_questions.all()]
