"""Public pages (and the reviewer dashboard once it exists) under gunicorn, each against a bare Django view.

Goals (issue 3): public pages at least 70 % of the floor's requests/s, personal dashboards at least
25 %, p99 under 200 ms, at 50 concurrent clients. The floor is a view returning "ok" through the same
middleware, served by the same gunicorn in the same run, measured in slices alternating with each page's.
A personal page is also measured against the signed-in floor: the same bare view asked with the page's
session cookie (signed_in_floor_* and ratio_to_signed_in_floor in its JSON object), which tells what
signing in costs by itself.

Run from the repository root: .venv/bin/python bench/web.py (PostgreSQL when DATABASE_URL is set,
Redis cache when REDIS_URL is set). Data: the demo's three calls (ami-ia-2019 has 15 laureates) and,
when `jury:dashboard` exists, a call in review with a juror holding 20 assignments.
"""

import time
from datetime import timedelta

import _common
import _server

CONCURRENCY = 50
SECONDS = 10  # per page and as much for its floor, in ROUNDS alternating slices
ROUNDS = 5
WARMUP_SECONDS = 2
GOALS = {"public": 0.70, "personal": 0.25}
P99_GOAL_MS = 200
JUROR_ASSIGNMENTS = 20


def seed_jury():
    """A call in review, 40 submitted proposals, a juror (charter accepted) with 20 assignments; returns
    (dashboard path, juror) or (None, None) when the reviewer dashboard is not wired yet."""
    from django.urls import NoReverseMatch, reverse
    from django.utils import timezone

    try:
        reverse("jury:dashboard", args=["ami-bench-jury"])
    except NoReverseMatch:
        return None, None
    from ami import demo
    from ami import demo_data as data
    from ami.models import CallStatus, User
    from ami.services import transition_call
    from applications.models import Administration, Proposal
    from applications.services import assign_reference_and_submit
    from jury.models import Review, ReviewStatus

    staff = User.objects.get(email="programme@demo.ami-ia.fr")
    now = timezone.now()
    call = demo.create_call(
        slug="ami-bench-jury", title="AMI banc d'essai du jury", prefix="AMIBENCH",
        opens=now - timedelta(days=60), closes=now - timedelta(days=20),
        jury_day=(now + timedelta(days=10)).date(), announced=(now + timedelta(days=15)).date(),
        description="Appel de mesure.", tracks=data.TRACKS_2019, pairs=False,
    )
    transition_call(call=call, to_status=CallStatus.OPEN, by=staff)
    track = call.tracks.first()
    administrations = list(Administration.objects.order_by("name")[:40])
    proposals = []
    for index, administration in enumerate(administrations):
        proposal = Proposal.objects.create(
            call=call, administration=administration, title=f"Projet de mesure {index + 1}",
            summary="Un projet pour mesurer le tableau de bord.", problem="Un problème.",
            data_description="Des données.",
            ai_approach="Une approche.", expected_benefits="Des bénéfices.", team="Une équipe.",
            requested_amount_eur=200_000, requested_track=track, created_by=staff,
        )
        assign_reference_and_submit(proposal=proposal, by=staff, at=now - timedelta(days=21))
        proposals.append(proposal)
    for status in demo.ANNOUNCED_PATH[1:4]:
        transition_call(call=call, to_status=status, by=staff)
    juror = demo.build_jury(call, size=3)[1]
    Review.objects.bulk_create([
        Review(proposal=proposal, juror=juror, status=ReviewStatus.ASSIGNED, assigned_by=staff, assigned_at=now)
        for proposal in proposals[:JUROR_ASSIGNMENTS]
    ])
    return reverse("jury:dashboard", args=[call.slug]), juror.user


def seed():
    """The pages to measure: [(name, kind, path, cookies, expected text)]."""
    from ami import demo
    from ami.models import Call, CallStatus
    from jury.models import Decision, Outcome

    demo.seed()
    open_call = Call.objects.get(status=CallStatus.OPEN)
    announced = Call.objects.get(slug="ami-ia-2019")
    laureates = Decision.objects.filter(proposal__call=announced, outcome=Outcome.LAUREATE).count()
    pages = [
        ("home", "public", "/", None, open_call.title),
        ("call", "public", open_call.get_absolute_url(), None, "criteria-table"),
        ("laureates", "public", f"/appels/{announced.slug}/laureats/", None, f"{laureates} projets lauréats"),
    ]
    dashboard, juror = seed_jury()
    if dashboard:
        pages.append(("reviewer_dashboard", "personal", dashboard, _server.session_cookie(juror), ""))
    else:
        _server.log("[web] jury:dashboard is not wired yet: the reviewer dashboard is not measured")
    return pages, laureates


def measure(server, path, cookies):
    """The page and the floor in alternating slices (the machine's other load falls on both alike).

    Also counts the CPU time gunicorn spent on each: on a machine shared with other work, CPU per
    request says what the requests/s would be on a machine of its own.
    """
    port = server.port
    page_raws = [_server.build("GET", path, port=port, cookies=cookies)]
    floor_raws = [_server.build("GET", "/bench/floor/", port=port)]
    for raws in (floor_raws, page_raws):
        _server.hammer(port, raws, concurrency=CONCURRENCY, seconds=WARMUP_SECONDS)
    runs = {"floor": ([], floor_raws, [0.0]), "page": ([], page_raws, [0.0])}
    for _round in range(ROUNDS):
        for results, raws, cpu in runs.values():
            before = server.cpu_seconds()
            results.append(_server.hammer(port, raws, concurrency=CONCURRENCY, seconds=SECONDS / ROUNDS))
            cpu[0] += server.cpu_seconds() - before
    (floor, _r, floor_cpu), (page, _r2, page_cpu) = runs.values()
    floor, page = _server.merge(floor), _server.merge(page)
    floor["cpu_ms"] = floor_cpu[0] * 1000 / max(1, floor["requests"])
    page["cpu_ms"] = page_cpu[0] * 1000 / max(1, page["requests"])
    return floor, page


def signed_in_floor(server, cookies, page):
    """The same bare view, asked with the page's session cookie: what signing in costs by itself (the session,
    the user, the second-factor device, read on every request of a signed-in user), against the anonymous
    floor; and the page against that signed-in floor."""
    floor, signed_in = measure(server, "/bench/floor/", cookies)
    ratio = signed_in["rps"] / floor["rps"] if floor["rps"] else 0.0
    extra = {
        "signed_in_floor_rps": round(signed_in["rps"], 1),
        "signed_in_floor_ratio": round(ratio, 3),
        "signed_in_floor_server_cpu_ms": round(signed_in["cpu_ms"], 3),
        "ratio_to_signed_in_floor": round(page["rps"] / signed_in["rps"], 3) if signed_in["rps"] else 0.0,
    }
    _server.log(f"[web]   signed-in floor: {extra['signed_in_floor_rps']} req/s = {ratio:.0%} of the anonymous "
                f"floor's {floor['rps']:.1f}, {extra['signed_in_floor_server_cpu_ms']} ms of server CPU a request; "
                f"the page is {extra['ratio_to_signed_in_floor']:.0%} of it")
    return extra


def main():
    started = time.perf_counter()
    results = []
    with _server.Site("web") as site:
        pages, laureates = seed()
        with _server.Gunicorn(site) as server:
            port = server.port
            for name, kind, path, cookies, expected in pages:
                check = _server.request(port, "GET", path, cookies=cookies)
                body = check.body.decode("utf-8", "replace")
                if check.status != 200 or expected not in body:
                    _server.log(f"[web] {path} answered {check.status} without {expected!r}: not measured\n"
                                f"{server.log_tail()}")
                    results.append({"page": name, "rps": 0.0, "floor_rps": 0.0, "ratio": 0.0, "p99_ms": 0.0,
                                    "concurrency": CONCURRENCY, "kind": kind, "path": path, "met": False,
                                    "error": f"HTTP {check.status} on the first request"})
                    continue
                floor, page = measure(server, path, cookies)
                errors = len(page["errors"]) + sum(n for status, n in page["statuses"].items() if status != 200)
                ratio = page["rps"] / floor["rps"] if floor["rps"] else 0.0
                result = {
                    "page": name,
                    "rps": round(page["rps"], 1),
                    "floor_rps": round(floor["rps"], 1),
                    "ratio": round(ratio, 3),
                    "p99_ms": round(page["p99_ms"], 1),
                    "concurrency": CONCURRENCY,
                    "kind": kind,
                    "path": path,
                    "p50_ms": round(page["p50_ms"], 1),
                    "p95_ms": round(page["p95_ms"], 1),
                    "floor_p99_ms": round(floor["p99_ms"], 1),
                    "requests": page["requests"],
                    "errors": errors,
                    "ratio_goal": GOALS[kind],
                    "met": ratio >= GOALS[kind] and page["p99_ms"] < P99_GOAL_MS and errors == 0,
                    "cached": check.header("x-page-cache") in ("hit", "miss"),
                    "server_cpu_ms": round(page["cpu_ms"], 3),
                    "floor_server_cpu_ms": round(floor["cpu_ms"], 3),
                    "cpu_ratio": round(floor["cpu_ms"] / page["cpu_ms"], 3) if page["cpu_ms"] else 0.0,
                }
                _server.log(f"[web] {name}: {result['rps']} req/s vs floor {result['floor_rps']} "
                            f"({result['ratio']:.0%}), p99 {result['p99_ms']} ms, {errors} errors; server CPU "
                            f"{result['server_cpu_ms']} ms vs {result['floor_server_cpu_ms']} ms a request")
                if cookies:
                    result.update(signed_in_floor(server, cookies, page))
                results.append(result)
        backend, cache = site.backend, site.cache
    _server.log(f"[web] done in {time.perf_counter() - started:.0f} s")
    _common.emit({
        "pages": results,
        "database": backend,
        "cache": cache,
        "workers": _server.WORKERS,
        "seconds_per_page": SECONDS,
        "laureates": laureates,
        "p99_goal_ms": P99_GOAL_MS,
        "machine": _server.machine(),
    })


if __name__ == "__main__":
    main()
