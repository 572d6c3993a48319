"""Staff generate the 2019 selection report, follow its progress and download it; the statistics page."""

import hashlib

import pytest
from playwright.sync_api import expect

from ami import demo
from jury import tasks
from jury.models import ReportStatus, SelectionReport
from jury.report.services import build_report
from tests.ami.factories import UserFactory
from tests.browser.test_applicant import log_in
from tests.conftest import axe_violations, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_generate_progress_download(page, tmp_path, monkeypatch):
    demo.seed()
    UserFactory(email="rapport@example.gouv.fr", is_staff=True)
    # The task is held back, so that the page shows the report waiting for the worker; the test then plays
    # the worker's part while the page polls.
    queued = []
    monkeypatch.setattr(tasks.build_selection_report, "delay", lambda **kwargs: queued.append(kwargs))
    log_in(page, "rapport@example.gouv.fr")

    page.goto("/equipe/appels/ami-ia-2019/rapport/")
    expect(page.locator("#no-reports")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Générer le rapport de sélection").click()
    expect(page.get_by_text("L'instantané est figé (version 1)")).to_be_visible()
    row = page.locator("#rapport-1")
    expect(row.locator("[data-report-label]")).to_have_text("En attente du traitement (instantané figé)")
    assert row.locator("progress").get_attribute("value") == "5"
    assert axe_violations(page) == []
    screenshot(page, "staff-report-pending")

    report = SelectionReport.objects.get()
    assert queued == [{"report_id": report.pk}]
    build_report(report=report)  # the worker
    link = row.get_by_role("link", name="Télécharger")
    link.wait_for()
    expect(row.locator("[data-report-label]")).to_have_text("Prêt")
    assert row.locator("progress").get_attribute("value") == "100"
    assert axe_violations(page) == []
    screenshot(page, "staff-report-done")

    with page.expect_download() as download_info:
        link.click()
    target = tmp_path / "rapport.pdf"
    download_info.value.save_as(target)
    report.refresh_from_db()
    assert report.status == ReportStatus.DONE
    assert hashlib.sha256(target.read_bytes()).hexdigest() == report.pdf_sha256


def test_statistics_page(page):
    demo.seed()
    UserFactory(email="stats@example.gouv.fr", is_staff=True)
    log_in(page, "stats@example.gouv.fr")
    page.goto("/equipe/appels/ami-ia-2019/statistiques/")
    expect(page.locator("#chart-scores img")).to_be_visible()
    assert page.locator("figure.report-chart img").count() == 3
    assert axe_violations(page) == []
    screenshot(page, "staff-report-statistics")
