"""seed_demo reproduces DOMAIN.md's figures, deterministically and idempotently."""

from collections import Counter
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from ami.models import Call, CallStatus, User
from applications.models import Proposal
from jury.models import Decision, JuryMember, Review, Score
from jury.opendata import laureate_rows

pytestmark = pytest.mark.django_db


def counts():
    return (
        Call.objects.count(),
        Proposal.objects.count(),
        Review.objects.count(),
        Score.objects.count(),
        Decision.objects.count(),
        User.objects.count(),
        JuryMember.objects.count(),
    )


def test_seed_demo_figures_and_idempotence(settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("seed_demo", stdout=out)
    first = counts()
    rows_before = laureate_rows(Call.objects.get(slug="ami-ia-2019"))
    call_command("seed_demo", stdout=StringIO())
    assert counts() == first
    assert laureate_rows(Call.objects.get(slug="ami-ia-2019")) == rows_before

    for email in [
        "admin@demo.ami-ia.fr",
        "programme@demo.ami-ia.fr",
        "porteur@demo.ami-ia.fr",
        "president@demo.ami-ia.fr",
        "jure@demo.ami-ia.fr",
    ]:
        assert email in out.getvalue()

    call_2019 = Call.objects.get(slug="ami-ia-2019")
    assert call_2019.status == CallStatus.ANNOUNCED
    assert call_2019.proposals.count() == 46
    assert call_2019.proposals.values("administration").distinct().count() == 38
    kinds = set(call_2019.proposals.values_list("administration__kind", flat=True))
    assert kinds == {"central", "deconcentrated", "establishment", "court", "university", "hospital"}
    assert list(call_2019.criteria.values_list("weight", flat=True)) == [25, 20, 15, 10, 15, 5, 10]
    assert call_2019.uses_pairs
    assert set(call_2019.jury_members.values_list("pair_label", flat=True)) == {"B1", "B2", "B3", "B4", "B5", "B6"}
    assert Review.objects.filter(proposal__call=call_2019, status="submitted").count() == 46 * 2
    loads = Counter(Review.objects.filter(proposal__call=call_2019).values_list("juror__pair_label", flat=True))
    assert (
        max(loads.values()) - min(loads.values()) <= 2
    )  # pair loads (2 reviews a proposal) differ by ≤ 1 proposal
    pairs_of = {
        (r.proposal_id, r.juror.pair_label)
        for r in Review.objects.filter(proposal__call=call_2019).select_related("juror")
    }
    assert len(pairs_of) == 46  # each proposal is read by exactly one pair, both of its members

    rows = laureate_rows(call_2019)
    technical = [r for r in rows if r["accompagnement"] == "Accompagnement technique et métier"]
    scientific = [r for r in rows if r["accompagnement"] == "Accompagnement scientifique"]
    assert (len(rows), len(technical), len(scientific)) == (15, 11, 4)
    assert sum(r["montant_accompagnement_eur"] for r in technical) <= 3_500_000
    assert sum(r["montant_accompagnement_eur"] for r in scientific) <= 500_000
    assert [r["rang"] for r in technical] == list(range(1, 12))
    named = {r["administration"] for r in rows}
    assert {
        "Direction générale de la santé",
        "Centre hospitalier universitaire de Bordeaux",
        "Institut de radioprotection et de sûreté nucléaire",
        "Direction générale des collectivités locales",
    } <= named

    call_2018 = Call.objects.get(slug="ami-ia-2018")
    assert call_2018.proposals.count() == 52
    assert {r["administration"] for r in laureate_rows(call_2018)} == {
        "Agence centrale des organismes de sécurité sociale",
        "Office français de la biodiversité",
        "Autorité de sûreté nucléaire",
        "Centre hospitalier universitaire de Toulouse",
        "Direction départementale des territoires et de la mer de l'Hérault",
        "Direction générale de l'alimentation",
    }

    demo = Call.objects.get(slug="ami-ia-demo")
    assert demo.status == CallStatus.OPEN
    assert demo.is_open and demo.closes_at > demo.opens_at
    from django.utils import timezone

    assert demo.closes_at > timezone.now()


def test_seed_demo_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only with DEBUG on"):
        call_command("seed_demo", stdout=StringIO())
    assert not User.objects.exists()


def test_the_demo_call_gets_its_two_eligibility_questions_once():
    from ami.demo import ensure_demo_questions
    from tests.ami.factories import CallFactory

    call = CallFactory(slug="ami-ia-demo", status=CallStatus.OPEN)
    ensure_demo_questions()
    ensure_demo_questions()
    questions = list(call.eligibility_questions.all())
    assert [(q.position, q.ineligible_answer) for q in questions] == [(0, False), (1, True)]
    assert questions[0].text == "Le projet est-il porté par une administration de l'État ou un de ses opérateurs ?"
    assert questions[1].makes_ineligible(True)
    assert not questions[0].makes_ineligible(True)


def test_submitted_demo_proposals_carry_the_snapshot_the_jury_reads():
    from ami import demo
    from applications.models import ProposalStatus, Submission
    from applications.services.submission import snapshot_sha256

    demo.seed()

    demo_call = Call.objects.get(slug="ami-ia-demo")
    submitted = demo_call.proposals.filter(status=ProposalStatus.SUBMITTED)
    assert submitted.count() == demo.DEMO_SUBMISSIONS
    assert submitted.values("administration").distinct().count() == demo.DEMO_SUBMISSIONS
    assert Submission.objects.filter(proposal__call__slug="ami-ia-2019").count() == 46
    for submission in Submission.objects.filter(proposal__call=demo_call):
        assert submission.snapshot["reference"] == submission.proposal.reference
        assert submission.sha256 == snapshot_sha256(submission.snapshot)
        assert {e["answer"] for e in submission.snapshot["eligibility"]} == {True, False}
    demo.seed()
    assert demo_call.proposals.count() == demo.DEMO_SUBMISSIONS
