"""Selection reports: the demo's `ami-ia-2019` and a synthetic call of 1,000 proposals and 100 laureates, timed
against the floor of WeasyPrint rendering the same final HTML alone, in the same run.

Each measure runs in a fresh process (peak resident memory from VmHWM, never the seeding parent's):
* `report`: the whole path of the worker — snapshot of the call, charts, template, layout, PDF
  (`take_snapshot` then `render_report`, exactly what `build_report` runs, without storing the file);
* `floor`: the same final HTML (written by the `report` child) through WeasyPrint alone, same options.
Each figure is the best of a few runs (REPEATS), each in a fresh process; peak memory is the highest.

    .venv/bin/python bench/report.py            (PostgreSQL when DATABASE_URL is set)
"""

import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common
from _database import bench_database, migrate, setup_django

PROPOSALS = int(os.environ.get("BENCH_PROPOSALS", 1000))
LAUREATES = 100
JURORS, REVIEWS = 40, 3
SYNTHETIC = "bench-report-1000"


def peak_rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def seed_synthetic():
    """A locked call of PROPOSALS proposals (3 submitted reviews × 7 criteria each), 100 laureates in two
    tracks, a waiting list, through the deliberation's own `decide_call_as_scripted`."""
    from datetime import date, timedelta

    from django.utils import timezone

    from ami.models import Call, CallStatus, Criterion, Track, User
    from applications.models import Administration, AdministrationKind, Proposal, ProposalStatus
    from jury.models import JuryMember, JuryRole, Review, ReviewStatus, Score
    from jury.services.deliberation import decide_call_as_scripted

    rng = random.Random(2026)
    now = timezone.now()
    call = Call.objects.create(
        slug=SYNTHETIC, title="Appel synthétique de 1 000 projets", reference_prefix="BENCH", description="-",
        eligibility_text="-", opens_at=now - timedelta(days=90), closes_at=now - timedelta(days=60),
        jury_date=date(2026, 7, 1), status=CallStatus.DELIBERATION, uses_pairs=True)
    tracks = [Track.objects.create(call=call, code="technique", name="Accompagnement technique et métier",
                                   budget_eur=80 * 200_000, max_laureates=80, position=0),
              Track.objects.create(call=call, code="scientifique", name="Accompagnement scientifique",
                                   budget_eur=20 * 120_000, max_laureates=20, position=1)]
    rubric = ["absent", "très insuffisant", "insuffisant", "correct", "solide", "remarquable"]
    criteria = Criterion.objects.bulk_create(
        Criterion(call=call, position=i, title=f"Critère {i + 1}", description="Description du critère.",
                  weight=w, rubric=rubric) for i, w in enumerate([25, 20, 15, 10, 15, 5, 10]))
    users = User.objects.bulk_create(User(email=f"jure{i}@bench.gouv.fr", first_name="Expert",
                                          last_name=f"N{i}") for i in range(JURORS))
    jurors = JuryMember.objects.bulk_create(
        JuryMember(call=call, user=u, role=JuryRole.CHAIR if i == 0 else JuryRole.MEMBER, pair_label=f"B{i // 2}")
        for i, u in enumerate(users))
    administrations = Administration.objects.bulk_create(
        Administration(name=f"Administration {i}", acronym=f"ADM{i}", kind=AdministrationKind.values[i % 6],
                       ministry=f"Ministère {i % 12}") for i in range(300))
    proposals = Proposal.objects.bulk_create(
        Proposal(call=call, administration=administrations[i % 300], reference=f"BENCH-{i + 1:04d}",
                 title=f"Projet {i + 1} : détection automatique des anomalies n° {i + 1}",
                 summary="Résumé du projet, de ses données et de ses bénéfices attendus. " * 6,
                 requested_track=tracks[0] if i % 5 else tracks[1],
                 requested_amount_eur=200_000 if i % 5 else 120_000, status=ProposalStatus.ELIGIBLE)
        for i in range(PROPOSALS))
    reviews = Review.objects.bulk_create(
        Review(proposal=p, juror=j, status=ReviewStatus.SUBMITTED, submitted_at=now)
        for p in proposals for j in rng.sample(jurors, REVIEWS))
    quality = {p.pk: rng.uniform(0.3, 0.95) for p in proposals}
    Score.objects.bulk_create(
        (Score(review=r, criterion=c, value=max(0, min(5, round(5 * quality[r.proposal_id] + rng.gauss(0, 0.7)))))
         for r in reviews for c in criteria), batch_size=10_000)
    decide_call_as_scripted(call=call, by=users[0])
    return call


def child(slug, url, html_path, mode):
    """One measure in this fresh process. Both modes import their modules before the clock starts, as a
    worker has them imported after its first task: the figures compare the work of one report."""
    setup_django(url)
    import logging

    from weasyprint import HTML

    from ami.models import Call
    from jury.report import render
    from jury.report.fetcher import BASE_URL, StaticOnlyFetcher
    from jury.report.snapshot import audit_head, snapshot_sha256, take_snapshot

    logging.disable(logging.INFO)  # WeasyPrint's progress lines

    if mode == "report":
        started = time.perf_counter()
        snapshot = take_snapshot(Call.objects.get(slug=slug))
        sha = snapshot_sha256(snapshot)
        pdf, pages = render.render_report(snapshot, sha256=sha, audit_head=audit_head(), version=1,
                                          is_draft=snapshot["draft"])
        seconds = time.perf_counter() - started
        # The same final HTML, for the floor (rendered again outside the timing).
        context = render.report_context(snapshot, sha256=sha, audit_head=audit_head(), version=1,
                                        is_draft=snapshot["draft"])
        Path(html_path).write_text(render.report_html(context))
    else:
        html = Path(html_path).read_text()
        started = time.perf_counter()
        document = HTML(string=html, base_url=BASE_URL, url_fetcher=StaticOnlyFetcher()).render(**render.PDF_OPTIONS)
        pdf = document.write_pdf(pdf_identifier=b"floor", **render.PDF_OPTIONS)
        pages = len(document.pages)
        seconds = time.perf_counter() - started
    print(f"{mode} {pages} {seconds:.3f} {peak_rss_mb():.1f} {len(pdf)}")


REPEATS = {"ami-ia-2019": 3, SYNTHETIC: 2}  # best of N, each in a fresh process: a shared machine is noisy


def measure(slug, url, mode, html_path):
    """(pages, best seconds, highest peak MB) over REPEATS[slug] fresh processes."""
    runs = []
    for _ in range(REPEATS[slug]):
        output = subprocess.run(
            [sys.executable, __file__, "--child", slug, url, html_path, mode], check=True, capture_output=True,
            text=True, env={**os.environ, "DATABASE_URL": url}).stdout.split()
        _mode, pages, seconds, peak, size = output[-5:]
        runs.append((int(pages), float(seconds), float(peak)))
    return runs[0][0], min(r[1] for r in runs), max(r[2] for r in runs)


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "--child":
        return child(*sys.argv[2:])
    import logging

    logging.disable(logging.INFO)
    results = []
    with bench_database("report") as url:
        setup_django(url)
        migrate()
        started = time.perf_counter()
        from ami.demo import seed

        seed()
        call = seed_synthetic()
        print(f"seeded the demo and {PROPOSALS} proposals in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        counts = {slug: n for slug, n in ((s, call.__class__.objects.get(slug=s).proposals.count())
                                          for s in ("ami-ia-2019", SYNTHETIC))}
        from django.db import connections

        connections.close_all()
        with tempfile.TemporaryDirectory(prefix="ami-bench-report-") as folder:
            for slug in ("ami-ia-2019", SYNTHETIC):
                html_path = str(Path(folder) / f"{slug}.html")
                pages, seconds, peak = measure(slug, url, "report", html_path)
                _pages, floor, _peak = measure(slug, url, "floor", html_path)
                results.append({"call": slug, "proposals": counts[slug], "pages": pages, "seconds": round(seconds, 2),
                                "floor_seconds": round(floor, 2), "ratio": round(seconds / floor, 2),
                                "peak_rss_mb": round(peak, 1)})
                print(f"{slug}: {results[-1]}", file=sys.stderr)
    _common.emit({"reports": results, "load_average": os.getloadavg()[0], **_common.machine()})


if __name__ == "__main__":
    main()
