"""The frozen state of a call, as the selection report shows it: plain JSON, French labels, fixed rounding.

Everything the report prints comes from this dict, so that a stored snapshot always renders the same
document. Nothing volatile goes in: no "now", no audit-chain head (the report row keeps that beside the
snapshot), only the state of the call — the same state always gives the same SHA-256.
"""

import hashlib
import json
from collections import Counter

import numpy as np
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from ami.models import AuditEvent
from applications.models import AdministrationKind, Proposal, ProposalStatus
from jury.models import Conflict, ConflictSource, Decision, JuryMember, JuryRole, Outcome, Review, ReviewStatus
from jury.services.deliberation import get_deliberation
from jury.services.ranking import CANDIDATE_STATUSES, add_robustness, rank_call

SCHEMA = 1
PROGRAMME = "Programme d'investissements d'avenir — DINUM et DITP"
UNSUBMITTED = (ProposalStatus.DRAFT, ProposalStatus.WITHDRAWN)


def canonical_json(snapshot):
    return json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def snapshot_sha256(snapshot):
    """SHA-256 hex of the canonical JSON (sorted keys, no spaces, UTF-8): anyone can recompute it."""
    return hashlib.sha256(canonical_json(snapshot).encode()).hexdigest()


def audit_head():
    """The hash of the last entry of the audit trail (the chain's head), or "" when it is empty."""
    return AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first() or ""


def _r2(value):
    return None if value is None else round(float(value), 2)


def _day(value):
    return date_format(value, "j F Y") if value else ""


def _person(first, last, email):
    return f"{first} {last}".strip() or email


def take_snapshot(call):
    """The call's state as a JSON-ready dict (see the module docstring). Reads only; French labels whatever
    the request's language. Side effects: the cache of rank intervals (`add_robustness`)."""
    with translation.override("fr"):
        deliberation = get_deliberation(call)
        decisions = {d.proposal_id: d for d in Decision.objects.filter(proposal__call=call).select_related("track")}
        tracks = list(call.tracks.all())
        ranking = rank_call(call, rank_by=deliberation.rank_by, track_ids=[t.pk for t in tracks])
        cutoffs = {t.pk: sum(1 for d in decisions.values() if d.outcome == Outcome.LAUREATE and d.track_id == t.pk)
                   for t in tracks}
        add_robustness(ranking, call_id=call.pk, cutoffs=cutoffs)
        proposals = {p.pk: p for p in Proposal.objects.filter(call=call).exclude(status__in=UNSUBMITTED)
                     .select_related("administration", "requested_track")}
        return {
            "schema": SCHEMA,
            "call": _call(call),
            "programme": PROGRAMME,
            "draft": not deliberation.is_locked,
            "as_of": _as_of(call, deliberation, decisions).isoformat(),
            "deliberation": _deliberation(deliberation),
            "criteria": _criteria(call),
            "tracks": [_track(t, decisions) for t in tracks],
            "figures": _figures(call, proposals),
            "jury": _jury(call, deliberation),
            "ranking": _ranking(ranking, tracks, decisions, proposals),
            "laureates": _laureates(call, ranking, tracks, decisions, proposals),
            "waiting_list": _waiting(ranking, tracks, decisions),
        }


def _as_of(call, deliberation, decisions):
    """The moment of the state: the lock, else the last change of a decision or of the deliberation."""
    if deliberation.locked_at:
        return timezone.localtime(deliberation.locked_at).replace(microsecond=0)
    moments = [deliberation.updated_at, *(d.decided_at for d in decisions.values())]
    return timezone.localtime(max(moments)).replace(microsecond=0)


def _call(call):
    return {
        "slug": call.slug, "title": call.title, "reference_prefix": call.reference_prefix,
        "description": call.description, "status": call.status, "status_label": str(call.get_status_display()),
        "opens": _day(timezone.localtime(call.opens_at)), "closes": _day(timezone.localtime(call.closes_at)),
        "jury_date": _day(call.jury_date), "announcement_date": _day(call.announcement_date),
        "year": (call.jury_date or timezone.localtime(call.closes_at).date()).year,
        "score_scale_max": call.score_scale_max, "reviews_per_proposal": call.reviews_per_proposal,
        "uses_pairs": call.uses_pairs, "conflict_same_ministry": call.conflict_same_ministry,
        "min_reviews_for_normalisation": call.min_reviews_for_normalisation,
        "disagreement_threshold": _r2(call.disagreement_threshold),
    }


def _deliberation(deliberation):
    present = deliberation.present_members.select_related("user").order_by("pair_label", "id")
    return {
        "rank_by": deliberation.rank_by, "rank_by_label": str(deliberation.get_rank_by_display()),
        "administration_cap": deliberation.administration_cap, "ministry_cap": deliberation.ministry_cap,
        "held_on": _day(deliberation.held_on), "minutes": deliberation.minutes,
        "locked": deliberation.is_locked,
        "locked_at": _day(timezone.localtime(deliberation.locked_at)) if deliberation.locked_at else "",
        "present": [_person(m.user.first_name, m.user.last_name, m.user.email) for m in present],
    }


def _criteria(call):
    return [{"position": n + 1, "title": c.title, "description": c.description, "weight": c.weight,
             "rubric": [str(level) for level in (c.rubric or [])]}
            for n, c in enumerate(call.criteria.order_by("position", "id"))]


def _track(track, decisions):
    laureates = [d for d in decisions.values() if d.outcome == Outcome.LAUREATE and d.track_id == track.pk]
    granted = sum(d.granted_amount_eur or 0 for d in laureates)
    return {"id": track.pk, "code": track.code, "name": track.name, "description": track.description,
            "budget": track.budget_eur, "max_laureates": track.max_laureates, "laureates": len(laureates),
            "granted": granted, "remaining": track.budget_eur - granted}


def _figures(call, proposals):
    kinds = Counter(p.administration.kind for p in proposals.values())
    by_track = Counter(p.requested_track.name if p.requested_track else _("Sans parcours") for p in proposals.values())
    statuses = Counter(p.status for p in proposals.values())
    eligible = sum(statuses[s] for s in CANDIDATE_STATUSES)
    reviews = Review.objects.filter(proposal__call=call, status=ReviewStatus.SUBMITTED).without_conflicts()
    return {
        "proposals": len(proposals),
        "administrations": len({p.administration_id for p in proposals.values()}),
        "by_kind": [{"kind": kind, "label": str(label), "count": kinds[kind]}
                    for kind, label in AdministrationKind.choices if kinds[kind]],
        "by_track": [{"label": label, "count": count} for label, count in sorted(by_track.items())],
        "eligibility": {"eligible": eligible, "ineligible": statuses[ProposalStatus.INELIGIBLE],
                        "pending": statuses[ProposalStatus.SUBMITTED]},
        "reviews": reviews.count(),
        "requested_total": sum(p.requested_amount_eur or 0 for p in proposals.values()),
    }


def _jury(call, deliberation):
    members = JuryMember.objects.filter(call=call).select_related("user").order_by("pair_label", "id")
    rows = [{"name": _person(m.user.first_name, m.user.last_name, m.user.email), "role": m.role,
             "role_label": str(m.get_role_display()), "pair": m.pair_label} for m in members]
    pairs = {}
    for row in rows:
        if row["pair"]:
            pairs.setdefault(row["pair"], []).append(row["name"])
    conflicts = Counter(Conflict.objects.filter(juror__call=call).values_list("source", flat=True))
    return {
        "chair": next((r["name"] for r in rows if r["role"] == JuryRole.CHAIR), ""),
        "members": rows,
        "pairs": [{"label": label, "members": names} for label, names in sorted(pairs.items())],
        "conflicts": [{"source": str(label), "count": conflicts[source]} for source, label in ConflictSource.choices],
        "conflicts_total": sum(conflicts.values()),
        "present_count": deliberation.present_members.count(),
    }


def _row(row, decision, proposal):
    return {
        "reference": row.reference, "title": row.title, "administration": row.administration,
        "kind_label": str(proposal.administration.get_kind_display()) if proposal else "",
        "rank": row.rank, "n_reviews": row.n_reviews, "raw": _r2(row.raw), "adjusted": _r2(row.adjusted),
        "median": _r2(row.median), "spread": _r2(row.spread), "score": _r2(row.score),
        "interval": list(row.interval) if row.interval else None, "disagreement": row.disagreement,
        "cutoff_zone": bool(row.cutoff_zone),
        "outcome": decision.outcome if decision else "", "outcome_label": str(decision.get_outcome_display())
        if decision else _("Sans décision"),
        "requested": row.amount, "granted": decision.granted_amount_eur if decision else None,
    }


def _ranking(ranking, tracks, decisions, proposals):
    return [{"track": t.name, "code": t.code,
             "rows": [_row(r, decisions.get(r.id), proposals.get(r.id)) for r in ranking.by_track[t.pk]]}
            for t in tracks]


def criterion_means(ranking):
    """{proposal id: [(raw mean note, adjusted mean note)] per criterion}, on the call's scale.

    A juror's correction is affine on the 0–100 scale (offset and scale around the mean of all reviews), so
    applying it to each criterion's note keeps the weighted sum of the adjusted notes equal to the adjusted
    score. Pure NumPy over the already loaded reviews.
    """
    data = ranking.data
    if not data.review_ids.size:
        return {}
    scale_max = data.scale_max
    centre = float(data.weighted.mean())
    offsets = np.array([j.offset for j in ranking.jurors])
    scales = np.array([j.scale for j in ranking.jurors])
    percent = data.marks / scale_max * 100
    adjusted = (percent - centre - offsets[data.review_juror][:, None]) / scales[data.review_juror][:, None] + centre
    adjusted = np.clip(adjusted, 0, 100) / 100 * scale_max
    counts = np.bincount(data.review_proposal, minlength=data.proposal_ids.size)[:, None]
    sums_raw = np.zeros((data.proposal_ids.size, data.marks.shape[1]))
    sums_adj = np.zeros_like(sums_raw)
    np.add.at(sums_raw, data.review_proposal, data.marks)
    np.add.at(sums_adj, data.review_proposal, adjusted)
    raw_means, adj_means = sums_raw / np.maximum(counts, 1), sums_adj / np.maximum(counts, 1)
    return {int(pk): [(_r2(raw_means[n, c]), _r2(adj_means[n, c])) for c in range(data.marks.shape[1])]
            for n, pk in enumerate(data.proposal_ids)}


def _laureates(call, ranking, tracks, decisions, proposals):
    order = {t.pk: n for n, t in enumerate(tracks)}
    means = criterion_means(ranking)
    grid = list(call.criteria.order_by("position", "id").values_list("title", "weight"))
    chosen = sorted((d for d in decisions.values() if d.outcome == Outcome.LAUREATE),
                    key=lambda d: (order.get(d.track_id, 99), d.rank, proposals[d.proposal_id].reference))
    result = []
    for decision in chosen:
        proposal, row = proposals[decision.proposal_id], ranking.rows.get(decision.proposal_id)
        result.append({
            "reference": proposal.reference, "title": proposal.title, "summary": proposal.summary,
            "administration": proposal.administration.name, "acronym": proposal.administration.acronym,
            "kind_label": str(proposal.administration.get_kind_display()),
            "ministry": proposal.administration.ministry,
            "requested_track": proposal.requested_track.name if proposal.requested_track else "",
            "requested": proposal.requested_amount_eur, "track": decision.track.name if decision.track else "",
            "granted": decision.granted_amount_eur, "reason": decision.reason,
            "override_reason": decision.override_reason, "rank": decision.rank, "score": _r2(decision.score),
            "raw": _r2(row.raw) if row else None, "adjusted": _r2(row.adjusted) if row else None,
            "criteria": [{"title": title, "weight": weight, "raw": raw, "adjusted": adjusted}
                         for (title, weight), (raw, adjusted) in zip(grid, means.get(proposal.pk, []), strict=False)],
        })
    return result


def _waiting(ranking, tracks, decisions):
    rows = []
    for track in tracks:
        for row in ranking.by_track[track.pk]:
            decision = decisions.get(row.id)
            if decision and decision.outcome == Outcome.WAITING_LIST:
                rows.append({"track": track.name, "rank": row.rank, "reference": row.reference, "title": row.title,
                             "administration": row.administration, "score": _r2(row.score),
                             "requested": row.amount, "reason": decision.reason})
    return rows

