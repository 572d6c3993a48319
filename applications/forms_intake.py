"""Forms of the staff intake: filtering the submissions, the eligibility decision, the proposed administrations."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ami.models import Call, Track
from applications.models import Administration, AdministrationKind, ProposalStatus

# The statuses a submitted proposal can be in (drafts and withdrawn proposals are not submissions).
INTAKE_STATUSES = [s for s in ProposalStatus if s not in (ProposalStatus.DRAFT, ProposalStatus.WITHDRAWN)]


class IntakeFilterForm(forms.Form):
    """The intake list's filters and search, sent by GET; filter() narrows a proposals queryset."""

    q = forms.CharField(label=_("Rechercher"), required=False, max_length=100,
                        help_text=_("Référence, titre ou administration."))
    call = forms.ModelChoiceField(label=_("Appel"), queryset=Call.objects.all(), required=False,
                                  empty_label=_("Tous les appels"))
    track = forms.ModelChoiceField(label=_("Parcours demandé"), queryset=Track.objects.select_related("call"),
                                   required=False, empty_label=_("Tous les parcours"))
    kind = forms.ChoiceField(label=_("Type d'administration"), required=False,
                             choices=[("", _("Tous les types")), *AdministrationKind.choices])
    status = forms.ChoiceField(label=_("Statut"), required=False,
                               choices=[("", _("Tous les statuts")), *[(s.value, s.label) for s in INTAKE_STATUSES]])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.input_type = "search"
        self.fields["track"].label_from_instance = lambda track: f"{track.call} — {track.name}"
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_id = "intake-filters"
        self.helper.layout = Layout(
            Row(Column("q"), Column("call"), Column("track")),
            Row(Column("kind"), Column("status")),
        )
        self.helper.add_input(Submit("filter", _("Filtrer")))

    def filter(self, proposals):
        if not self.is_valid():
            return proposals
        data = self.cleaned_data
        if data["q"].strip():
            query = data["q"].strip()
            proposals = proposals.filter(
                Q(reference__icontains=query) | Q(title__icontains=query)
                | Q(administration__name__icontains=query) | Q(administration__acronym__icontains=query)
            )
        lookups = {"call": data["call"], "requested_track": data["track"], "administration__kind": data["kind"],
                   "status": data["status"]}
        return proposals.filter(**{name: value for name, value in lookups.items() if value})


class EligibilityForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Décision de recevabilité"), widget=forms.RadioSelect,
        choices=[("eligible", _("Recevable")), ("ineligible", _("Irrecevable"))],
        error_messages={"required": _("Choisissez « Recevable » ou « Irrecevable ».")},
    )
    reason = forms.CharField(
        label=_("Motif"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Obligatoire pour un projet irrecevable ; conservé dans l'historique du projet."),
    )
    expected_status = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, allowed=("eligible", "ineligible"), **kwargs):
        super().__init__(*args, **kwargs)
        # Only the decisions the transition table allows from the current status (a decided proposal offers
        # the other one, to go back on a decision).
        self.fields["decision"].choices = [c for c in self.fields["decision"].choices if c[0] in allowed]
        self.helper = FormHelper()
        self.helper.form_id = "eligibility-form"
        self.helper.layout = Layout("expected_status", "decision", "reason")
        self.helper.add_input(Submit("decide", _("Enregistrer la décision")))

    def clean(self):
        data = super().clean()
        if data.get("decision") == "ineligible" and not data.get("reason", "").strip():
            self.add_error("reason", _("Indiquez le motif d'irrecevabilité : il sera conservé dans l'historique."))
        return data

    @property
    def eligible(self):
        return self.cleaned_data["decision"] == "eligible"


def _administration_helper(*, form_id, action, submit):
    """Several of these forms share a page: ids are made unique per administration."""
    helper = FormHelper()
    helper.form_id = form_id
    helper.form_action = action
    helper.add_input(Submit("submit", submit, css_id=f"{form_id}-submit"))
    return helper


class RejectAdministrationForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif du refus"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Envoyé par courriel à l'agent qui l'a proposée."),
        error_messages={"required": _("Indiquez le motif du refus : il sera envoyé à l'agent qui l'a proposée.")},
    )

    def __init__(self, *args, administration, action, **kwargs):
        super().__init__(*args, auto_id=f"reject-{administration.pk}-%s", **kwargs)
        self.helper = _administration_helper(form_id=f"reject-{administration.pk}", action=action,
                                             submit=_("Refuser"))


class MergeAdministrationForm(forms.Form):
    """'It is in fact administration X': choices are computed once per page (likely duplicates first)."""

    into = forms.TypedChoiceField(
        label=_("C'est en fait l'administration"), coerce=int,
        error_messages={"required": _("Choisissez l'administration du registre dont il s'agit.")},
    )

    def __init__(self, *args, administration, action, choices, **kwargs):
        super().__init__(*args, auto_id=f"merge-{administration.pk}-%s", **kwargs)
        self.fields["into"].choices = [("", _("Choisissez dans le registre")), *choices]
        self.helper = _administration_helper(form_id=f"merge-{administration.pk}", action=action,
                                             submit=_("Fusionner"))

    def clean_into(self):
        into = Administration.objects.filter(pk=self.cleaned_data["into"], approved=True).first()
        if into is None:
            raise forms.ValidationError(_("Choisissez une administration validée du registre."))
        return into
