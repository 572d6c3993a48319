"""The laureates' open-data rows (CONTRACT.md): the same rows for the CSV, the JSON and the exports."""

from django.utils import translation

from applications.models import AdministrationKind
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
    return list(iter_laureate_rows(call))


def iter_laureate_rows(call):
    """laureate_rows() streamed from a server-side cursor (the exports of large calls).

    The French labels are read once, before the first row: a language override held across `yield`
    would leak into the caller's code between rows.
    """
    with translation.override("fr"):
        kinds = {value: str(label) for value, label in AdministrationKind.choices}
    yield from (
            {
                "appel": call.slug,
                "reference": decision.proposal.reference,
                "titre": decision.proposal.title,
                "administration": decision.proposal.administration.name,
                "type_administration": kinds[decision.proposal.administration.kind],
                "accompagnement": decision.track.name,
                "montant_accompagnement_eur": int(decision.granted_amount_eur),
                "score_pondere": decision.score,
                "rang": decision.rank,
            }
            for decision in laureate_decisions(call).iterator(chunk_size=2000)
    )
