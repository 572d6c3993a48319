"""Deliberation pages: who sees them, what they show, bad input, constant queries; the audit trail page."""

import html

import pytest
from django.urls import reverse

from ami import audit
from ami.models import AuditEvent, CallStatus
from jury.models import Decision, Deliberation, JuryRole
from jury.services import deliberation as services
from tests.ami.factories import CallFactory, CriterionFactory, TrackFactory, UserFactory
from tests.applications.factories import MembershipFactory
from tests.jury.factories import JuryMemberFactory, scored_proposal

pytestmark = pytest.mark.django_db


def build(n_proposals=3):
    call = CallFactory(status=CallStatus.REVIEW, score_scale_max=5, slug="ami-ia-2019",
                       title="AMI Intelligence artificielle 2019")
    CriterionFactory(call=call, weight=60, position=0)
    CriterionFactory(call=call, weight=40, position=1)
    track = TrackFactory(call=call, name="Technique et métier", code="technique", budget_eur=300_000,
                         max_laureates=2)
    chair = JuryMemberFactory(call=call, role=JuryRole.CHAIR)
    a, b = JuryMemberFactory(call=call), JuryMemberFactory(call=call)
    marks = [[(a, [5, 5]), (b, [5, 4])], [(a, [4, 4]), (b, [1, 1])], [(a, [3, 3]), (b, [3, 4])]]
    amounts = [250_000, 100_000, 100_000]
    proposals = [scored_proposal(call=call, track=track, reference=f"AMI-{n + 1}", amount=amounts[n], marks=marks[n])
                 for n in range(n_proposals)]
    return {"call": call, "track": track, "chair": chair.user, "member": a.user, "proposals": proposals}


@pytest.fixture
def world():
    return build()


def text(response):
    return html.unescape(response.content.decode())


def url(name, call, *args):
    return reverse(f"deliberation:{name}", args=[call.slug, *args])


@pytest.mark.parametrize("persona", ["anonymous", "outsider", "applicant", "member"])
def test_board_hidden_from_everyone_but_chair_and_staff(client, world, persona):
    call = world["call"]
    if persona == "outsider":
        client.force_login(UserFactory())
    elif persona == "applicant":
        client.force_login(MembershipFactory(administration=world["proposals"][0].administration).user)
    elif persona == "member":
        client.force_login(world["member"])
    response = client.get(url("board", call))
    if persona == "anonymous":
        assert response.status_code == 302 and "/compte/connexion/" in response["Location"]
    else:
        assert response.status_code == 404
    assert client.get(url("proposal", call, world["proposals"][0].pk)).status_code in (302, 404)


def test_board_shows_ranking_agenda_and_budget(client, world):
    client.force_login(world["chair"])
    response = client.get(url("board", world["call"]))
    assert response.status_code == 200
    body = text(response)
    assert "Délibération — AMI Intelligence artificielle 2019" in body
    assert "Classement — Technique et métier" in body
    assert "Score brut (moyenne)" in body and "Score corrigé" in body and "Rang plausible (90 %)" in body
    assert "Lauréats provisoires : 0\u00a0€ sur une enveloppe de 300\u202f000\u00a0€" in body
    agenda = response.context["agenda"]
    flags = [bool(line["reasons"]) for line in agenda]
    assert flags == sorted(flags, reverse=True)  # flagged first
    reasons = {line["row"].reference: line["reasons"] for line in agenda}
    # AMI-2 was marked 80 and 20 (a spread of 60 points): on the agenda for disagreement.
    assert "désaccord entre les évaluations" in reasons["AMI-2"]
    assert "désaccord entre les évaluations" not in reasons["AMI-1"]
    assert "3 projets restent à décider." in body


def test_board_at_constant_query_count(client, django_assert_num_queries):
    queries = []
    for n in (1, 3):
        data = build(n)
        client.force_login(data["chair"])
        services.get_deliberation(data["call"])
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert client.get(url("board", data["call"])).status_code == 200
        queries.append(len(captured))
        data["call"].slug = f"done-{n}"
        data["call"].save()
    assert queries[0] == queries[1]
    data = build(3)
    data["call"].slug = "again"
    data["call"].save()
    client.force_login(data["chair"])
    services.get_deliberation(data["call"])
    with django_assert_num_queries(queries[0]):
        client.get(url("board", data["call"]))


def test_chair_decides_from_the_proposal_page(client, world):
    call, proposal = world["call"], world["proposals"][1]
    client.force_login(world["chair"])
    page = client.get(url("proposal", call, proposal.pk))
    assert page.status_code == 200
    assert "Évaluations du jury" in text(page) and "Le projet tel que déposé" in text(page)
    response = client.post(url("decide", call, proposal.pk), {
        "outcome": "laureate", "track": world["track"].pk, "granted_amount_eur": 100_000, "reason": "Solide."})
    assert response.status_code == 302
    decision = Decision.objects.get(proposal=proposal)
    assert (decision.outcome, decision.granted_amount_eur, decision.reason) == ("laureate", 100_000, "Solide.")


def test_beyond_envelope_is_refused_with_a_message(client, world):
    call, track, first, second = world["call"], world["track"], world["proposals"][0], world["proposals"][1]
    client.force_login(world["chair"])
    client.post(url("decide", call, first.pk), {"outcome": "laureate", "track": track.pk,
                                                 "granted_amount_eur": 250_000, "reason": "Premier."})
    response = client.post(url("decide", call, second.pk), {"outcome": "laureate", "track": track.pk,
                                                             "granted_amount_eur": 100_000, "reason": "Second."})
    assert response.status_code == 400
    assert "indiquez le motif de la dérogation" in text(response)
    assert not Decision.objects.filter(proposal=second).exists()


def test_ordinary_juror_gets_a_clear_refusal_and_outsider_a_404(client, world):
    call, proposal = world["call"], world["proposals"][0]
    data = {"outcome": "not_selected", "reason": "Non."}
    client.force_login(world["member"])
    response = client.post(url("decide", call, proposal.pk), data)
    assert response.status_code == 403
    assert "Seul le président du jury ou l'équipe du programme peut prendre les décisions" in (
        text(response))
    assert client.post(url("apply_optimal", call)).status_code == 403
    client.force_login(UserFactory())
    assert client.post(url("decide", call, proposal.pk), data).status_code == 404
    assert not Decision.objects.exists()


def test_what_if_computes_without_touching_decisions(client, world):
    call, track, p = world["call"], world["track"], world["proposals"]
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    client.post(url("apply_optimal", call))
    before = list(Decision.objects.values_list("proposal_id", "outcome"))
    page = client.get(url("selection", call))
    assert "Ce que change la sélection optimale" in text(page)
    response = client.get(url("selection", call), {f"budget_{track.pk}": 500_000, f"max_{track.pk}": 3})
    assert response.context["scenario"].feasible
    assert response.context["scenario"].selected == {x.pk for x in p}
    impossible = client.get(url("selection", call), {"forced_in": [p[0].pk, p[1].pk], f"budget_{track.pk}": 300_000})
    body = text(impossible)
    assert "Ce scénario est impossible" in body
    assert "dépassent à eux seuls l'enveloppe du parcours « Technique et métier »" in body
    assert list(Decision.objects.values_list("proposal_id", "outcome")) == before


def test_lock_page_refuses_with_undecided_then_locks(client, world):
    call = world["call"]
    client.force_login(world["chair"])
    page = client.get(url("lock", call))
    assert "3 projets n'ont pas encore de décision : AMI-1, AMI-2, AMI-3." in text(page)
    response = client.post(url("lock", call), follow=True)
    assert "n'ont pas encore de décision" in text(response)
    assert not Deliberation.objects.get(call=call).is_locked
    client.post(url("apply_optimal", call))
    assert "« Délibération »" in text(client.get(url("lock", call)))
    client.post(url("lock", call))
    assert Deliberation.objects.get(call=call).is_locked
    call.refresh_from_db()
    assert call.status == CallStatus.DELIBERATION
    # After the lock, the chair's change is refused and staff need a reason.
    proposal = world["proposals"][2]
    response = client.post(url("decide", call, proposal.pk), {"outcome": "not_selected", "reason": "Non."})
    assert response.status_code == 403 and "seule l'équipe du programme" in text(response)
    client.force_login(UserFactory(is_staff=True))
    response = client.post(url("decide", call, proposal.pk), {"outcome": "not_selected", "reason": "Non."})
    assert response.status_code == 400
    assert "indiquez le motif de cette modification" in text(response)


def test_minutes_edited_and_printed(client, world):
    call = world["call"]
    client.force_login(world["chair"])
    members = list(call.jury_members.values_list("pk", flat=True))
    response = client.post(url("minutes", call), {"held_on": "2019-07-04", "present_members": members,
                                                  "minutes": "Le jury s'est réuni à la DINSIC."})
    assert response.status_code == 302
    client.post(url("apply_optimal", call))
    printed = text(client.get(url("minutes_print", call)))
    assert "4 juillet 2019" in printed and "Le jury s'est réuni à la DINSIC." in printed
    assert "Classé 2 sur 3 dans le parcours ; retenu dans l'enveloppe." in printed
    assert "désaccord entre les évaluations" in printed


def test_journal_for_staff_detects_an_edited_row(client, world):
    call = world["call"]
    staff = UserFactory(is_staff=True)
    services.apply_optimal(call=call, by=world["chair"])
    client.force_login(world["chair"])
    assert client.get(reverse("deliberation:journal")).status_code == 404
    client.force_login(staff)
    count = AuditEvent.objects.count()
    page = client.get(reverse("deliberation:journal"), {"call": call.slug, "action": "decision.set"})
    body = text(page)
    assert f"Journal intègre : {count} entrées vérifiées." in body
    assert len(page.context["page"].object_list) == 3
    tampered = AuditEvent.objects.filter(action="decision.set").first()
    AuditEvent.objects.filter(pk=tampered.pk).update(after={**tampered.after, "outcome": "laureate"})
    body = text(client.get(reverse("deliberation:journal")))
    assert f"Journal altéré : l'entrée n° {tampered.pk} ne correspond plus à son empreinte" in body
    assert audit.verify()[1] == tampered.pk
