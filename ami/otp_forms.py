"""The second factor's forms: a code from the authenticator app, or a recovery code."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from ami.forms import form_helper
from ami.two_factor import normalise_code


class TOTPCodeForm(forms.Form):
    token = forms.CharField(
        label=_("Code à 6 chiffres"),
        help_text=_("Le code affiché par votre application d'authentification ; il change toutes les 30 secondes."),
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}),
    )

    def __init__(self, *args, submit, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("token", submit=submit)

    def clean_token(self):
        token = re.sub(r"\s", "", self.cleaned_data["token"])
        if not re.fullmatch(r"\d{6}", token):
            raise forms.ValidationError(_("Saisissez les 6 chiffres affichés par votre application."))
        return token


class RecoveryCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code de secours"),
        help_text=_("Un des codes reçus lors de l'activation ; chacun ne sert qu'une fois."),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("code", submit=_("Utiliser ce code"))

    def clean_code(self):
        code = normalise_code(self.cleaned_data["code"])
        if not re.fullmatch(r"[a-z2-7]{8}", code):
            raise forms.ValidationError(_("Un code de secours compte 8 lettres et chiffres, par exemple « abcd2345 »."))
        return code
