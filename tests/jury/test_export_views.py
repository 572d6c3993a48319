import html
import io

import openpyxl
import pytest
from django.urls import reverse

from ami.models import CallStatus
from applications.models import ProposalStatus
from jury.models import ExportJob, ExportStatus
from tests.ami.factories import CallFactory, TrackFactory, UserFactory
from tests.applications.factories import MembershipFactory, ProposalFactory
from tests.jury.factories import DecisionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def call():
    call = CallFactory(status=CallStatus.ANNOUNCED)
    track = TrackFactory(call=call)
    proposal = ProposalFactory(call=call, reference="AMI-0001", title="Tri du courrier", status=ProposalStatus.LAUREATE)
    DecisionFactory(proposal=proposal, track=track)
    return call


@pytest.fixture
def staff():
    return UserFactory(is_staff=True)


def ask(client, call, dataset="laureates", fmt="xlsx"):
    return client.post(reverse("exports:ask", args=[call.slug]), {"dataset": dataset, "format": fmt}, follow=True)


def test_staff_asks_follows_and_downloads_an_export(client, call, staff, django_capture_on_commit_callbacks):
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = ask(client, call)

    job = ExportJob.objects.get()
    assert "L'export est en préparation" in html.unescape(response.content.decode())
    page = client.get(reverse("exports:page", args=[call.slug])).content.decode()  # the task ran after commit
    assert reverse("exports:download", args=[job.pk]) in page
    status = client.get(reverse("exports:status", args=[job.pk])).json()
    assert (status["status"], status["percent"], status["rows_total"]) == ("done", 100, 1)
    download = client.get(status["download"])
    assert download["Content-Disposition"].startswith(f'attachment; filename="{call.slug}-laureats-')
    assert download["X-Content-Type-Options"] == "nosniff"
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
    assert sheet["B2"].value == "AMI-0001"


@pytest.mark.parametrize("persona", ["anonymous", "applicant", "juror"])
def test_outsiders_get_404_or_the_login_page(client, call, staff, persona):
    job = ExportJob.objects.create(call=call, dataset="laureates", format="csv", requested_by=staff,
                                   status=ExportStatus.DONE)
    if persona == "applicant":
        client.force_login(MembershipFactory().user)
    elif persona == "juror":
        client.force_login(UserFactory())
    urls = [
        reverse("exports:page", args=[call.slug]),
        reverse("exports:status", args=[job.pk]),
        reverse("exports:download", args=[job.pk]),
    ]
    for url in urls:
        response = client.get(url)
        if persona == "anonymous":
            assert response.status_code == 302 and "/compte/connexion/" in response["Location"]
        else:
            assert response.status_code == 404
    assert client.post(reverse("exports:ask", args=[call.slug]), {"dataset": "laureates", "format": "csv"}
                       ).status_code in (302, 404)
    assert ExportJob.objects.count() == 1


def test_another_staff_member_cannot_read_my_export(client, call, staff):
    job = ExportJob.objects.create(call=call, dataset="proposals", format="csv", requested_by=staff)
    client.force_login(UserFactory(is_staff=True))

    assert client.get(reverse("exports:status", args=[job.pk])).status_code == 404


def test_unknown_format_or_empty_laureates_is_refused_with_a_message(client, staff):
    client.force_login(staff)
    call = CallFactory(status=CallStatus.REVIEW)

    response = ask(client, call, fmt="exe")
    assert "Choisissez un contenu et un format" in html.unescape(response.content.decode())
    response = ask(client, call, fmt="csv")
    assert "Aucune décision n'est encore enregistrée" in html.unescape(response.content.decode())
    assert ExportJob.objects.count() == 0
