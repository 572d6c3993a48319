"""The evaluation sheet of one proposal, for its applicants once the results are announced: the mean notes
per criterion (raw and adjusted for the jurors' habits), the comments the jurors chose to publish, the
decision and its reason. Rendered on request (a page or two) with the report's renderer and fetcher."""

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from jury.models import Decision, Review, ReviewStatus, Score
from jury.report.render import SHEET_TEMPLATE, html_to_pdf, neutralise_bidi
from jury.report.snapshot import criterion_means
from jury.services.deliberation import get_deliberation
from jury.services.ranking import rank_call


def refusal(proposal):
    """Why the sheet cannot be downloaded now (a French sentence), or ""."""
    if not proposal.call.results_public:
        return _("La fiche d'évaluation de ce projet sera disponible après l'annonce des résultats.")
    if not Decision.objects.filter(proposal=proposal).exists():
        return _("Ce projet n'a pas été examiné par le jury : il n'a pas de fiche d'évaluation.")
    return ""


def filename(proposal):
    return f"fiche-evaluation-{proposal.reference or proposal.pk}.pdf"


def public_comments(proposal):
    """The comments the jurors marked for publication, per criterion (never the juror's name); one query."""
    reviews = Review.objects.filter(proposal=proposal, status=ReviewStatus.SUBMITTED).without_conflicts()
    scores = (Score.objects.filter(review__in=reviews, comment_public=True).exclude(comment="")
              .order_by("criterion__position", "criterion_id", "review_id").values_list("criterion_id", "comment"))
    comments = {}
    for criterion_id, comment in scores:
        comments.setdefault(criterion_id, []).append(comment)
    return comments


def sheet_context(proposal):
    call, decision = proposal.call, Decision.objects.select_related("track").get(proposal=proposal)
    ranking = rank_call(call, rank_by=get_deliberation(call).rank_by)
    means = criterion_means(ranking).get(proposal.pk, [])
    comments = public_comments(proposal)
    criteria = list(call.criteria.order_by("position", "id"))
    rows = [{"title": c.title, "weight": c.weight, "raw": pair[0], "adjusted": pair[1],
             "comments": comments.get(c.pk, [])} for c, pair in zip(criteria, means, strict=False)]
    row = ranking.rows.get(proposal.pk)
    day = call.announcement_date or timezone.localdate()
    return {"proposal": proposal, "call": call, "decision": decision, "criteria": rows, "row": row,
            "scale_max": call.score_scale_max, "has_comments": any(r["comments"] for r in rows),
            "announced": date_format(day, "j F Y"),
            "as_of": f"{day.isoformat()}T12:00:00+00:00"}


def sheet_pdf(proposal):
    """The sheet's PDF bytes. Reads the call's scores (the ranking), the decision and the published comments."""
    with translation.override("fr"):
        html = neutralise_bidi(render_to_string(SHEET_TEMPLATE, sheet_context(proposal)))
    pdf, _pages = html_to_pdf(html, identifier=f"sheet-{proposal.pk}".encode())
    return pdf
