"""Forms of the juror's pages, rendered through the project's DSFR crispy pack. They validate; services save."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ami.forms import form_helper
from jury.models import Recommendation

OPINION_MAX_LENGTH = 6000
COMMENT_MAX_LENGTH = 3000



class CharterForm(forms.Form):
    accept = forms.BooleanField(
        label=_("J'ai lu la charte du jury et je m'engage à la respecter."),
        error_messages={"required": _("Cochez la case pour accepter la charte du jury.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("accept", submit=_("Accepter la charte"), form_id="charter-form")


class DashboardFilterForm(forms.Form):
    """Narrows the dashboard to one track and/or one expertise tag (GET, so that the URL can be shared)."""

    parcours = forms.ChoiceField(label=_("Parcours demandé"), required=False)
    theme = forms.ChoiceField(label=_("Thème d'expertise"), required=False)

    def __init__(self, *args, tracks, tags, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parcours"].choices = [("", _("Tous les parcours"))] + [(t.code, t.name) for t in tracks]
        self.fields["theme"].choices = [("", _("Tous les thèmes"))] + [(tag, tag) for tag in tags]
        self.helper = form_helper("parcours", "theme", submit=_("Filtrer"), form_id="dashboard-filters", method="get")

    def selected(self):
        """(track code, tag), empty strings for "all"; an unknown value filters nothing."""
        if not self.is_valid():
            return "", ""
        return self.cleaned_data["parcours"], self.cleaned_data["theme"]


def _level_label(value, rubric):
    text = rubric[value] if value < len(rubric) and rubric[value] else ""
    return f"{value} — {text}" if text else str(value)


class ReviewForm(forms.Form):
    """Per criterion of the call, a note from 0 to the call's maximum (the rubric as labels) and a comment;
    then an overall opinion and a recommendation. Everything is optional for a draft: the service
    `submit_review` says what is missing before a submission."""

    overall_opinion = forms.CharField(
        label=_("Avis général"),
        help_text=_("Vos points forts, points de vigilance et conditions de réussite, lus par les autres membres "
                    "du jury et l'équipe du programme."),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=OPINION_MAX_LENGTH,
        required=False,
    )
    recommendation = forms.ChoiceField(
        label=_("Recommandation"),
        choices=Recommendation.choices,
        widget=forms.RadioSelect,
        required=False,
        error_messages={"invalid_choice": _("Choisissez l'une des recommandations proposées.")},
    )

    def __init__(self, *args, criteria, scale_max, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = list(criteria)
        for criterion in self.criteria:
            self.fields[f"score_{criterion.pk}"] = forms.TypedChoiceField(
                label=_("Note : %(criterion)s") % {"criterion": criterion.title},
                help_text=_("De 0 à %(max)s. Poids du critère : %(weight)s %%.") % {
                    "max": scale_max, "weight": criterion.weight},
                choices=[(value, _level_label(value, criterion.rubric or [])) for value in range(scale_max + 1)],
                coerce=int,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
                error_messages={"invalid_choice": _("Choisissez une note entière de 0 à %(max)s.") % {
                    "max": scale_max}},
            )
            self.fields[f"comment_{criterion.pk}"] = forms.CharField(
                label=_("Commentaire sur « %(criterion)s »") % {"criterion": criterion.title},
                widget=forms.Textarea(attrs={"rows": 3}),
                max_length=COMMENT_MAX_LENGTH,
                required=False,
            )
            self.fields[f"public_{criterion.pk}"] = forms.BooleanField(
                label=_("Publier ce commentaire dans la fiche d'évaluation remise au porteur de projet"),
                help_text=_("Sans votre nom, après l'annonce des résultats."),
                required=False,
            )
        self.helper = form_helper(form_tag=False)

    @staticmethod
    def initial_from(review, scores):
        initial = {"overall_opinion": review.overall_opinion, "recommendation": review.recommendation}
        for score in scores:
            initial[f"score_{score.criterion_id}"] = score.value
            initial[f"comment_{score.criterion_id}"] = score.comment
            initial[f"public_{score.criterion_id}"] = score.comment_public
        return initial

    def criterion_rows(self):
        """[(criterion, note field, comment field, publication checkbox)] in the order of the call's grid."""
        return [(c, self[f"score_{c.pk}"], self[f"comment_{c.pk}"], self[f"public_{c.pk}"]) for c in self.criteria]

    def clean(self):
        cleaned = super().clean()
        for criterion in self.criteria:
            score, comment = f"score_{criterion.pk}", f"comment_{criterion.pk}"
            if cleaned.get(score) is None and score not in self.errors and (cleaned.get(comment) or "").strip():
                self.add_error(score, _("Donnez une note pour enregistrer votre commentaire."))
        return cleaned

    def review_data(self):
        """The shape `services.reviews.save_review` takes."""
        return {
            "scores": {
                c.pk: {"value": self.cleaned_data[f"score_{c.pk}"], "comment": self.cleaned_data[f"comment_{c.pk}"],
                       "public": self.cleaned_data[f"public_{c.pk}"]}
                for c in self.criteria
            },
            "overall_opinion": self.cleaned_data["overall_opinion"],
            "recommendation": self.cleaned_data["recommendation"],
        }


class ConflictForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif du conflit d'intérêts"),
        help_text=_("Par exemple : vous avez travaillé pour cette administration ces trois dernières années, "
                    "vous avez contribué au projet, un proche fait partie de l'équipe."),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        error_messages={"required": _("Indiquez le motif du conflit d'intérêts.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = form_helper("reason", submit=_("Déclarer le conflit d'intérêts"), form_id="conflict-form")
