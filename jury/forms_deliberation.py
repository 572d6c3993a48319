"""Forms of the deliberation, rendered through the project's DSFR crispy pack; they validate input only."""

from crispy_forms.layout import Fieldset
from django import forms
from django.utils.translation import gettext_lazy as _

from ami.forms import form_helper
from jury.models import JuryMember, Outcome, RankBy


class SettingsForm(forms.Form):
    rank_by = forms.ChoiceField(label=_("Le classement suit"), choices=RankBy.choices, widget=forms.RadioSelect)
    administration_cap = forms.IntegerField(
        label=_("Lauréats au plus par administration"), required=False, min_value=1, max_value=100,
        help_text=_("Laisser vide : pas de plafond."),
    )
    ministry_cap = forms.IntegerField(
        label=_("Lauréats au plus par ministère"), required=False, min_value=1, max_value=100,
        help_text=_("Laisser vide : pas de plafond."),
    )

    def __init__(self, *args, action, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("rank_by", "administration_cap", "ministry_cap", submit=_("Enregistrer ces réglages"),
                                  form_id="settings-form", action=action)


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Décision"), choices=Outcome.choices, widget=forms.RadioSelect)
    track = forms.ModelChoiceField(label=_("Parcours"), queryset=None, required=False,
                                   empty_label=_("— Choisir un parcours —"))
    granted_amount_eur = forms.IntegerField(label=_("Accompagnement accordé (€)"), required=False, min_value=1)
    reason = forms.CharField(label=_("Motif de la décision"), widget=forms.Textarea(attrs={"rows": 3}),
                             max_length=2000, error_messages={"required": _("Indiquez le motif de la décision.")})
    override_reason = forms.CharField(
        label=_("Motif de la dérogation"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Seulement pour retenir un projet au-delà de l'enveloppe ou du nombre maximal de lauréats."),
    )
    change_reason = forms.CharField(
        label=_("Motif de la modification après l'arrêt des décisions"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, call, locked, action, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["track"].queryset = call.tracks.all()
        fields = ["outcome", "track", "granted_amount_eur", "reason", "override_reason"]
        if locked:
            fields.append("change_reason")
            self.fields["change_reason"].required = True
            self.fields["change_reason"].error_messages["required"] = _(
                "Les décisions sont arrêtées : indiquez le motif de cette modification.")
        else:
            del self.fields["change_reason"]
        self.helper = form_helper(Fieldset(_("Décision sur ce projet"), *fields), submit=_("Enregistrer la décision"),
                                  form_id="decision-form", action=action)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("outcome") == Outcome.LAUREATE:
            if not cleaned.get("track"):
                self.add_error("track", _("Choisissez le parcours du lauréat."))
            if not cleaned.get("granted_amount_eur"):
                self.add_error("granted_amount_eur", _("Indiquez le montant accordé au lauréat."))
        return cleaned


class WhatIfForm(forms.Form):
    """Another envelope, or proposals forced in or out: computed, never saved."""

    forced_in = forms.MultipleChoiceField(label=_("Projets imposés"), required=False,
                                          help_text=_("Ctrl + clic (ou Cmd + clic) pour en choisir plusieurs."))
    forced_out = forms.MultipleChoiceField(label=_("Projets écartés"), required=False,
                                           help_text=_("Ctrl + clic (ou Cmd + clic) pour en choisir plusieurs."))

    def __init__(self, *args, tracks, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        names = []
        for track in tracks:
            budget, count = f"budget_{track.pk}", f"max_{track.pk}"
            self.fields[budget] = forms.IntegerField(
                label=_("Enveloppe du parcours « %(track)s » (€)") % {"track": track.name}, min_value=0,
                required=False, initial=track.budget_eur)
            self.fields[count] = forms.IntegerField(
                label=_("Lauréats au plus dans le parcours « %(track)s »") % {"track": track.name}, min_value=0,
                required=False, initial=track.max_laureates)
            names += [budget, count]
        choices = [(str(row.id), f"{row.reference} — {row.title}") for row in candidates]
        self.fields["forced_in"].choices = choices
        self.fields["forced_out"].choices = choices
        self.helper = form_helper(Fieldset(_("Et si…"), *names, "forced_in", "forced_out"),
                                  submit=_("Calculer ce scénario"), form_id="what-if-form", method="get")

    def envelopes(self, tracks):
        """{track id: (budget, max count)} with the form's values, the track's own where left empty."""
        data = self.cleaned_data
        return {
            track.pk: (
                track.budget_eur if data.get(f"budget_{track.pk}") is None else data[f"budget_{track.pk}"],
                track.max_laureates if data.get(f"max_{track.pk}") is None else data[f"max_{track.pk}"],
            )
            for track in tracks
        }


class MinutesForm(forms.Form):
    held_on = forms.DateField(label=_("Date de la délibération"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    present_members = forms.ModelMultipleChoiceField(label=_("Membres présents"), queryset=None, required=False,
                                                     widget=forms.CheckboxSelectMultiple)
    minutes = forms.CharField(label=_("Procès-verbal"), required=False, widget=forms.Textarea(attrs={"rows": 12}),
                              max_length=20000,
                              help_text=_("Déroulé de la séance, points discutés, votes et remarques du jury."))

    def __init__(self, *args, call, **kwargs):
        super().__init__(*args, **kwargs)
        members = JuryMember.objects.filter(call=call).select_related("user")
        self.fields["present_members"].queryset = members
        self.fields["present_members"].label_from_instance = lambda m: f"{m.user} — {m.get_role_display()}"
        self.helper = form_helper("held_on", "present_members", "minutes", submit=_("Enregistrer le procès-verbal"),
                                  form_id="minutes-form")


class JournalFilterForm(forms.Form):
    call = forms.ChoiceField(label=_("Appel"), required=False)
    action = forms.ChoiceField(label=_("Action"), required=False)

    def __init__(self, *args, calls, actions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["call"].choices = [("", _("Tous les appels"))] + [(c.slug, c.title) for c in calls]
        self.fields["action"].choices = [("", _("Toutes les actions"))] + [(a, a) for a in actions]
        self.helper = form_helper("call", "action", submit=_("Filtrer"), form_id="journal-filter", method="get")
