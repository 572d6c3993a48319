"""The selection report of the demo's `ami-ia-2019`: everything DOMAIN.md's public figures say is in it.

The demo is seeded once for the module inside a transaction that is rolled back; the tests read the text
of the PDF rendered from it (twice, to check that the same snapshot gives the same bytes).
"""

import hashlib
import io

import pypdf
import pytest
from django.db import transaction

from ami import demo_data


def normalised(text):
    return " ".join(text.split())


@pytest.fixture(scope="module")
def report_2019(django_db_setup, django_db_blocker):
    from ami.demo import administration, seed
    from ami.models import Call
    from jury.report.render import render_report
    from jury.report.snapshot import audit_head, snapshot_sha256, take_snapshot

    with django_db_blocker.unblock(), transaction.atomic():
        seed()
        call = Call.objects.get(slug="ami-ia-2019")
        snapshot = take_snapshot(call)
        sha = snapshot_sha256(snapshot)
        head = audit_head()
        pdf, pages = render_report(snapshot, sha256=sha, audit_head=head, version=1, is_draft=False)
        again, _pages = render_report(snapshot, sha256=sha, audit_head=head, version=1, is_draft=False)
        names = {key: administration(key).name for key, *_rest in demo_data.LAUREATES_2019}
        transaction.set_rollback(True)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return {"pdf": pdf, "again": again, "pages": pages, "sha": sha, "names": names, "reader": reader,
            "text": normalised(" ".join(page.extract_text() for page in reader.pages))}


def test_all_fifteen_laureates_with_their_administrations(report_2019):
    text = report_2019["text"]
    assert len(demo_data.LAUREATES_2019) == 15
    for key, _track, title, _summary, amount in demo_data.LAUREATES_2019:
        assert normalised(title) in text
        assert normalised(report_2019["names"][key]) in text
    assert ("15 projets sont retenus. « Accompagnement technique et métier » : 11 ; "
            "« Accompagnement scientifique » : 4") in text


def test_seven_criteria_with_their_weights(report_2019):
    text = report_2019["text"]
    for title, _description, weight in demo_data.CRITERIA:
        assert f"{normalised(title)} {weight} %" in text
    assert sum(weight for *_rest, weight in demo_data.CRITERIA) == 100


def test_key_figures_and_budget_totals(report_2019):
    text = report_2019["text"]
    assert "46 projets reçus" in text and "38 administrations candidates" in text
    assert "Accompagnement technique et métier 3 500 000 €" in text
    assert "Accompagnement scientifique 500 000 €" in text
    assert "Total 4 000 000 €" in text
    assert "11 sur 11" in text and "4 sur 4" in text and "15 sur 15" in text


def test_same_snapshot_same_bytes_and_hash_printed(report_2019):
    assert hashlib.sha256(report_2019["pdf"]).digest() == hashlib.sha256(report_2019["again"]).digest()
    assert report_2019["sha"] in report_2019["text"].replace(" ", "")
    assert report_2019["pages"] == len(report_2019["reader"].pages) > 20


def test_pdf_ua_marks(report_2019):
    root = report_2019["reader"].trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"]) is True and root["/Lang"] == "fr" and "/StructTreeRoot" in root
    assert 'pdfuaid:part="1"' in root["/Metadata"].get_object().get_data().decode()
    assert report_2019["reader"].metadata["/Title"] == "Rapport de sélection — AMI Intelligence artificielle 2019"
