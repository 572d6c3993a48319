"""seed_demo's juries: the 2019 assignment comes from run_assignment; the open demo call has a jury to join."""

from io import StringIO

import pytest
from django.core.management import call_command

from ami.models import AuditEvent, Call
from jury.models import JuryMember, JuryRole, Review
from jury.services.assignment import assignment_overview

pytestmark = pytest.mark.django_db


def test_demo_assignment_goes_through_the_service_and_the_demo_call_has_a_jury(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    call_2019 = Call.objects.get(slug="ami-ia-2019")
    run = AuditEvent.objects.get(action="assignment.run", call=call_2019)
    assert (run.after["created"], run.after["coverage"], run.after["uncovered"]) == (92, 1.0, {})
    assert run.after["imbalance"] <= 1
    assert AuditEvent.objects.filter(action="assignment.review_created", call=call_2019).count() == 92
    assert not Review.objects.filter(proposal__call=call_2019, assigned_by__isnull=True).exists()
    overview = assignment_overview(call=call_2019)
    assert (len(overview.units), len(overview.proposals), overview.uncovered) == (6, 46, [])
    assert overview.imbalance == run.after["imbalance"]

    demo = Call.objects.get(slug="ami-ia-demo")
    seats = {m.user.email: m for m in JuryMember.objects.filter(call=demo).select_related("user")}
    assert set(seats) == {"president@demo.ami-ia.fr", "jure@demo.ami-ia.fr"}
    assert seats["president@demo.ami-ia.fr"].role == JuryRole.CHAIR
    assert all(m.charter_accepted_at is None for m in seats.values())

    call_command("seed_demo", stdout=StringIO())
    assert JuryMember.objects.filter(call=demo).count() == 2
    assert AuditEvent.objects.filter(action="assignment.run").count() == 2  # 2018 and 2019, once each
