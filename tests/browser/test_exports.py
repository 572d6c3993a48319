"""Staff prepare an export and download it from the browser."""

import openpyxl
import pytest

from ami import demo
from ami.models import Call
from tests.ami.factories import UserFactory
from tests.browser.test_applicant import log_in
from tests.conftest import axe_violations, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_exports_the_2019_laureates_as_xlsx(page, tmp_path):
    demo.seed()
    UserFactory(email="exports@example.gouv.fr", is_staff=True)
    log_in(page, "exports@example.gouv.fr")
    slug = Call.objects.get(slug="ami-ia-2019").slug

    page.goto(f"/equipe/appels/{slug}/exports/")
    assert page.locator("#no-exports").is_visible()
    assert axe_violations(page) == []
    page.select_option("#id_dataset", "laureates")
    page.select_option("#id_format", "xlsx")
    page.get_by_role("button", name="Préparer l'export").click()
    link = page.locator("#export-jobs").get_by_role("link", name="Télécharger")
    link.wait_for()
    assert axe_violations(page) == []
    screenshot(page, "staff-exports")

    with page.expect_download() as download_info:
        link.click()
    target = tmp_path / "laureats.xlsx"
    download_info.value.save_as(target)
    rows = list(openpyxl.load_workbook(target).active.iter_rows(values_only=True))
    assert len(rows) == 16
    assert rows[0][:3] == ("appel", "reference", "titre")
