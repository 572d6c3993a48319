"""Ranking of a synthetic call of 10,000 proposals (3 submitted reviews × 7 criteria each, 60 jurors of
varying harshness): the service that loads every score from the database and ranks with the juror
normalisation (goal: < 1 s), then the bootstrap intervals of the ranks with 1,000 resamples (goal: < 5 s).

    .venv/bin/python bench/ranking.py            (PostgreSQL when DATABASE_URL is set)
"""

import os
import random
import time

import _common
from _database import bench_database, migrate, setup_django

PROPOSALS = int(os.environ.get("BENCH_PROPOSALS", 10_000))
JURORS, CRITERIA, REVIEWS, RESAMPLES = 60, 7, 3, 1000


def seed():
    from datetime import timedelta

    from django.utils import timezone

    from ami.models import Call, CallStatus, Criterion, Track, User
    from applications.models import Administration, AdministrationKind, Proposal, ProposalStatus
    from jury.models import JuryMember, Review, ReviewStatus, Score

    rng = random.Random(11)
    now = timezone.now()
    call = Call.objects.create(
        slug="bench-ranking", title="Appel synthétique", reference_prefix="BENCH", description="-",
        eligibility_text="-", opens_at=now - timedelta(days=90), closes_at=now - timedelta(days=60),
        status=CallStatus.DELIBERATION, min_reviews_for_normalisation=4,
    )
    envelopes = [("technique", 35_000_000, 110), ("scientifique", 5_000_000, 40)]
    tracks = [Track.objects.create(call=call, code=code, name=code, budget_eur=budget, max_laureates=count, position=n)
              for n, (code, budget, count) in enumerate(envelopes)]
    criteria = Criterion.objects.bulk_create(
        Criterion(call=call, position=i, title=f"Critère {i}", weight=w)
        for i, w in enumerate([25, 20, 15, 10, 15, 5, 10])
    )
    users = User.objects.bulk_create(User(email=f"jure{i}@bench.gouv.fr") for i in range(JURORS))
    jurors = JuryMember.objects.bulk_create(JuryMember(call=call, user=u) for u in users)
    offsets = {juror.pk: rng.gauss(0, 0.6) for juror in jurors}  # in notes out of 5
    administrations = Administration.objects.bulk_create(
        Administration(name=f"Administration {i}", kind=AdministrationKind.values[i % 6],
                       ministry=f"Ministère {i % 12}")
        for i in range(400)
    )
    proposals = Proposal.objects.bulk_create(
        (Proposal(call=call, administration=administrations[i % 400], reference=f"BENCH-{i + 1:05d}",
                  title=f"Projet {i}", requested_track=tracks[0] if i % 5 else tracks[1],
                  requested_amount_eur=rng.randint(5, 45) * 10_000, status=ProposalStatus.ELIGIBLE)
         for i in range(PROPOSALS)),
        batch_size=2000,
    )
    quality = {p.pk: rng.uniform(1, 4.5) for p in proposals}
    reviews = Review.objects.bulk_create(
        (Review(proposal=p, juror=juror, status=ReviewStatus.SUBMITTED)
         for p in proposals for juror in rng.sample(jurors, REVIEWS)),
        batch_size=5000,
    )
    Score.objects.bulk_create(
        (Score(review=r, criterion=c,
               value=max(0, min(5, round(quality[r.proposal_id] + offsets[r.juror_id] + rng.gauss(0, 0.7)))))
         for r in reviews for c in criteria),
        batch_size=10000,
    )
    return call


def analyze():
    """Fresh tables have no planner statistics; a live database has them (autovacuum)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def main():
    with bench_database("ranking") as url:
        setup_django(url)
        migrate()
        call = seed()
        analyze()
        from jury.models import RankBy
        from jury.services.ranking import rank_call, rank_intervals

        rank_call(call, rank_by=RankBy.ADJUSTED)  # warm-up: imports, connection, query plans
        started = time.perf_counter()
        ranking = rank_call(call, rank_by=RankBy.ADJUSTED)
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        intervals = rank_intervals(ranking, call_id=call.pk, resamples=RESAMPLES, use_cache=False)
        bootstrap_seconds = time.perf_counter() - started
        ranked = sum(len(rows) for rows in ranking.by_track.values())
        assert ranked == PROPOSALS and len(intervals) == PROPOSALS
        assert ranking.normalised
        _common.emit({
            "proposals": PROPOSALS, "reviews": int(ranking.data.review_ids.size), "criteria": CRITERIA,
            "seconds": round(seconds, 3), "bootstrap_resamples": RESAMPLES,
            "bootstrap_seconds": round(bootstrap_seconds, 3),
            "database": "postgresql" if url.startswith("postgres") else "sqlite",
        })


if __name__ == "__main__":
    main()
