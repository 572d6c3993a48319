"""The records-request pack: one zip per call with what a request for administrative documents asks for.

In 2025 a citizen asked for the evaluation grid, the jury's composition, the method, the minutes and
the decisions with their reasons, the scores per proposal, the blank application form and the list
of laureates (DOMAIN.md). Everything here is built from the database at the time of the request, and
each file carries the date in its name. Jurors are anonymised in the scores (« Juré A », « Juré B »…):
the composition of the jury is communicable, who gave which score is not.
"""

import csv
import io
import zipfile
from string import ascii_uppercase

from django.template.loader import render_to_string
from django.utils import timezone, translation
from weasyprint import HTML

from applications.models import ProposalStatus
from applications.services import PROPOSAL_SECTIONS
from jury import exports
from jury.models import Decision, Deliberation, JuryRole, Outcome, ReviewStatus, Score
from jury.opendata import COLUMNS as LAUREATE_COLUMNS

METHOD = """Méthode de sélection — {call}

1. Recevabilité. L'équipe du programme vérifie chaque projet déposé au regard des conditions de l'appel
   (questions de recevabilité du formulaire) ; chaque décision est enregistrée avec son motif, son
   auteur et sa date.
2. Affectation. Chaque projet recevable est confié à {k} {unit} du jury par une optimisation (programme
   linéaire en nombres entiers, OR-Tools) qui équilibre la charge des jurés, respecte leurs maximums,
   exclut tout conflit d'intérêts (appartenance à l'administration porteuse{ministry}, conflit déclaré ou
   signalé) et tient compte des expertises.
3. Notation. Chaque juré note chaque critère publié de 0 à {scale} selon la grille ci-jointe. Le score
   pondéré d'une évaluation est la somme des poids multipliés par les notes, divisée par la note
   maximale (sur 100). Le score d'un projet est la moyenne de ses évaluations.
4. Correction des biais. La sévérité ou l'indulgence habituelle de chaque juré (décalage et échelle),
   estimée sur l'ensemble de ses évaluations et ramenée vers zéro quand il en a rendu peu (estimation
   bayésienne empirique), est corrigée pour les jurés ayant rendu au moins {min_reviews} évaluations.
   Le classement retenu : {rank_by}.
5. Désaccords et robustesse. Un écart de plus de {threshold} points entre les évaluations d'un projet le
   place à l'ordre du jour de la délibération, comme un rang incertain autour de la limite de sélection
   (intervalles par rééchantillonnage des évaluations, variation de ±10 % du poids de chaque critère).
6. Sélection. Le jury délibère sur une proposition qui maximise la somme des scores des lauréats dans
   l'enveloppe et le nombre maximal de lauréats de chaque parcours, présentée à côté de l'ordre du
   classement ; chaque décision est motivée ; le président arrête les décisions.
7. Traçabilité. Chaque affectation, conflit, évaluation, note, décision de recevabilité et de sélection
   est inscrite dans un journal chaîné par empreintes SHA-256, vérifiable (commande verify_audit).
"""


def _csv(header, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([exports.neutralise(str(value)) if value is not None else "" for value in row] for row in rows)
    return buffer.getvalue().encode("utf-8")


def grid_csv(call):
    rows = [
        (criterion.position + 1, criterion.title, criterion.description, criterion.weight, call.score_scale_max,
         " | ".join(f"{level} : {text}" for level, text in criterion.rubric_levels()))
        for criterion in call.criteria.all()
    ]
    return _csv(["ordre", "critere", "description", "poids_sur_100", "note_maximale", "grille"], rows)


def jury_csv(call):
    labels = dict(JuryRole.choices)
    rows = [
        (str(labels[member.role]), member.user.get_full_name() or member.user.email, member.pair_label,
         ", ".join(member.expertise), member.charter_accepted_at.date().isoformat() if member.charter_accepted_at
         else "")
        for member in call.jury_members.select_related("user").order_by("role", "pair_label", "user__last_name")
    ]
    return _csv(["role", "nom", "binome", "expertises", "charte_acceptee_le"], rows)


def method_text(call):
    deliberation = Deliberation.objects.filter(call=call).first()
    return METHOD.format(
        call=call.title, k=call.reviews_per_proposal,
        unit="binôme(s)" if call.uses_pairs else "juré(s)",
        ministry=" ou à son ministère" if call.conflict_same_ministry else "",
        scale=call.score_scale_max, min_reviews=call.min_reviews_for_normalisation,
        rank_by=str(deliberation.get_rank_by_display()).lower() if deliberation else "score corrigé des biais",
        threshold=call.disagreement_threshold,
    ).encode("utf-8")


def decisions_csv(call):
    outcomes = dict(Outcome.choices)
    decisions = (
        Decision.objects.filter(proposal__call=call)
        .select_related("proposal__administration", "track")
        .order_by("track__position", "rank")
    )
    rows = [
        (d.proposal.reference, d.proposal.title, d.proposal.administration.name, str(outcomes[d.outcome]),
         d.track.name if d.track else "", d.granted_amount_eur, d.score, d.rank, d.reason, d.override_reason)
        for d in decisions
    ]
    return _csv(["reference", "titre", "administration", "decision", "parcours", "montant_accorde_eur",
                 "score_pondere", "rang", "motif", "motif_derogation"], rows)


def minutes_text(call):
    deliberation = Deliberation.objects.filter(call=call).prefetch_related("present_members__user").first()
    if deliberation is None:
        return "Aucune délibération n'est enregistrée pour cet appel.\n".encode()
    present = ", ".join(m.user.get_full_name() or m.user.email for m in deliberation.present_members.all())
    lines = [
        f"Procès-verbal de la délibération — {call.title}",
        f"Date : {deliberation.held_on.isoformat() if deliberation.held_on else 'non renseignée'}",
        f"Présents : {present or 'non renseignés'}",
        f"Décisions arrêtées le : {timezone.localtime(deliberation.locked_at):%d/%m/%Y %H:%M}"
        if deliberation.locked_at else "Décisions non encore arrêtées.",
        "",
        deliberation.minutes or "(procès-verbal non rédigé)",
        "",
    ]
    return "\n".join(lines).encode("utf-8")


def scores_csv(call):
    """One row per submitted review and criterion; jurors named by letter, in a stable order."""
    jurors = list(call.jury_members.order_by("pk").values_list("pk", flat=True))
    alias = {pk: _alias(index) for index, pk in enumerate(jurors)}
    scores = (
        Score.objects.filter(review__proposal__call=call, review__status=ReviewStatus.SUBMITTED)
        .select_related("review__proposal", "criterion")
        .order_by("review__proposal__reference", "review__juror_id", "criterion__position")
    )
    rows = [
        (s.review.proposal.reference, s.review.proposal.title, alias.get(s.review.juror_id, "?"),
         s.criterion.title, s.criterion.weight, s.value, call.score_scale_max)
        for s in scores
    ]
    return _csv(["reference", "titre", "jure", "critere", "poids", "note", "note_maximale"], rows)


def _alias(index):
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = ascii_uppercase[remainder] + letters
    return f"Juré {letters}"


def blank_form_pdf(call):
    with translation.override("fr"):
        html = render_to_string("jury/records/blank_form.html", {
            "call": call,
            "sections": [(str(title), _field_labels(fields)) for title, fields in PROPOSAL_SECTIONS],
            "questions": list(call.eligibility_questions.all()),
        })
    return HTML(string=html, url_fetcher=_refuse_fetch).write_pdf()


def _field_labels(names):
    from applications.models import Proposal

    return [str(Proposal._meta.get_field(name).verbose_name).capitalize() for name in names
            if name != "eligibility_answers"]


def _refuse_fetch(url, *args, **kwargs):
    raise ValueError(f"external resource refused: {url}")


def laureates_csv(call):
    rows = [[row[column] for column in LAUREATE_COLUMNS] for row in exports.laureate_rows(call)]
    return _csv(LAUREATE_COLUMNS, rows)


def build_pack(call, today=None):
    """(file name, zip bytes) of the records-request pack of `call`."""
    today = today or timezone.localdate()
    stamp = f"{today:%Y-%m-%d}"
    files = [
        (f"01-grille-d-evaluation-{stamp}.csv", "la grille d'évaluation : critères, poids, note maximale et "
         "niveaux de la grille", grid_csv(call)),
        (f"02-composition-du-jury-{stamp}.csv", "la composition du jury : rôle, nom, binôme, expertises, "
         "date d'acceptation de la charte", jury_csv(call)),
        (f"03-methode-{stamp}.txt", "la méthode de sélection, en clair", method_text(call)),
        (f"04-proces-verbal-{stamp}.txt", "le procès-verbal de la délibération", minutes_text(call)),
        (f"05-decisions-motivees-{stamp}.csv", "les décisions et leurs motifs", decisions_csv(call)),
        (f"06-notes-par-projet-{stamp}.csv", "les notes par projet et par critère, jurés anonymisés",
         scores_csv(call)),
        (f"07-formulaire-de-candidature-vierge-{stamp}.pdf", "le formulaire de candidature vierge",
         blank_form_pdf(call)),
    ]
    if call.results_public:
        files.append((f"08-laureats-{stamp}.csv", "la liste des lauréats (données ouvertes)", laureates_csv(call)))
    submitted = call.proposals.exclude(status__in=[ProposalStatus.DRAFT, ProposalStatus.WITHDRAWN]).count()
    readme = "\n".join([
        f"Dossier de communication — {call.title}",
        f"Constitué le {today:%d/%m/%Y} à partir du portail des AMI « Intelligence artificielle ».",
        f"Projets déposés : {submitted}.",
        "",
        "Fichiers :",
        *[f"- {name} : {description}" for name, description, _ in files],
        "",
        "Les jurés sont désignés par une lettre dans les notes ; la correspondance n'est pas communiquée.",
        "Les fichiers CSV sont encodés en UTF-8, séparés par des virgules, avec une ligne d'en-tête.",
        "",
    ])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as pack:
        pack.writestr(f"00-LISEZ-MOI-{stamp}.txt", readme.encode("utf-8"))
        for name, _, content in files:
            pack.writestr(name, content)
    return f"{call.slug}-dossier-communication-{stamp}.zip", buffer.getvalue()
