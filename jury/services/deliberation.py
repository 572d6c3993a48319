"""The jury's deliberation: the board (ranking, budget, agenda), the selection and its "what if" runs,
decisions with their reasons, the lock at the end of the meeting, and the minutes.

Who decides: the chair of the call's jury (JuryMember role CHAIR) and the programme staff. Once the
chair has locked the decisions, only staff may change one, with a reason. Every change leaves one
audit entry with its before and after.
"""

from dataclasses import dataclass, field

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ami import audit
from ami.models import CallStatus
from ami.services import transition_call
from applications.models import Proposal
from applications.services import transition_proposal
from jury.algorithms.selection import Candidate, Envelope, format_euros, greedy, select, waiting_list
from jury.models import Decision, Deliberation, JuryMember, JuryRole, Outcome, RankBy
from jury.scoring import two_decimals
from jury.services.ranking import CANDIDATE_STATUSES, add_robustness, fingerprint, rank_call

WAITING_LIST_LENGTH = 5
# Phases in which the jury deliberates; later phases keep the locked record.
DELIBERATION_PHASES = {CallStatus.REVIEW, CallStatus.DELIBERATION}
SELECTION_CACHE_SECONDS = 3600


# ------------------------------------------------------------------------------------------------ rules


def jury_role(user, call):
    """The user's role in the call's jury ("chair", "member") or None; one query."""
    if not user.is_authenticated:
        return None
    return JuryMember.objects.filter(call=call, user=user).values_list("role", flat=True).first()


def can_deliberate(user, role):
    """Staff and the chair of the call's jury see the deliberation and decide."""
    return user.is_authenticated and (user.is_staff or role == JuryRole.CHAIR)


def locked_refusal():
    return _("Les décisions sont arrêtées : seule l'équipe du programme peut encore les modifier, en indiquant "
             "un motif.")


def _check_decider(*, by, call, deliberation, change_reason=""):
    """Raises PermissionDenied or ValidationError unless `by` may change a decision now."""
    if not can_deliberate(by, jury_role(by, call)):
        raise PermissionDenied(_("Seul le président du jury ou l'équipe du programme peut prendre les décisions."))
    if deliberation.is_locked:
        if not by.is_staff:
            raise PermissionDenied(locked_refusal())
        if not change_reason.strip():
            raise ValidationError(_("Les décisions sont arrêtées : indiquez le motif de cette modification."),
                                  code="change_reason")
    elif call.status not in DELIBERATION_PHASES:
        raise ValidationError(_("La délibération n'est ouverte que pendant les phases « Évaluation par le jury » "
                                "et « Délibération »."), code="phase")


def get_deliberation(call, *, lock=False):
    """The call's Deliberation row, created on first use (locked FOR UPDATE when `lock`)."""
    deliberation, _created = Deliberation.objects.get_or_create(call=call)
    if lock:
        deliberation = Deliberation.objects.select_for_update().get(pk=deliberation.pk)
    return deliberation


# ------------------------------------------------------------------------------------------------ selection


@dataclass
class Difference:
    proposal_id: int
    added: bool  # True: in the optimal selection only; False: in plain rank order only
    sentence: str


@dataclass
class SelectionOutcome:
    """The optimal selection beside plain rank order, under given envelopes, caps and forced decisions."""

    feasible: bool
    selected: set = field(default_factory=set)
    plain: set = field(default_factory=set)
    differences: list = field(default_factory=list)
    waiting: dict = field(default_factory=dict)  # track id -> [proposal id] best first
    totals: dict = field(default_factory=dict)  # track id -> (amount, count)
    total_score: float = 0.0
    plain_score: float = 0.0
    problems: list = field(default_factory=list)  # plain French sentences naming the binding constraints
    envelopes: dict = field(default_factory=dict)


def _candidates(ranking):
    return [
        Candidate(id=row.id, track=row.track_id, score=round(row.score, 2), amount=row.amount,
                  groups=(("administration", row.administration), ("ministry", row.ministry)))
        for row in ranking.candidates()
    ]


def default_envelopes(tracks):
    return {track.pk: Envelope(budget=track.budget_eur, max_count=track.max_laureates) for track in tracks}


def caps_of(deliberation):
    return {"administration": deliberation.administration_cap, "ministry": deliberation.ministry_cap}


def run_selection(ranking, *, tracks, caps, envelopes=None, forced_in=(), forced_out=(), call_id=None):
    """Optimal selection (CP-SAT) and plain rank order, with what changes and why. No side effects
    except the cache (when `call_id` is given and nothing is forced)."""
    envelopes = envelopes or default_envelopes(tracks)
    key = None
    if call_id is not None and not forced_in and not forced_out:
        limits = sorted((track, e.budget, e.max_count) for track, e in envelopes.items())
        extra = f"selection:{sorted(caps.items())}:{limits}"
        key = f"deliberation:selection:{call_id}:{fingerprint(ranking, extra)}"
        cached = cache.get(key)
        if cached is not None:
            return cached
    outcome = _compare(ranking, tracks=tracks, caps=caps, envelopes=envelopes, forced_in=set(forced_in),
                       forced_out=set(forced_out))
    if key:
        cache.set(key, outcome, SELECTION_CACHE_SECONDS)
    return outcome


def _compare(ranking, *, tracks, caps, envelopes, forced_in, forced_out):
    candidates = _candidates(ranking)
    kwargs = dict(candidates=candidates, envelopes=envelopes, group_caps=caps, forced_in=forced_in,
                  forced_out=forced_out)
    result = select(**kwargs)
    names = {track.pk: track.name for track in tracks}
    if result.status == "infeasible":
        return SelectionOutcome(feasible=False, problems=[_binding_sentence(b, names) for b in result.bindings],
                                envelopes=envelopes)
    if not result.optimal:
        return SelectionOutcome(feasible=False, envelopes=envelopes,
                                problems=[_("Le calcul n'a pas abouti dans le temps imparti ; réessayez.")])
    plain = greedy(**kwargs)
    plain_set = set(plain.selected)
    selected = _prefer_rank_order(set(result.selected), plain_set, candidates, caps, forced_in, forced_out)
    outcome = SelectionOutcome(
        feasible=True, selected=selected, plain=plain_set, total_score=result.total_score,
        plain_score=plain.total_score, envelopes=envelopes,
        waiting=waiting_list(candidates=candidates, selected=selected, forced_out=forced_out),
        totals={track: (total.amount, total.count) for track, total in result.per_track.items()},
    )
    outcome.differences = _differences(ranking, selected, plain_set, caps, forced_in, forced_out)
    return outcome


def _prefer_rank_order(selected, plain, candidates, caps, forced_in, forced_out):
    """Among equally good selections, the one closest to plain rank order: a proposal of the plain order
    replaces an optimal one of the same track, score and amount when the caps still hold (ties are the
    solver's arbitrary choice, and would read as differences to explain)."""
    by_id = {c.id: c for c in candidates}

    def same(a, b):
        return a.track == b.track and a.amount == b.amount and round(a.score, 2) == round(b.score, 2)

    for dropped in [by_id[pk] for pk in plain - selected if pk not in forced_out]:
        for added in [by_id[pk] for pk in selected - plain if pk not in forced_in]:
            trial = (selected - {added.id}) | {dropped.id}
            if same(dropped, added) and _caps_hold([by_id[pk] for pk in trial], caps):
                selected = trial
                break
    return selected


def _caps_hold(chosen, caps):
    for kind, cap in caps.items():
        if cap is None:
            continue
        groups = [dict(c.groups).get(kind) for c in chosen]
        if any(groups.count(group) > cap for group in set(groups) if group is not None):
            return False
    return True


def _binding_sentence(binding, track_names):
    if binding.kind == "forced_both":
        return _("Un même projet ne peut pas être à la fois imposé et écarté.")
    name = track_names.get(binding.track, binding.track)
    if binding.kind == "budget":
        return _("Les projets imposés dépassent à eux seuls l'enveloppe du parcours « %(track)s » : "
                 "%(total)s demandés pour %(limit)s.") % {
            "track": name, "total": format_euros(binding.total), "limit": format_euros(binding.limit)}
    if binding.kind == "count":
        return _("Plus de projets imposés dans le parcours « %(track)s » (%(total)s) que son nombre maximal "
                 "de lauréats (%(limit)s).") % {"track": name, "total": binding.total, "limit": binding.limit}
    if binding.group_kind == "administration":
        return _("%(total)s projets de l'administration « %(group)s » sont imposés, mais le plafond est de "
                 "%(limit)s lauréat(s) par administration.") % {
            "total": binding.total, "group": binding.group, "limit": binding.limit}
    return _("%(total)s projets du ministère « %(group)s » sont imposés, mais le plafond est de %(limit)s "
             "lauréat(s) par ministère.") % {"total": binding.total, "group": binding.group, "limit": binding.limit}


def _differences(ranking, selected, plain, caps, forced_in, forced_out):
    """One sentence per proposal on which the optimal selection and plain rank order disagree."""
    rows = ranking.rows
    added, dropped = sorted(selected - plain), sorted(plain - selected)
    sentences = []
    for pk in sorted(dropped, key=lambda p: (rows[p].track_id, rows[p].rank)):
        row = rows[pk]
        instead = [rows[p] for p in added if rows[p].track_id == row.track_id]
        if pk in forced_out:
            text = _("« %(title)s » (rang %(rank)s) est écarté à la demande du jury.")
        elif instead:
            text = _("« %(title)s » (rang %(rank)s, %(amount)s) cède sa place : l'enveloppe ainsi libérée permet "
                     "de retenir %(others)s, pour un score total plus élevé.")
        else:
            text = _("« %(title)s » (rang %(rank)s) n'est pas retenu pour respecter le plafond de lauréats par "
                     "administration ou par ministère.")
        sentences.append(Difference(pk, False, text % {
            "title": row.title, "rank": row.rank, "amount": format_euros(row.amount),
            "others": ", ".join(f"« {r.title} »" for r in instead)}))
    for pk in sorted(added, key=lambda p: (rows[p].track_id, rows[p].rank)):
        row = rows[pk]
        if pk in forced_in:
            text = _("« %(title)s » (rang %(rank)s) est retenu à la demande du jury.")
        else:
            text = _("« %(title)s » (rang %(rank)s, %(amount)s) est retenu : son montant tient dans l'enveloppe "
                     "restante, ce que ne permettait pas l'ordre du classement.")
        sentences.append(Difference(pk, True, text % {
            "title": row.title, "rank": row.rank, "amount": format_euros(row.amount)}))
    return sentences


# ------------------------------------------------------------------------------------------------ the board


@dataclass
class TrackBoard:
    track: object
    rows: list
    cutoff: int
    laureates_amount: int
    laureates_count: int

    @property
    def over_budget(self):
        return self.laureates_amount > self.track.budget_eur

    @property
    def over_count(self):
        return self.laureates_count > self.track.max_laureates


@dataclass
class Board:
    deliberation: Deliberation
    ranking: object
    tracks: list
    selection: SelectionOutcome
    decisions: dict
    agenda: list
    undecided: list


def board(call, *, deliberation):
    """Everything the deliberation page shows, in a fixed number of queries (tracks, criteria, scores,
    candidates, decisions). Side effects: the cache of rank intervals and selections."""
    tracks = list(call.tracks.all())
    ranking = rank_call(call, rank_by=deliberation.rank_by, track_ids=[t.pk for t in tracks])
    selection = run_selection(ranking, tracks=tracks, caps=caps_of(deliberation), call_id=call.pk)
    cutoffs = {t.pk: sum(1 for row in ranking.by_track[t.pk] if row.id in selection.selected) for t in tracks}
    add_robustness(ranking, call_id=call.pk, cutoffs=cutoffs)
    decisions = {d.proposal_id: d for d in Decision.objects.filter(proposal__call=call)}
    track_boards = []
    for track in tracks:
        laureates = [d for d in decisions.values() if d.outcome == Outcome.LAUREATE and d.track_id == track.pk]
        track_boards.append(TrackBoard(track=track, rows=ranking.by_track[track.pk], cutoff=cutoffs[track.pk],
                                       laureates_amount=sum(d.granted_amount_eur or 0 for d in laureates),
                                       laureates_count=len(laureates)))
    everyone = ranking.candidates() + ranking.unranked
    agenda = sorted(everyone, key=lambda r: (not r.flagged, r.track_id or 0, r.rank or 10**9, r.reference))
    undecided = [row for row in everyone if row.id not in decisions]
    return Board(deliberation=deliberation, ranking=ranking, tracks=track_boards, selection=selection,
                 decisions=decisions, agenda=agenda, undecided=undecided)


def agenda_reasons(row):
    """Why a proposal is on the agenda, in plain words."""
    reasons = []
    if row.n_reviews == 0:
        reasons.append(_("aucune évaluation soumise"))
    if row.disagreement:
        reasons.append(_("désaccord entre les évaluations"))
    if row.interval_crosses:
        reasons.append(_("dans la zone de coupure (intervalle de rang)"))
    if row.weight_sensitive:
        reasons.append(_("dans la zone de coupure (sensible aux poids)"))
    return reasons


# ------------------------------------------------------------------------------------------------ decisions


def _state(decision):
    if decision is None:
        return {}
    return {"outcome": decision.outcome, "track": decision.track_id, "granted_amount_eur": decision.granted_amount_eur,
            "reason": decision.reason, "override_reason": decision.override_reason, "score": str(decision.score),
            "rank": decision.rank}


def _envelope_problem(*, call, proposal, track, amount):
    """The envelope or maximum count that a new laureate would exceed, as a sentence, or ""."""
    others = Decision.objects.filter(proposal__call=call, outcome=Outcome.LAUREATE, track=track).exclude(
        proposal=proposal).values_list("granted_amount_eur", flat=True)
    others = list(others)
    total, count = sum(a or 0 for a in others) + amount, len(others) + 1
    problems = []
    if total > track.budget_eur:
        problems.append(_("le total des lauréats du parcours « %(track)s » atteindrait %(total)s pour une enveloppe "
                          "de %(budget)s") % {"track": track.name, "total": format_euros(total),
                                              "budget": format_euros(track.budget_eur)})
    if count > track.max_laureates:
        problems.append(_("le parcours « %(track)s » compterait %(count)s lauréats pour %(max)s au plus")
                        % {"track": track.name, "count": count, "max": track.max_laureates})
    return " ; ".join(problems)


def _write_decision(*, call, proposal, row, outcome, track, amount, reason, override_reason, by, deliberation,
                    change_reason=""):
    """Saves the decision if it changed; one audit entry; after the lock, moves the proposal's status too."""
    decision = Decision.objects.filter(proposal=proposal).first()
    before = _state(decision)
    decision = decision or Decision(proposal=proposal)
    decision.outcome, decision.reason, decision.override_reason = outcome, reason, override_reason
    decision.track = track
    decision.granted_amount_eur = amount if outcome == Outcome.LAUREATE else None
    decision.score = two_decimals(row.score if row and row.score is not None else 0)
    decision.rank = row.rank if row and row.rank else 0
    decision.decided_by = by
    after = _state(decision)
    if before == after:
        return decision
    decision.save()
    if deliberation.is_locked:
        after["change_reason"] = change_reason
        if proposal.status != outcome:
            transition_proposal(proposal=proposal, to_status=outcome, by=by, reason=change_reason)
    audit.record(action="decision.set", actor=by, call=call, target=decision, before=before, after=after)
    return decision


@transaction.atomic
def decide(*, call, proposal, by, outcome, reason, track=None, granted_amount_eur=None, override_reason="",
           change_reason=""):
    """Records the decision on one proposal: laureate (track and granted amount), waiting list or not selected.

    Side effects: locks the call's Deliberation row (decisions of a call are serialised, so the envelope
    check holds); creates or updates one Decision (score and rank taken from the current ranking); one audit
    entry `decision.set` with before/after (none if nothing changed); after the lock, one ProposalTransition.
    Raises PermissionDenied for anyone but the chair or staff (staff only after the lock) and ValidationError
    (nothing saved) for a missing reason, a laureate without track or amount, a laureate beyond the envelope
    or the maximum count without `override_reason`, or a change after the lock without `change_reason`.
    """
    deliberation = get_deliberation(call, lock=True)
    _check_decider(by=by, call=call, deliberation=deliberation, change_reason=change_reason)
    if proposal.call_id != call.pk or proposal.status not in CANDIDATE_STATUSES:
        raise ValidationError(_("Ce projet ne fait pas partie de la délibération."), code="not_candidate")
    if not reason.strip():
        raise ValidationError(_("Indiquez le motif de la décision."), code="reason")
    if outcome == Outcome.LAUREATE:
        if track is None or track.call_id != call.pk or not granted_amount_eur:
            raise ValidationError(_("Un lauréat a un parcours de cet appel et un montant d'accompagnement accordé."),
                                  code="laureate_fields")
        problem = _envelope_problem(call=call, proposal=proposal, track=track, amount=granted_amount_eur)
        if problem and not override_reason.strip():
            raise ValidationError(
                _("Décision refusée : %(problem)s. Pour passer outre, indiquez le motif de la dérogation.")
                % {"problem": problem}, code="beyond_envelope")
    ranking = rank_call(call, rank_by=deliberation.rank_by)
    return _write_decision(call=call, proposal=proposal, row=ranking.rows.get(proposal.pk), outcome=outcome,
                           track=track or proposal.requested_track, amount=granted_amount_eur, reason=reason.strip(),
                           override_reason=override_reason.strip(), by=by, deliberation=deliberation,
                           change_reason=change_reason.strip())


def _reason_for(outcome, rank, total):
    if outcome == Outcome.LAUREATE:
        text = _("Classé %(rank)s sur %(total)s dans le parcours ; retenu dans l'enveloppe.")
    elif outcome == Outcome.WAITING_LIST:
        text = _("Classé %(rank)s sur %(total)s : placé en liste d'attente.")
    else:
        text = _("Classé %(rank)s sur %(total)s : score insuffisant au regard des projets retenus.")
    return text % {"rank": rank, "total": total}


def _apply(*, call, deliberation, by):
    """Writes the optimal proposal as decisions; returns the number of decisions changed."""
    tracks = {track.pk: track for track in call.tracks.all()}
    ranking = rank_call(call, rank_by=deliberation.rank_by, track_ids=list(tracks))
    selection = run_selection(ranking, tracks=tracks.values(), caps=caps_of(deliberation))
    if not selection.feasible:
        raise ValidationError(selection.problems, code="infeasible")
    proposals = Proposal.objects.in_bulk([row.id for row in ranking.candidates()])
    waiting = {pk for ids in selection.waiting.values() for pk in ids[:WAITING_LIST_LENGTH]}
    changed = 0
    for track_id, rows in ranking.by_track.items():
        for row in rows:
            outcome = (Outcome.LAUREATE if row.id in selection.selected
                       else Outcome.WAITING_LIST if row.id in waiting else Outcome.NOT_SELECTED)
            before = Decision.objects.filter(proposal_id=row.id).values_list("outcome", flat=True).first()
            _write_decision(call=call, proposal=proposals[row.id], row=row, outcome=outcome, track=tracks[track_id],
                            amount=row.amount, reason=_reason_for(outcome, row.rank, len(rows)), override_reason="",
                            by=by, deliberation=deliberation)
            changed += before != outcome
    return changed


@transaction.atomic
def apply_optimal(*, call, by):
    """Fills the provisional decisions with the optimal proposal, in one click.

    Laureates: the optimal selection within the envelopes and caps (granted amount = requested amount);
    waiting list: the next WAITING_LIST_LENGTH of each track by score; the others not selected; each with
    its reason. Side effects: locks the Deliberation row; creates or updates Decision rows, one audit entry
    `decision.set` per change. Raises PermissionDenied (not chair or staff) or ValidationError (locked,
    wrong phase, no feasible selection): nothing saved.
    """
    deliberation = get_deliberation(call, lock=True)
    if deliberation.is_locked:
        raise ValidationError(_("Les décisions sont arrêtées : la proposition optimale ne peut plus être appliquée."),
                              code="locked")
    _check_decider(by=by, call=call, deliberation=deliberation)
    return _apply(call=call, deliberation=deliberation, by=by)


def lock_problems(call, deliberation):
    """What stops the lock: undecided proposals, envelopes or counts exceeded without a dérogation."""
    problems = []
    decided = set(Decision.objects.filter(proposal__call=call).values_list("proposal_id", flat=True))
    undecided = list(Proposal.objects.filter(call=call, status__in=CANDIDATE_STATUSES).exclude(pk__in=decided)
                     .order_by("reference").values_list("reference", flat=True))
    if undecided:
        problems.append(ngettext(
            "%(count)s projet n'a pas encore de décision : %(refs)s.",
            "%(count)s projets n'ont pas encore de décision : %(refs)s.", len(undecided),
        ) % {"count": len(undecided), "refs": ", ".join(undecided)})
    for track in call.tracks.all():
        laureates = list(Decision.objects.filter(proposal__call=call, outcome=Outcome.LAUREATE, track=track)
                         .values_list("granted_amount_eur", "override_reason"))
        total, count = sum(a or 0 for a, _o in laureates), len(laureates)
        overridden = any(o.strip() for _a, o in laureates)
        if (total > track.budget_eur or count > track.max_laureates) and not overridden:
            problems.append(_("Le parcours « %(track)s » dépasse son enveloppe ou son nombre maximal de lauréats "
                              "(%(total)s pour %(budget)s, %(count)s lauréats pour %(max)s) sans motif de dérogation.")
                            % {"track": track.name, "total": format_euros(total),
                               "budget": format_euros(track.budget_eur), "count": count, "max": track.max_laureates})
    return problems


def next_phase(call):
    """The phase the lock moves the call to, or None.

    From review, the table's next phase: deliberation. From deliberation, the table's next phase is the
    announcement, which is its own action (`jury.services.announce.announce_call`: it requires locked
    decisions and queues the applicants' messages), so the lock leaves the call in deliberation.
    """
    if call.status == CallStatus.REVIEW:
        return CallStatus.DELIBERATION
    return None


@transaction.atomic
def lock_decisions(*, call, by, advance_call=True):
    """Locks the decisions at the end of the meeting.

    Side effects: locks the Deliberation row and sets locked_at/locked_by; moves each proposal to its
    decided status (`transition_proposal`, one ProposalTransition each); when `advance_call`, moves the
    call from review to deliberation through `transition_call` (see `next_phase`); one audit entry
    `deliberation.lock`. Raises PermissionDenied (not chair or staff) or ValidationError (already locked,
    undecided proposals, envelope exceeded without dérogation).
    """
    deliberation = get_deliberation(call, lock=True)
    if deliberation.is_locked:
        raise ValidationError(_("Les décisions sont déjà arrêtées."), code="locked")
    if not can_deliberate(by, jury_role(by, call)):
        raise PermissionDenied(_("Seul le président du jury ou l'équipe du programme peut arrêter les décisions."))
    problems = lock_problems(call, deliberation)
    if problems:
        raise ValidationError(problems, code="not_ready")
    return _lock(call=call, deliberation=deliberation, by=by, advance_call=advance_call)


def _lock(*, call, deliberation, by, advance_call):
    deliberation.locked_at, deliberation.locked_by = timezone.now(), by
    deliberation.save(update_fields=["locked_at", "locked_by", "updated_at"])
    decisions = Decision.objects.filter(proposal__call=call).select_related("proposal")
    for decision in decisions:
        if decision.proposal.status != decision.outcome:
            transition_proposal(proposal=decision.proposal, to_status=decision.outcome, by=by, reason=decision.reason)
    target = next_phase(call) if advance_call else None
    if target is not None:
        transition_call(call=call, to_status=target, by=by, note=_("Décisions du jury arrêtées."))
    audit.record(action="deliberation.lock", actor=by, call=call, target=deliberation, before={"locked_at": None},
                 after={"locked_at": deliberation.locked_at, "decisions": len(decisions),
                        "call_status": target.value if target else call.status})
    return deliberation


@transaction.atomic
def save_settings(*, call, by, rank_by, administration_cap=None, ministry_cap=None):
    """The chair's choices: which score ranks (raw or adjusted) and the caps per administration and ministry.

    Side effects: saves the Deliberation row; one audit entry `deliberation.settings` (none if unchanged).
    Raises PermissionDenied / ValidationError (locked, wrong phase).
    """
    deliberation = get_deliberation(call, lock=True)
    if deliberation.is_locked:
        raise ValidationError(_("Les décisions sont arrêtées : le classement ne peut plus changer."), code="locked")
    _check_decider(by=by, call=call, deliberation=deliberation)
    names = ("rank_by", "administration_cap", "ministry_cap")
    before = {name: getattr(deliberation, name) for name in names}
    after = {"rank_by": RankBy(rank_by).value, "administration_cap": administration_cap, "ministry_cap": ministry_cap}
    if before != after:
        for name, value in after.items():
            setattr(deliberation, name, value)
        deliberation.save(update_fields=[*names, "updated_at"])
        audit.record(action="deliberation.settings", actor=by, call=call, target=deliberation, before=before,
                     after=after)
    return deliberation


@transaction.atomic
def save_minutes(*, call, by, held_on, present_members, minutes):
    """The record of the meeting: its date, the members present and the free text of the minutes.

    Side effects: saves the Deliberation row and its present members; one audit entry
    `deliberation.minutes` (none if unchanged). Raises PermissionDenied for anyone but the chair or staff,
    ValidationError for a member of another call.
    """
    deliberation = get_deliberation(call, lock=True)
    if not can_deliberate(by, jury_role(by, call)):
        raise PermissionDenied(_("Seul le président du jury ou l'équipe du programme peut rédiger le procès-verbal."))
    if any(member.call_id != call.pk for member in present_members):
        raise ValidationError(_("Seuls les membres du jury de cet appel peuvent être présents."), code="member")
    before = {"held_on": deliberation.held_on, "present": sorted(deliberation.present_members.values_list(
        "pk", flat=True)), "minutes": deliberation.minutes}
    after = {"held_on": held_on, "present": sorted(m.pk for m in present_members), "minutes": minutes}
    if before != after:
        deliberation.held_on, deliberation.minutes = held_on, minutes
        deliberation.save(update_fields=["held_on", "minutes", "updated_at"])
        deliberation.present_members.set(present_members)
        audit.record(action="deliberation.minutes", actor=by, call=call, target=deliberation, before=before,
                     after=after)
    return deliberation


@transaction.atomic
def decide_call_as_scripted(*, call, by):
    """The whole deliberation in one go (demo data, imports): optimal proposal applied, then locked.

    The call's phase is left to the caller. Side effects: those of the optimal proposal (Decision rows,
    audit entries) and of the lock (proposal transitions, Deliberation locked, audit entry); the meeting's
    date and present members are filled from the call's jury date and jury when empty.
    """
    deliberation = get_deliberation(call, lock=True)
    if deliberation.held_on is None and call.jury_date:
        deliberation.held_on = call.jury_date
        deliberation.save(update_fields=["held_on", "updated_at"])
    if not deliberation.present_members.exists():
        deliberation.present_members.set(call.jury_members.all())
    _apply(call=call, deliberation=deliberation, by=by)
    return _lock(call=call, deliberation=deliberation, by=by, advance_call=False)
