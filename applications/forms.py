"""Forms of the applicant journey, rendered through the project's DSFR crispy pack."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from applications.models import Administration, Proposal
from applications.services import DRAFT_FIELDS


def _helper(*items, submit, form_id=None, action=None):
    helper = FormHelper()
    helper.form_tag = True
    helper.layout = Layout(*items)
    helper.add_input(Submit("submit", submit))
    if form_id:
        helper.form_id = form_id
    if action:
        helper.form_action = action
    return helper


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
        self.helper = _helper("q", submit=_("Rechercher"), form_id="administration-search")
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
        self.helper = _helper("administration", submit=_("Demander à rejoindre"), form_id="join-administration",
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
        self.helper = _helper(
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
        self.helper = _helper(*fields, submit=_("Créer le brouillon"), form_id="new-draft")


class ProposalDraftForm(forms.ModelForm):
    """The proposal's editable fields; the hidden `version` detects concurrent edits.

    Validation only: services.save_draft saves, never this form.
    """

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    class Meta:
        model = Proposal
        fields = list(DRAFT_FIELDS)
        widgets = {name: forms.Textarea(attrs={"rows": 6}) for name in
                   ("problem", "data_description", "ai_approach", "team", "expected_benefits")}
        widgets["summary"] = forms.Textarea(attrs={"rows": 4})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["requested_track"].queryset = self.instance.call.tracks.all()
        self.fields["requested_track"].empty_label = _("Choisissez un parcours")
        self.fields["requested_amount_eur"].widget.attrs.update({"min": 0, "inputmode": "numeric"})
        if not self.is_bound:
            self.initial["version"] = self.instance.version
        self.helper = _helper(
            "version",
            Fieldset(_("Identité du projet"), "title", "summary"),
            Fieldset(_("Le problème à résoudre"), "problem"),
            Fieldset(_("Les données"), "data_description"),
            Fieldset(_("L'approche par l'intelligence artificielle"), "ai_approach"),
            Fieldset(_("L'équipe"), "team"),
            Fieldset(_("Les bénéfices attendus"), "expected_benefits"),
            Fieldset(_("L'accompagnement demandé"), "requested_amount_eur", "requested_track"),
            submit=_("Enregistrer le brouillon"),
            form_id="proposal-form",
        )

    def draft_data(self):
        return {name: self.cleaned_data[name] for name in DRAFT_FIELDS}
