"""Weighted scores: one review's score is Σ weight × note / note maximale, on 0–100."""

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from statistics import mean, median

from django.db.models import F, Sum

from jury.models import ReviewStatus, Score

TWO_PLACES = Decimal("0.01")


def review_weighted_scores(call):
    """{review_id: (proposal_id, juror_id, score on 0–100)} for the call's submitted reviews, in one query."""
    rows = (
        Score.objects.filter(review__proposal__call=call, review__status=ReviewStatus.SUBMITTED)
        .values("review_id", "review__proposal_id", "review__juror_id")
        .annotate(points=Sum(F("criterion__weight") * F("value")))
    )
    scale = call.score_scale_max
    return {
        row["review_id"]: (row["review__proposal_id"], row["review__juror_id"], row["points"] / scale) for row in rows
    }


def proposal_raw_scores(call):
    """{proposal_id: {"mean": …, "median": …, "n": …}} over submitted reviews."""
    by_proposal = defaultdict(list)
    for proposal_id, _juror_id, score in review_weighted_scores(call).values():
        by_proposal[proposal_id].append(score)
    return {
        pid: {"mean": mean(scores), "median": median(scores), "n": len(scores)} for pid, scores in by_proposal.items()
    }


def two_decimals(value):
    return Decimal(str(value)).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
