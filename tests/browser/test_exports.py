"""A county supervisor on a phone exports the filtered children list: the XLSX button downloads
exactly the listed children; a long list goes to the worker, whose page shows the progress and
then the download link."""

from __future__ import annotations

import io

import openpyxl
import pytest
from celery.contrib.testing.worker import start_worker
from django.db.models import Q

from cases.models import Child
from config.celery import app
from core.models import AccessEvent, ExportJob
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import DEMO_PASSWORD, user

pytestmark = pytest.mark.browser

TOWNSHIP = "990101001"


def township_children() -> set[str]:
    return set(
        Child.objects.filter(
            Q(residence_region__code__startswith=TOWNSHIP)
            | Q(household_region__code__startswith=TOWNSHIP)
        ).values_list("record_number", flat=True)
    )


def records_of(content: bytes) -> set[str]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    index = rows[0].index("档案编号")
    return {row[index] for row in rows[1:]}


def test_the_filtered_list_downloads_as_xlsx_on_a_phone(phone):
    page = phone
    sign_in(page, "county_civil", DEMO_PASSWORD)
    page.wait_for_load_state()
    page.goto(f"/children/?region={TOWNSHIP}")
    form = page.locator('[data-testid="export-children"]')
    form.wait_for()
    screenshot(page, "children-export-county_civil")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    with page.expect_download() as download:
        form.get_by_role("button", name="XLSX").click()
    path = download.value.path()
    assert download.value.suggested_filename.endswith(".xlsx")
    with open(path, "rb") as handle:
        assert records_of(handle.read()) == township_children()
    assert AccessEvent.objects.filter(
        user=user("county_civil"), action="export", detail__export="children"
    ).count() == len(township_children())


def test_a_long_export_shows_its_progress_then_the_download(phone, settings):
    settings.EXPORT_SYNC_MAX_ROWS = 5
    page = phone
    sign_in(page, "county_civil", DEMO_PASSWORD)
    page.wait_for_load_state()
    page.goto(f"/children/?region={TOWNSHIP}")
    form = page.locator('[data-testid="export-children"]')
    form.locator('input[name="deidentified"]').check()
    form.get_by_role("button", name="XLSX").click()
    page.wait_for_url("**/exports/*/")
    assert page.get_by_role("progressbar").is_visible()
    screenshot(page, "export-queued")

    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        link = page.locator('[data-testid="export-download"]')
        link.wait_for(timeout=60_000)  # htmx polls the page until the job is done
    screenshot(page, "export-ready")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    job = ExportJob.objects.get(requester=user("county_civil"))
    assert job.deidentified and job.status == ExportJob.Status.DONE

    with page.expect_download() as download:
        link.click()
    with open(download.value.path(), "rb") as handle:
        content = handle.read()
    assert records_of(content) == township_children()
    header = next(openpyxl.load_workbook(io.BytesIO(content)).worksheets[0].iter_rows())
    assert "姓名" not in [cell.value for cell in header]
