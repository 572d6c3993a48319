import csv
import io
import zipfile
from datetime import date

import pytest
from django.urls import reverse
from pypdf import PdfReader

from ami import demo
from ami.models import Call, CallStatus
from jury.records import build_pack
from tests.ami.factories import CallFactory, UserFactory
from tests.applications.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def read(pack, suffix):
    name = next(n for n in pack.namelist() if n.startswith(suffix))
    return pack.read(name)


def rows(pack, prefix):
    return list(csv.DictReader(io.StringIO(read(pack, prefix).decode("utf-8"))))


def test_the_2019_pack_holds_every_document_asked_in_2025_and_the_open_call_has_no_laureates():
    demo.seed()
    call = Call.objects.get(slug="ami-ia-2019")
    name, content = build_pack(call, today=date(2026, 11, 29))
    pack = zipfile.ZipFile(io.BytesIO(content))

    assert name == "ami-ia-2019-dossier-communication-2026-11-29.zip"
    assert [n.split("-2026")[0] for n in pack.namelist()] == [
        "00-LISEZ-MOI", "01-grille-d-evaluation", "02-composition-du-jury", "03-methode", "04-proces-verbal",
        "05-decisions-motivees", "06-notes-par-projet", "07-formulaire-de-candidature-vierge", "08-laureats",
    ]
    readme = read(pack, "00-").decode()
    assert "Projets déposés : 46." in readme
    assert all(n in readme for n in pack.namelist()[1:])
    grid = rows(pack, "01-")
    assert [int(r["poids_sur_100"]) for r in grid] == [25, 20, 15, 10, 15, 5, 10]
    assert {r["note_maximale"] for r in grid} == {"5"}
    assert len(rows(pack, "02-")) == 12
    assert len(rows(pack, "05-")) == 46
    assert all(r["motif"] for r in rows(pack, "05-"))
    scores = rows(pack, "06-")
    assert len(scores) == 92 * 7
    assert {r["jure"] for r in scores} <= {f"Juré {letter}" for letter in "ABCDEFGHIJKL"}
    assert not any("@" in r["jure"] for r in scores)
    assert len(rows(pack, "08-")) == 15
    form = PdfReader(io.BytesIO(read(pack, "07-")))
    text = "".join(page.extract_text() for page in form.pages)
    assert "Formulaire de candidature" in text and "Approche par l'intelligence artificielle" in text

    _, content = build_pack(Call.objects.get(slug="ami-ia-demo"))
    open_pack = zipfile.ZipFile(io.BytesIO(content))
    assert not any(n.startswith("08-") for n in open_pack.namelist())
    blank = PdfReader(io.BytesIO(read(open_pack, "07-")))
    assert "porté par une administration de l'État" in "".join(page.extract_text() for page in blank.pages)


def test_staff_download_and_outsiders_404(client):
    call = CallFactory(status=CallStatus.REVIEW)
    client.force_login(UserFactory(is_staff=True))
    response = client.get(reverse("exports:records", args=[call.slug]))

    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith(f'attachment; filename="{call.slug}-dossier-communication-')
    assert zipfile.ZipFile(io.BytesIO(response.content)).testzip() is None

    client.force_login(MembershipFactory().user)
    assert client.get(reverse("exports:records", args=[call.slug])).status_code == 404
