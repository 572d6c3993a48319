"""Forms of the applicant journey, rendered through the project's DSFR crispy pack."""

import copy
from dataclasses import dataclass

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Fieldset, Layout
from django import forms
from django.core.validators import MinValueValidator
from django.template.loader import render_to_string
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from ami.forms import form_helper
from applications.models import Administration, Proposal
from applications.services import DRAFT_FIELDS, PROPOSAL_SECTIONS


class AdministrationSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Rechercher votre administration"),
        help_text=_("Nom, sigle ou ministère de tutelle, par exemple « DGFiP » ou « Intérieur »."),
        max_length=100,
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A native datalist suggests names as one types, with no script (CSP) and no extra request.
        self.fields["q"].widget.input_type = "search"
        self.fields["q"].widget.attrs.update({"list": "administration-names", "autocomplete": "off"})
        self.helper = form_helper("q", submit=_("Rechercher"), form_id="administration-search")
        self.helper.form_method = "get"


class JoinAdministrationForm(forms.Form):
    administration = forms.ModelChoiceField(
        label=_("Administrations trouvées"),
        queryset=Administration.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"required": _("Choisissez votre administration dans la liste.")},
    )

    def __init__(self, *args, results, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["administration"].queryset = results
        self.fields["administration"].label_from_instance = lambda a: f"{a} — {a.ministry}"
        self.helper = form_helper("administration", submit=_("Demander à rejoindre"), form_id="join-administration",
                                  action="applications:join_administration")


class JoinPostForm(forms.Form):
    """The join request as posted: any approved administration (the search only narrowed the list)."""

    administration = forms.ModelChoiceField(
        queryset=Administration.objects.filter(approved=True),
        error_messages={"required": _("Choisissez votre administration dans la liste.")},
    )


class ProposeAdministrationForm(forms.ModelForm):
    class Meta:
        model = Administration
        fields = ["name", "acronym", "kind", "ministry"]
        labels = {
            "name": _("Nom complet de l'administration"),
            "acronym": _("Sigle"),
            "kind": _("Type d'administration"),
            "ministry": _("Ministère de tutelle"),
        }
        help_texts = {"name": _("Par exemple : Direction générale des finances publiques.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper(
            Fieldset(_("Proposer une nouvelle administration"), "name", "acronym", "kind", "ministry"),
            submit=_("Proposer et demander à rejoindre"),
            form_id="propose-administration",
        )

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if Administration.objects.filter(name__iexact=name).exists():
            raise forms.ValidationError(
                _("Cette administration existe déjà dans le registre : recherchez-la et demandez à la rejoindre.")
            )
        return name


class NewDraftForm(forms.Form):
    administration = forms.ModelChoiceField(label=_("Pour le compte de"), queryset=Administration.objects.none(),
                                            empty_label=None)
    title = forms.CharField(label=_("Titre du projet"), max_length=Proposal._meta.get_field("title").max_length)
    force_new = forms.BooleanField(
        label=_("Créer quand même un autre brouillon"),
        help_text=_("Sinon, vous reprenez le brouillon que votre administration a déjà commencé pour cet appel."),
        required=False,
    )

    def __init__(self, *args, administrations, show_force_new, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["administration"].queryset = administrations
        if len(administrations) == 1:  # evaluates the queryset once; the field reuses its cache
            self.fields["administration"].initial = administrations[0].pk
            self.fields["administration"].widget = forms.HiddenInput()
        fields = ["administration", "title"] + (["force_new"] if show_force_new else [])
        self.helper = form_helper(*fields, submit=_("Créer le brouillon"), form_id="new-draft")


@dataclass(frozen=True)
class FormStep:
    """One page of the proposal form: a section of services.PROPOSAL_SECTIONS."""

    number: int
    title: str
    fields: tuple

    @property
    def asks_eligibility(self):
        return "eligibility_answers" in self.fields


FORM_STEPS = tuple(FormStep(number, title, fields) for number, (title, fields) in enumerate(PROPOSAL_SECTIONS, 1))
# The attachments page comes after the form's sections, as the stepper's last step.
ATTACHMENTS_STEP = len(FORM_STEPS) + 1
STEP_TITLES = {**{step.number: step.title for step in FORM_STEPS}, ATTACHMENTS_STEP: _("Les pièces jointes")}
ELIGIBILITY_PREFIX = "eligibility_"
MODEL_FIELDS = tuple(name for name in DRAFT_FIELDS if name != "eligibility_answers")


def step_of_field(name):
    """The number of the step that edits the draft field `name` (1 when unknown)."""
    return next((step.number for step in FORM_STEPS if name in step.fields), 1)


def eligibility_field_name(question):
    return f"{ELIGIBILITY_PREFIX}{question.pk}"


def _yes_no(value):
    return value == "true"


class IneligibleWarning:
    """A crispy layout object: the warning shown under a question whose answer makes the project ineligible.

    Rendered hidden when the answer is fine; static/js/stepper.js shows it as soon as the answer changes.
    """

    def __init__(self, question):
        self.question = question

    def render(self, form, context, template_pack=None, **kwargs):
        return render_to_string("applications/_ineligible_warning.html", {
            "question": self.question,
            "field_name": eligibility_field_name(self.question),
            "ineligible_value": "true" if self.question.ineligible_answer else "false",
            "shown": self.question.makes_ineligible(form.answer(self.question)),
        })


class ProposalDraftForm(forms.ModelForm):
    """Some editable fields of a proposal (one step of the form, or what autosave posted).

    The hidden `version` detects concurrent edits. Validation only: services.save_draft saves,
    never this form. `fields` names the draft fields to edit; `questions` the eligibility questions
    to answer (saved into `eligibility_answers`).
    """

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    class Meta:
        model = Proposal
        fields = list(MODEL_FIELDS)
        widgets = {name: forms.Textarea(attrs={"rows": 8}) for name in
                   ("problem", "data_description", "ai_approach", "team", "expected_benefits")}
        widgets["summary"] = forms.Textarea(attrs={"rows": 4})
        help_texts = {
            "title": _("Un titre court qui dit ce que fera l'intelligence artificielle."),
            "summary": _("En quelques lignes : le problème, la solution envisagée et ce qu'elle changera."),
            "problem": _("Le problème rencontré aujourd'hui, les agents et les usagers concernés, leur nombre, "
                         "et la façon dont le problème est traité aujourd'hui."),
            "data_description": _("Les données nécessaires : leur nature, leur volume, qui les détient, "
                                  "leur qualité, et si elles sont déjà accessibles à l'équipe."),
            "ai_approach": _("Pourquoi l'intelligence artificielle répond à ce problème, "
                             "et quelles techniques vous envisagez."),
            "team": _("Les agents mobilisés (métier, données, informatique), le temps qu'ils y consacreront, "
                      "le responsable du projet et la gouvernance prévue."),
            "expected_benefits": _("Les bénéfices pour les agents et les usagers, et les indicateurs qui "
                                   "permettront de les mesurer."),
            "requested_track": _("Le parcours d'accompagnement qui correspond le mieux à votre projet."),
            "requested_amount_eur": _("En euros, nombre entier. Il ne peut pas dépasser l'enveloppe du parcours."),
        }

    def __init__(self, *args, instance, fields, questions=(), **kwargs):
        # Validation sets the cleaned values on the instance: a copy keeps the caller's proposal as read,
        # which services.save_draft compares with to tell what changed.
        super().__init__(*args, instance=copy.copy(instance), **kwargs)
        for name in set(MODEL_FIELDS) - set(fields):
            del self.fields[name]
        self.order_fields(["version", *fields])
        self.questions = list(questions)
        if "requested_track" in self.fields:
            self._set_up_track()
        if "requested_amount_eur" in self.fields:
            self._set_up_amount()
        for question in self.questions:
            self.fields[eligibility_field_name(question)] = self._question_field(question)
        if not self.is_bound:
            self.initial["version"] = self.instance.version
        self.helper = self._helper()

    def _set_up_track(self):
        field = self.fields["requested_track"]
        field.queryset = self.instance.call.tracks.all()
        field.empty_label = _("Choisissez un parcours")
        field.label_from_instance = lambda track: _("%(name)s — enveloppe de %(budget)s €") % {
            "name": track.name, "budget": number_format(track.budget_eur, force_grouping=True)}

    def _set_up_amount(self):
        field = self.fields["requested_amount_eur"]
        field.validators.append(MinValueValidator(1, message=_(
            "Indiquez un montant en euros supérieur à zéro.")))
        field.error_messages["invalid"] = _("Indiquez un montant en euros, en chiffres, sans espace ni virgule.")
        field.widget.attrs.update({"min": 1, "step": 1, "inputmode": "numeric"})

    def _question_field(self, question):
        field = forms.TypedChoiceField(
            label=question.text, help_text=question.help_text, required=False, widget=forms.RadioSelect,
            choices=[("true", _("Oui")), ("false", _("Non"))], coerce=_yes_no, empty_value=None,
        )
        stored = (self.instance.eligibility_answers or {}).get(str(question.pk))
        if stored is not None:
            field.initial = "true" if stored else "false"
        return field

    def answer(self, question):
        """The answer to `question` as shown: the posted one, else the saved one (None when unanswered)."""
        name = eligibility_field_name(question)
        if self.is_bound:
            value = self.data.get(self.add_prefix(name))
            return None if value not in ("true", "false") else value == "true"
        return (self.instance.eligibility_answers or {}).get(str(question.pk))

    def _helper(self):
        helper = FormHelper()
        helper.form_tag = False  # the template writes the <form>, with the stepper's buttons
        items = [name for name in self.fields if not name.startswith(ELIGIBILITY_PREFIX)]
        if self.questions:
            items.append(Div(*[item for question in self.questions
                               for item in (eligibility_field_name(question), IneligibleWarning(question))],
                             css_id="eligibility"))
        helper.layout = Layout(*items)
        return helper

    def _get_validation_exclusions(self):
        # The track's form field has just found it among the call's tracks: the model's own check of the foreign
        # key would read it a second time.
        return super()._get_validation_exclusions() | {"requested_track"}

    def clean(self):
        cleaned = super().clean()
        amount = cleaned.get("requested_amount_eur")
        track = cleaned.get("requested_track") if "requested_track" in self.fields else self.instance.requested_track
        if amount and track and amount > track.budget_eur:
            self.add_error("requested_amount_eur", _(
                "Le montant demandé (%(amount)s €) dépasse l'enveloppe du parcours « %(track)s » (%(budget)s €) : "
                "indiquez un montant inférieur ou égal à l'enveloppe.") % {
                    "amount": number_format(amount, force_grouping=True), "track": track.name,
                    "budget": number_format(track.budget_eur, force_grouping=True)})
        return cleaned

    def draft_data(self):
        """The cleaned values for services.save_draft: the form's fields, and the answers merged into the saved ones."""
        data = {name: self.cleaned_data[name] for name in MODEL_FIELDS if name in self.fields}
        if self.questions:
            answers = dict(self.instance.eligibility_answers or {})
            for question in self.questions:
                answer = self.cleaned_data.get(eligibility_field_name(question))
                if answer is not None:
                    answers[str(question.pk)] = answer
            data["eligibility_answers"] = answers
        return data


class AttachmentForm(forms.Form):
    """A PDF to attach (or to put in place of another). The checks on its content are in services.attachments."""

    file = forms.FileField(label=_("Fichier PDF"), allow_empty_file=True,
                           error_messages={"required": _("Choisissez un fichier PDF à joindre.")})
    label = forms.CharField(
        label=_("Description de la pièce"), max_length=150, required=False,
        help_text=_("Par exemple : « Lettre de soutien de la directrice » ou « Note sur les données »."),
    )

    def __init__(self, *args, call, submit, form_id, with_label=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "Format PDF uniquement. Taille maximale : %(file)s Mo par fichier, %(total)s Mo pour l'ensemble "
            "des pièces du projet.") % {"file": call.max_file_mb, "total": call.max_total_mb}
        self.fields["file"].widget.attrs["accept"] = "application/pdf,.pdf"
        if not with_label:
            del self.fields["label"]
        self.helper = form_helper(*self.fields, submit=submit, form_id=form_id)
