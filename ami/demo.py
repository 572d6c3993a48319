"""The demo: three calls reproducing DOMAIN.md's figures, built through the portal's services.

Deterministic (fixed seeds) and idempotent: a call that exists already is left as it is.
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from ami import demo_data as data
from ami.models import Call, CallStatus, Criterion, EligibilityQuestion, Track, User
from ami.services import transition_call
from applications.models import Administration, Membership, MembershipStatus, Proposal, ProposalStatus, Submission
from applications.services import assign_reference_and_submit, transition_proposal
from applications.services.submission import build_snapshot, snapshot_sha256
from jury.models import JuryMember, JuryRole, Review, ReviewStatus, Score
from jury.services import decide_call
from jury.services.assignment import run_assignment

PARIS = ZoneInfo("Europe/Paris")
DEMO_PASSWORD = "demo-ami-ia-2019"
_HASHED = {}
# Hidden true quality on 0–100: the real laureates stand clearly above the rest.
LAUREATE, OTHER = (82, 95), (25, 62)
ANNOUNCED_PATH = [
    CallStatus.OPEN,
    CallStatus.CLOSED,
    CallStatus.ELIGIBILITY,
    CallStatus.REVIEW,
    CallStatus.DELIBERATION,
    CallStatus.ANNOUNCED,
]


@dataclass
class DemoAccount:
    role: str
    email: str
    password: str = DEMO_PASSWORD


ACCOUNTS = [
    DemoAccount("administrateur (superuser)", "admin@demo.ami-ia.fr"),
    DemoAccount("équipe du programme (staff)", "programme@demo.ami-ia.fr"),
    DemoAccount("porteur de projet (DDTM de l'Hérault)", "porteur@demo.ami-ia.fr"),
    DemoAccount("président du jury 2019", "president@demo.ami-ia.fr"),
    DemoAccount("membre du jury 2019", "jure@demo.ami-ia.fr"),
]


def hashed_demo_password():
    """Hashing is slow on purpose: the demo hashes its one password once."""
    if "value" not in _HASHED:
        _HASHED["value"] = make_password(DEMO_PASSWORD)
    return _HASHED["value"]


def paris(year, month, day, hour=0, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def seed(stdout=None):
    """Creates what is missing; returns the demo accounts."""
    with transaction.atomic():
        ensure_accounts()
        ensure_administrations()
    seed_2018()
    seed_2019()
    seed_demo_call()
    ensure_demo_questions()
    ensure_demo_jury()
    ensure_demo_submissions()
    return ACCOUNTS


def ensure_accounts():
    users = {}
    for account in ACCOUNTS:
        user, created = User.objects.get_or_create(
            email=account.email,
            defaults={
                "first_name": account.role.split(" ")[0].capitalize(),
                "last_name": "Démo",
                "email_verified_at": timezone.now(),
            },
        )
        if created:
            user.password = hashed_demo_password()
        user.is_staff = "staff" in account.role or "superuser" in account.role
        user.is_superuser = "superuser" in account.role
        user.save()
        users[account.email] = user
    return users


def ensure_administrations():
    for name, acronym, kind, ministry in data.ADMINISTRATIONS:
        Administration.objects.get_or_create(
            name=name, defaults={"acronym": acronym, "kind": kind, "ministry": ministry}
        )
    porteur = User.objects.get(email="porteur@demo.ami-ia.fr")
    ddtm = Administration.objects.get(acronym="DDTM 34")
    Membership.objects.get_or_create(user=porteur, administration=ddtm, defaults={"status": MembershipStatus.ACTIVE})


def administration(key):
    return (
        Administration.objects.get(acronym=key)
        if Administration.objects.filter(acronym=key).exists()
        else Administration.objects.get(name=key)
    )


def create_call(*, slug, title, prefix, opens, closes, jury_day, announced, description, tracks, pairs):
    call = Call.objects.create(
        slug=slug,
        title=title,
        reference_prefix=prefix,
        description=description,
        eligibility_text=(
            "Administrations de l'État (directions d'administration centrale et services déconcentrés), "
            "établissements publics et opérateurs nationaux, juridictions, universités et organismes de recherche, "
            "établissements hospitaliers. Les entreprises ne peuvent pas candidater directement : "
            "elles s'associent à une administration."
        ),
        opens_at=opens,
        closes_at=closes,
        jury_date=jury_day,
        announcement_date=announced,
        # With pairs, one pair (two readers) per proposal, as the DINUM evaluators worked in 2025.
        reviews_per_proposal=1 if pairs else 2,
        uses_pairs=pairs,
    )
    for position, (code, name, budget, max_count, text) in enumerate(tracks):
        Track.objects.create(
            call=call,
            code=code,
            name=name,
            budget_eur=budget,
            max_laureates=max_count,
            position=position,
            description=text,
        )
    for position, (criterion_title, text, weight) in enumerate(data.CRITERIA):
        Criterion.objects.create(
            call=call, position=position, title=criterion_title, description=text, weight=weight, rubric=data.RUBRIC
        )
    return call


def make_proposal(*, call, admin, title, summary, track, amount, submitted_at, by):
    proposal = Proposal.objects.create(
        call=call,
        administration=admin,
        title=title,
        summary=summary,
        problem=f"{summary} {data.PROPOSAL_BODY['problem']}",
        data_description=data.PROPOSAL_BODY["data"],
        ai_approach=data.PROPOSAL_BODY["ai"],
        expected_benefits=data.PROPOSAL_BODY["benefits"],
        team=data.PROPOSAL_BODY["team"],
        requested_amount_eur=amount,
        requested_track=track,
        created_by=by,
    )
    assign_reference_and_submit(proposal=proposal, by=by, at=submitted_at)
    record_demo_submission(proposal, by=by, at=submitted_at)
    transition_proposal(
        proposal=proposal, to_status=ProposalStatus.ELIGIBLE, by=by, reason="Dossier complet ; administration éligible."
    )
    return proposal


def record_demo_submission(proposal, *, by, at):
    """The snapshot the jury reads, as the submission page would have stored it (no receipt mail)."""
    snapshot = build_snapshot(proposal=proposal, number=1, at=at, by=by)
    Submission.objects.create(
        proposal=proposal, number=1, proposal_version=proposal.version, snapshot=snapshot,
        sha256=snapshot_sha256(snapshot), submitted_by=by, submitted_at=at,
    )


def build_jury(call, *, size, chair_email=None, member_email=None):
    members = []
    for index in range(size):
        email = f"expert{index + 1:02d}.{call.reference_prefix.lower()}@demo.ami-ia.fr"
        if index == 0 and chair_email:
            email = chair_email
        elif index == 1 and member_email:
            email = member_email
        user, created = User.objects.get_or_create(
            email=email,
            defaults={"first_name": f"Expert {index + 1}", "last_name": "Démo", "email_verified_at": timezone.now()},
        )
        if created:
            user.password = hashed_demo_password()
            user.save()
        members.append(
            JuryMember.objects.create(
                call=call,
                user=user,
                role=JuryRole.CHAIR if index == 0 else JuryRole.MEMBER,
                pair_label=f"B{index // 2 + 1}" if call.uses_pairs else "",
                charter_accepted_at=timezone.now(),
            )
        )
    return members


def write_reviews(call, quality, rng, staff):
    """Reviews as the jury would give them, on the assignment the staff page would run.

    The portal's own assignment (`run_assignment`) chooses the readers; with pairs, a pair is one
    reviewing unit and both its members score the proposal. Juror offsets make some jurors harsh and
    others lenient, as real juries are.
    """
    run_assignment(call=call, by=staff)
    criteria = list(call.criteria.all())
    jurors = list(call.jury_members.order_by("id"))
    offsets = {juror.pk: rng.gauss(0, 6) for juror in jurors}
    reviews = Review.objects.filter(proposal__call=call).select_related("proposal").order_by("proposal_id", "juror_id")
    for review in reviews:
        note = quality[review.proposal_id]
        review.status = ReviewStatus.SUBMITTED
        review.submitted_at = call.closes_at + timedelta(days=20)
        review.overall_opinion = "Projet bien construit." if note > 70 else "Projet à consolider."
        review.recommendation = "yes" if note > 70 else "no"
        review.save(update_fields=["status", "submitted_at", "overall_opinion", "recommendation", "updated_at"])
        Score.objects.bulk_create(
            [
                Score(
                    review=review,
                    criterion=criterion,
                    value=_note(note + offsets[review.juror_id] + rng.gauss(0, 5), call.score_scale_max),
                )
                for criterion in criteria
            ]
        )


def _note(percent, scale_max):
    return max(0, min(scale_max, round(percent / 100 * scale_max)))


def announce(call, by):
    for status in ANNOUNCED_PATH:
        transition_call(call=call, to_status=status, by=by)


def _advance_to_review(call, by):
    for status in ANNOUNCED_PATH[:4]:
        transition_call(call=call, to_status=status, by=by)


@transaction.atomic
def seed_2019():
    if Call.objects.filter(slug="ami-ia-2019").exists():
        return
    rng = random.Random(2019)
    staff = User.objects.get(email="programme@demo.ami-ia.fr")
    call = create_call(
        slug="ami-ia-2019",
        title="AMI Intelligence artificielle 2019",
        prefix="AMI2019",
        opens=paris(2019, 4, 2, 9),
        closes=paris(2019, 5, 31, 23, 59),
        jury_day=date(2019, 7, 4),
        announced=date(2019, 7, 8),
        description=(
            "Deuxième appel à manifestation d'intérêt de la DINSIC et de la DITP pour expérimenter "
            "l'intelligence artificielle dans les services publics, financé par le programme d'investissements "
            "d'avenir. Les lauréats bénéficient d'un an d'accompagnement technique et métier, ou scientifique "
            "pour les projets les plus exploratoires."
        ),
        tracks=data.TRACKS_2019,
        pairs=True,
    )
    tracks = {track.code: track for track in call.tracks.all()}
    _advance_to_review(call, staff)
    proposals, quality = [], {}
    laureate_admins = [administration(key) for key, *_ in data.LAUREATES_2019]
    for admin, (_key, track_code, title, summary, amount) in zip(laureate_admins, data.LAUREATES_2019, strict=True):
        proposals.append(
            _scored(call, admin, title, summary, tracks[track_code], amount, rng, staff, quality, LAUREATE)
        )
    others = [a for a in Administration.objects.order_by("name") if a not in laureate_admins]
    others = rng.sample(others, 23)  # 15 + 23 = 38 administrations
    authors = others + others[:8]  # 8 of them submit twice: 46 proposals
    themes = rng.sample(data.THEMES, len(authors))
    for admin, (title, aim) in zip(authors, themes, strict=True):
        track = tracks["scientifique"] if rng.random() < 0.2 else tracks["technique"]
        amount = rng.randrange(80, 200) * 1000 if track.code == "scientifique" else rng.randrange(150, 450) * 1000
        summary = f"{admin.acronym or admin.name} souhaite {aim}."
        proposals.append(_scored(call, admin, title, summary, track, amount, rng, staff, quality, OTHER))
    jurors = build_jury(call, size=12, chair_email="president@demo.ami-ia.fr", member_email="jure@demo.ami-ia.fr")
    _review_decide_announce(call, proposals, jurors, quality, rng, staff)


def _scored(call, admin, title, summary, track, amount, rng, by, quality, quality_range):
    """Submits a proposal and draws its hidden true quality (what the simulated jurors perceive)."""
    proposal = _submitted(call, admin, title, summary, track, amount, rng, by)
    quality[proposal.pk] = rng.uniform(*quality_range)
    return proposal


def _review_decide_announce(call, proposals, jurors, quality, rng, staff):
    """The end of a seeded call: the jury's reviews, the chair's decisions, the announcement."""
    write_reviews(call, quality, rng, staff)
    transition_call(call=call, to_status=CallStatus.DELIBERATION, by=staff)
    decide_call(call=call, by=jurors[0].user)
    transition_call(call=call, to_status=CallStatus.ANNOUNCED, by=staff)


def _submitted(call, admin, title, summary, track, amount, rng, by):
    # Proposals reach the portal over the last weeks, many in the last days.
    moment = call.closes_at - timedelta(minutes=int(rng.triangular(5, 60 * 24 * 40, 60)))
    return make_proposal(
        call=call, admin=admin, title=title, summary=summary, track=track, amount=amount, submitted_at=moment, by=by
    )


@transaction.atomic
def seed_2018():
    if Call.objects.filter(slug="ami-ia-2018").exists():
        return
    rng = random.Random(2018)
    staff = User.objects.get(email="programme@demo.ami-ia.fr")
    call = create_call(
        slug="ami-ia-2018",
        title="AMI Intelligence artificielle 2018",
        prefix="AMI2018",
        opens=paris(2018, 6, 14, 9),
        closes=paris(2018, 9, 30, 23, 59),
        jury_day=date(2018, 11, 6),
        announced=date(2018, 11, 21),
        description=(
            "Premier appel à manifestation d'intérêt de la DINSIC pour expérimenter l'intelligence artificielle "
            "dans les administrations, financé par le programme d'investissements d'avenir. Les lauréats sont "
            "accompagnés pendant environ dix mois jusqu'à un prototype fonctionnel."
        ),
        tracks=[
            (
                "technique",
                "Accompagnement technique et métier",
                1_500_000,
                6,
                "Montant indicatif de la démonstration : l'enveloppe de 2018 n'est pas publiée.",
            )
        ],
        pairs=False,
    )
    track = call.tracks.get()
    _advance_to_review(call, staff)
    proposals, quality = [], {}
    laureate_admins = [administration(key) for key, *_ in data.LAUREATES_2018]
    for admin, (_key, title, summary, amount) in zip(laureate_admins, data.LAUREATES_2018, strict=True):
        proposals.append(_scored(call, admin, title, summary, track, amount, rng, staff, quality, LAUREATE))
    pool = list(Administration.objects.order_by("name"))
    for index in range(46):
        admin = pool[rng.randrange(len(pool))]
        title, aim = data.THEMES[index % len(data.THEMES)]
        summary = f"{admin.acronym or admin.name} souhaite {aim}."
        amount = rng.randrange(150, 400) * 1000
        proposals.append(_scored(call, admin, title, summary, track, amount, rng, staff, quality, OTHER))
    jurors = build_jury(call, size=10)
    _review_decide_announce(call, proposals, jurors, quality, rng, staff)


@transaction.atomic
def seed_demo_call():
    if Call.objects.filter(slug="ami-ia-demo").exists():
        return
    staff = User.objects.get(email="programme@demo.ami-ia.fr")
    now = timezone.localtime(timezone.now(), PARIS)
    closes = (now + timedelta(days=60)).replace(hour=23, minute=59, second=0, microsecond=0)
    call = create_call(
        slug="ami-ia-demo",
        title="AMI Intelligence artificielle — appel de démonstration",
        prefix="AMIDEMO",
        opens=now - timedelta(days=7),
        closes=closes,
        jury_day=(closes + timedelta(days=30)).date(),
        announced=(closes + timedelta(days=35)).date(),
        description=(
            "Appel de démonstration, ouvert aux candidatures : déposez un projet avec le compte porteur de projet, "
            "puis suivez-le jusqu'à la décision du jury."
        ),
        tracks=data.TRACKS_2019,
        pairs=False,
    )
    transition_call(call=call, to_status=CallStatus.OPEN, by=staff)


@transaction.atomic
def ensure_demo_questions():
    """The demo call's eligibility questions, added once (a call that has some keeps its own)."""
    call = Call.objects.get(slug="ami-ia-demo")
    if call.eligibility_questions.exists():
        return
    EligibilityQuestion.objects.bulk_create(
        EligibilityQuestion(call=call, position=position, text=text, help_text=help_text, ineligible_answer=answer)
        for position, (text, help_text, answer) in enumerate(data.DEMO_ELIGIBILITY_QUESTIONS)
    )


@transaction.atomic
def ensure_demo_jury():
    """The open demo call's jury: the demo chair and juror, charter not yet accepted (a newcomer reads it)."""
    call = Call.objects.get(slug="ami-ia-demo")
    for email, role in (("president@demo.ami-ia.fr", JuryRole.CHAIR), ("jure@demo.ami-ia.fr", JuryRole.MEMBER)):
        JuryMember.objects.get_or_create(
            call=call, user=User.objects.get(email=email),
            defaults={"role": role, "expertise": ["NLP", "santé"] if role == JuryRole.MEMBER else []},
        )


DEMO_SUBMISSIONS = 8


@transaction.atomic
def ensure_demo_submissions():
    """Eight projects already submitted to the open demo call by other administrations, each by an agent
    of its own, with the snapshot the jury reads: enough for staff to walk the intake, the assignment,
    the scoring, the deliberation and the announcement in the browser. Added once."""
    call = Call.objects.get(slug="ami-ia-demo")
    if call.proposals.exclude(administration__acronym="DDTM 34").exists():
        return
    rng = random.Random(2026)
    tracks = {track.code: track for track in call.tracks.all()}
    answers = {str(q.pk): not q.ineligible_answer for q in call.eligibility_questions.all()}
    administrations = [a for a in Administration.objects.order_by("name") if a.acronym != "DDTM 34"]
    for index, (admin, (title, aim)) in enumerate(
        zip(rng.sample(administrations, DEMO_SUBMISSIONS), rng.sample(data.THEMES, DEMO_SUBMISSIONS), strict=True)
    ):
        author, _ = User.objects.get_or_create(
            email=f"agent{index + 1}@demo.ami-ia.fr",
            defaults={"first_name": "Agent", "last_name": f"{index + 1}", "email_verified_at": timezone.now()},
        )
        Membership.objects.get_or_create(user=author, administration=admin,
                                          defaults={"status": MembershipStatus.ACTIVE})
        track = tracks["scientifique"] if index % 4 == 3 else tracks["technique"]
        proposal = Proposal.objects.create(
            call=call, administration=admin, title=title, summary=f"{admin.acronym or admin.name} souhaite {aim}.",
            problem=data.PROPOSAL_BODY["problem"], data_description=data.PROPOSAL_BODY["data"],
            ai_approach=data.PROPOSAL_BODY["ai"], expected_benefits=data.PROPOSAL_BODY["benefits"],
            team=data.PROPOSAL_BODY["team"], requested_track=track, eligibility_answers=answers,
            requested_amount_eur=rng.randrange(80, 200) * 1000 if track.code == "scientifique"
            else rng.randrange(150, 450) * 1000,
            created_by=author,
        )
        submitted_at = timezone.now() - timedelta(days=6 - index % 6, hours=rng.randrange(0, 12))
        assign_reference_and_submit(proposal=proposal, by=author, at=submitted_at)
        record_demo_submission(proposal, by=author, at=submitted_at)
