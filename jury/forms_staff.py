"""Forms of the staff jury pages and of the invitation acceptance, rendered through the DSFR crispy pack."""

from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from ami.forms import form_helper
from ami.models import User
from jury.models import JuryRole

TAGS_HELP = _("Séparées par des virgules, par exemple : NLP, vision par ordinateur, santé, justice.")



def tags_initial(tags):
    return ", ".join(tags or [])


class InvitationForm(forms.Form):
    email = forms.EmailField(
        label=_("Adresse électronique de la personne invitée"),
        error_messages={"invalid": _("Saisissez une adresse électronique valide, par exemple prenom.nom@exemple.fr.")},
    )
    role = forms.ChoiceField(label=_("Rôle"), choices=JuryRole.choices, initial=JuryRole.MEMBER)
    pair_label = forms.CharField(
        label=_("Binôme"), max_length=20, required=False,
        help_text=_("Même libellé pour les deux membres d'un binôme, par exemple B1."),
    )
    expertise = forms.CharField(label=_("Expertises"), max_length=300, required=False, help_text=TAGS_HELP)

    def __init__(self, *args, action=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs["autocomplete"] = "off"
        self.helper = form_helper(
            "email", "role", "pair_label", "expertise", submit=_("Envoyer l'invitation"), form_id="invite-form",
            action=action, extra_submit=("check", _("Vérifier les conflits")),
        )


class MemberForm(forms.Form):
    pair_label = forms.CharField(label=_("Binôme"), max_length=20, required=False)
    expertise = forms.CharField(label=_("Expertises"), max_length=300, required=False, help_text=TAGS_HELP)
    max_load = forms.IntegerField(
        label=_("Nombre maximal de projets à évaluer"), min_value=1, max_value=500, required=False,
        help_text=_("Laisser vide : pas de maximum."),
    )

    def __init__(self, *args, action=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("pair_label", "expertise", "max_load", submit=_("Enregistrer"), form_id="member-form",
                                  action=action)


class StaffConflictForm(forms.Form):
    juror = forms.ModelChoiceField(
        label=_("Membre du jury"), queryset=None,
        error_messages={"invalid_choice": _("Choisissez un membre du jury de cet appel.")},
    )
    proposal = forms.ModelChoiceField(
        label=_("Projet"), queryset=None,
        error_messages={"invalid_choice": _("Choisissez un projet déposé sur cet appel.")},
    )
    reason = forms.CharField(label=_("Motif"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)

    def __init__(self, *args, jurors, proposals, action=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["juror"].queryset = jurors
        self.fields["juror"].label_from_instance = lambda j: j.user.get_full_name() or j.user.email
        self.fields["proposal"].queryset = proposals
        self.fields["proposal"].label_from_instance = lambda p: f"{p.reference} — {p.title}"
        self.helper = form_helper("juror", "proposal", "reason", submit=_("Enregistrer le conflit"),
                                  form_id="conflict-form", action=action)


class MoveForm(forms.Form):
    to_juror = forms.ModelChoiceField(
        label=_("Nouvel évaluateur"), queryset=None,
        error_messages={
            "invalid_choice": _("Ce membre ne fait pas partie du jury de cet appel."),
            "required": _("Choisissez le nouvel évaluateur."),
        },
    )

    def __init__(self, *args, jurors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_juror"].queryset = jurors


class ProposalExpertiseForm(forms.Form):
    tags = forms.CharField(label=_("Expertises"), max_length=300, required=False, help_text=TAGS_HELP)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tags"].widget.attrs["class"] = "fr-input"


class InvitedAccountForm(forms.Form):
    """The account of an invited juror who had none: the address is the invited one, already verified."""

    first_name = forms.CharField(label=_("Prénom"), max_length=150)
    last_name = forms.CharField(label=_("Nom"), max_length=150)
    password1 = forms.CharField(
        label=_("Mot de passe"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Au moins 12 caractères, ni trop courant, ni uniquement des chiffres."),
    )
    password2 = forms.CharField(
        label=_("Confirmation du mot de passe"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args, email, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email
        self.helper = form_helper("first_name", "last_name", "password1", "password2",
                                  submit=_("Créer mon compte et rejoindre le jury"), form_id="invited-account")

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("Les deux mots de passe ne sont pas identiques."))
        elif first:
            user = User(email=self.email, first_name=cleaned.get("first_name", ""),
                        last_name=cleaned.get("last_name", ""))
            try:
                password_validation.validate_password(first, user)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned
