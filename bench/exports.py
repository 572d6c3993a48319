"""Exports of a synthetic call of 10,000 proposals (3 submitted reviews × 7 criteria each, a decision each)
in CSV, XLSX, ODS and JSON: time and peak resident memory of each, measured in a fresh process per format
so that one format's memory never hides another's.

    .venv/bin/python bench/exports.py            (PostgreSQL when DATABASE_URL is set)
"""

import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import _common
from _database import bench_database, migrate, setup_django

PROPOSALS = int(os.environ.get("BENCH_PROPOSALS", 10_000))
JURORS, CRITERIA, REVIEWS = 60, 7, 3
FORMATS = ("csv", "xlsx", "ods", "json")


def seed():
    from datetime import timedelta

    from django.utils import timezone

    from ami.models import Call, CallStatus, Criterion, Track, User
    from applications.models import Administration, AdministrationKind, Proposal, ProposalStatus
    from jury.models import Decision, JuryMember, Outcome, Review, ReviewStatus, Score

    rng = random.Random(7)
    now = timezone.now()
    call = Call.objects.create(
        slug="bench-exports", title="Appel synthétique", reference_prefix="BENCH", description="-",
        eligibility_text="-", opens_at=now - timedelta(days=90), closes_at=now - timedelta(days=60),
        status=CallStatus.DELIBERATION,
    )
    track = Track.objects.create(call=call, code="t", name="Parcours unique", budget_eur=10**9, max_laureates=500)
    criteria = Criterion.objects.bulk_create(
        Criterion(call=call, position=i, title=f"Critère {i}", weight=w) for i, w in
        enumerate([20, 15, 15, 15, 15, 10, 10])
    )
    staff = User.objects.create_user("staff@bench.gouv.fr", "x", is_staff=True)
    users = User.objects.bulk_create(User(email=f"jure{i}@bench.gouv.fr") for i in range(JURORS))
    jurors = JuryMember.objects.bulk_create(JuryMember(call=call, user=u) for u in users)
    administrations = Administration.objects.bulk_create(
        Administration(name=f"Administration {i}", kind=AdministrationKind.values[i % 6],
                       ministry=f"Ministère {i % 12}")
        for i in range(400)
    )
    proposals = Proposal.objects.bulk_create(
        (
            Proposal(
                call=call, administration=administrations[i % 400], reference=f"BENCH-{i + 1:05d}",
                title=f"Projet {i} : détection automatique « n°{i} » — {'x' * rng.randint(10, 120)}",
                summary="Résumé " * 40, requested_track=track, requested_amount_eur=rng.randint(5, 40) * 10_000,
                status=ProposalStatus.ELIGIBLE,
            )
            for i in range(PROPOSALS)
        ),
        batch_size=2000,
    )
    reviews = Review.objects.bulk_create(
        (
            Review(proposal=p, juror=juror, status=ReviewStatus.SUBMITTED)
            for p in proposals
            for juror in rng.sample(jurors, REVIEWS)
        ),
        batch_size=5000,
    )
    Score.objects.bulk_create(
        (Score(review=r, criterion=c, value=rng.randint(0, 5)) for r in reviews for c in criteria),
        batch_size=10000,
    )
    Decision.objects.bulk_create(
        (
            Decision(proposal=p, outcome=Outcome.NOT_SELECTED, track=track, score=50, rank=i + 1,
                     reason="Classé au-delà de l'enveloppe.")
            for i, p in enumerate(proposals)
        ),
        batch_size=5000,
    )
    return call, staff


def peak_rss_mb():
    """This process's own high-water mark (VmHWM). ru_maxrss would not do: Linux carries it over from the
    parent across fork and exec, so every child would report the seeding parent's peak."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(fmt, url):
    """Runs one export in this fresh process; prints seconds and peak RSS."""
    setup_django(url)
    from ami.models import Call, User
    from jury import exports

    call, staff = Call.objects.get(slug="bench-exports"), User.objects.get(email="staff@bench.gouv.fr")
    target = Path(os.environ.get("TMPDIR", "/tmp")) / f"ami-bench-export-{os.getpid()}.{fmt}"
    started = time.perf_counter()
    columns, rows, total = exports.dataset(call, "proposals", user=staff)
    with open(target, "wb") as handle:
        exports.write(fmt, columns, rows, handle, title=call.slug)
    seconds = time.perf_counter() - started
    size = target.stat().st_size
    target.unlink()
    peak_mb = peak_rss_mb()
    print(f"{fmt} {total} {seconds:.3f} {peak_mb:.1f} {size}")


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        return child(sys.argv[2], sys.argv[3])
    with bench_database("exports") as url:
        setup_django(url)
        migrate()
        started = time.perf_counter()
        seed()
        print(f"seeded {PROPOSALS} proposals in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        from django.db import connections

        connections.close_all()
        formats = {}
        for fmt in FORMATS:
            output = subprocess.run(
                [sys.executable, __file__, "--child", fmt, url], check=True, capture_output=True, text=True,
                env={**os.environ, "DATABASE_URL": url},
            ).stdout.split()
            _, rows, seconds, peak, size = output[-5:]
            assert int(rows) == PROPOSALS, f"{fmt}: {rows} rows exported instead of {PROPOSALS}"
            formats[fmt] = {"seconds": float(seconds), "peak_rss_mb": float(peak), "bytes": int(size)}
            print(f"{fmt}: {seconds} s, peak {peak} MB, {size} bytes", file=sys.stderr)
    _common.emit({"proposals": PROPOSALS, "formats": formats, **_common.machine()})


if __name__ == "__main__":
    main()
