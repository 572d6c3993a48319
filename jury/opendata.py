"""The laureates' open-data rows (CONTRACT.md): the same rows for the CSV, the JSON and the exports."""

from django.utils import translation

from jury.models import Decision, Outcome

COLUMNS = [
    "appel",
    "reference",
    "titre",
    "administration",
    "type_administration",
    "accompagnement",
    "montant_accompagnement_eur",
    "score_pondere",
    "rang",
]


def laureate_decisions(call):
    return (
        Decision.objects.filter(proposal__call=call, outcome=Outcome.LAUREATE)
        .select_related("proposal__administration", "track")
        .order_by("track__position", "track_id", "rank")
    )


def laureate_rows(call):
    """One dict per laureate, in rank order within each track, keyed by the open-data columns.

    Labels are French whatever the visitor's language: open data must not change with it.
    `score_pondere` is a Decimal with two places (a string in CSV, a number in JSON).
    """
    with translation.override("fr"):
        return [
            {
                "appel": call.slug,
                "reference": decision.proposal.reference,
                "titre": decision.proposal.title,
                "administration": decision.proposal.administration.name,
                "type_administration": decision.proposal.administration.get_kind_display(),
                "accompagnement": decision.track.name,
                "montant_accompagnement_eur": int(decision.granted_amount_eur),
                "score_pondere": decision.score,
                "rang": decision.rank,
            }
            for decision in laureate_decisions(call)
        ]
