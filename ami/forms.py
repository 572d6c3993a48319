"""Account forms, rendered through the project's DSFR crispy pack."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout, Submit
from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.utils.translation import gettext_lazy as _

from ami.models import Call, User
from ami.services import check_weights


def form_helper(*items, submit=None, legend=None, form_id=None, action=None, method="post", form_tag=True,
                extra_submit=None):
    """The crispy helper of a plain form of the project: its fields (in a fieldset when `legend` is given), then
    the buttons (`extra_submit`, a (name, label) pair, before the main `submit`), rendered by the DSFR pack."""
    helper = FormHelper()
    helper.form_tag = form_tag
    helper.form_method = method
    helper.layout = Layout(Fieldset(legend, *items) if legend else Layout(*items))
    if extra_submit:
        helper.add_input(Submit(*extra_submit))
    if submit:
        helper.add_input(Submit("submit", submit))
    if form_id:
        helper.form_id = form_id
    if action:
        helper.form_action = action
    return helper



class SignupForm(forms.ModelForm):
    password1 = forms.CharField(
        label=_("Mot de passe"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Au moins 12 caractères, ni trop courant, ni uniquement des chiffres."),
    )
    password2 = forms.CharField(
        label=_("Confirmation du mot de passe"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = User
        fields = ["email", "first_name", "last_name"]
        labels = {"email": _("Adresse électronique professionnelle"), "first_name": _("Prénom"), "last_name": _("Nom")}
        help_texts = {"email": _("Format attendu : prenom.nom@administration.gouv.fr")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_name"].required = True
        self.fields["last_name"].required = True
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.helper = form_helper(
            "email", "first_name", "last_name", "password1", "password2", submit=_("Créer mon compte")
        )

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                _("Un compte existe déjà avec cette adresse. Connectez-vous ou réinitialisez votre mot de passe.")
            )
        return email

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("Les deux mots de passe ne sont pas identiques."))
        elif first:
            user = User(
                email=cleaned.get("email", ""),
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
            )
            try:
                password_validation.validate_password(first, user)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("Adresse électronique ou mot de passe incorrect."),
        "inactive": _("Ce compte n'est pas encore activé : suivez le lien reçu par courriel."),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Adresse électronique")
        self.helper = form_helper("username", "password", submit=_("Se connecter"))


class ResetForm(PasswordResetForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("Adresse électronique")
        self.helper = form_helper("email", submit=_("Recevoir le lien"))


class NewPasswordForm(SetPasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("new_password1", "new_password2", submit=_("Enregistrer le mot de passe"))


class CallAdminForm(forms.ModelForm):
    class Meta:
        model = Call
        fields = [
            "slug", "title", "reference_prefix", "description", "eligibility_text", "opens_at", "closes_at",
            "jury_date", "announcement_date", "score_scale_max", "reviews_per_proposal", "uses_pairs",
            "conflict_same_ministry", "min_reviews_for_normalisation", "disagreement_threshold",
            "max_file_mb", "max_total_mb",
        ]

    def clean(self):
        cleaned = super().clean()
        opens, closes = cleaned.get("opens_at"), cleaned.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", _("La date de clôture doit être postérieure à la date d'ouverture."))
        return cleaned


class CriterionInlineFormSet(forms.BaseInlineFormSet):
    """The weights of a call's criteria must sum to 100: checked on the whole set, before any save."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        weights = [
            form.cleaned_data["weight"]
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("weight")
        ]
        check_weights(weights)
