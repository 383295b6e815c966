"""Retention: uploads and exports are deleted after their period, the audit log keeps what
was uploaded, and the pages that offered a deleted file say so instead of failing."""

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from dayao_sscard.celery import app
from dayao_sscard.jobs import job_attach_result, job_create, job_run
from dayao_sscard.models import AuditEvent, Job, JobKind, JobStatus
from dayao_sscard.retention import audit_retention_check, retention_run
from dayao_sscard.tasks import retention_task
from roster.models import ListKind
from roster.services import UPLOAD_GONE, list_import_confirm

LIST_BYTES = b"PK\x03\x04 not really a workbook, but bytes with a fingerprint"


def ended(job: Job, *, days_ago: float, status=JobStatus.SUCCEEDED) -> Job:
    Job.objects.filter(pk=job.pk).update(
        status=status, finished_at=timezone.now() - timedelta(days=days_ago)
    )
    job.refresh_from_db()
    return job


@pytest.fixture
def upload(county_admin):
    """An uploaded list, as the import page keeps it (its import not run)."""
    return job_create(
        kind=JobKind.IMPORT_LIST,
        work="roster.services.list_import_run",
        title="导入未制卡人员名单：省第一批",
        started_by=county_admin,
        params={"kind": ListKind.UNISSUED, "source": "省第一批"},
        input_file=SimpleUploadedFile("省第一批.xlsx", LIST_BYTES),
        input_name="省第一批.xlsx",
    )


@pytest.fixture
def export(county_admin):
    job = job_create(kind=JobKind.EXPORT, work="", title="导出人员名单", started_by=county_admin)
    job_attach_result(job, name="金碧镇_人员名单.xlsx", content=ContentFile(b"PK", name="x"))
    job.refresh_from_db()
    return job


@pytest.mark.django_db
class TestUploads:
    def test_an_upload_is_audited_with_its_size_and_fingerprint(self, upload, county_admin):
        event = AuditEvent.objects.get(action="dayao_sscard.job.file_uploaded")
        assert (event.actor, event.object_id) == (county_admin, str(upload.pk))
        assert event.after["文件名"] == "省第一批.xlsx"
        assert event.after["file_size"] == len(LIST_BYTES) == upload.input_size
        assert len(event.after["file_sha256"]) == 64
        assert event.after["file_sha256"] == upload.input_sha256

    def test_an_old_upload_is_deleted_and_its_audit_row_stays(self, upload, settings):
        settings.UPLOAD_RETENTION_DAYS = 30
        stored = upload.input_file.name
        storage = upload.input_file.storage
        assert storage.exists(stored)
        ended(upload, days_ago=31, status=JobStatus.FAILED)  # failed uploads go too

        result = retention_run()

        assert result.uploads_deleted == 1
        assert not storage.exists(stored)
        job = Job.objects.get(pk=upload.pk)
        assert not job.input_file and job.input_deleted_at is not None
        assert (job.input_name, job.input_size) == ("省第一批.xlsx", len(LIST_BYTES))
        uploaded = AuditEvent.objects.get(action="dayao_sscard.job.file_uploaded")
        assert uploaded.after["file_sha256"] == job.input_sha256
        deleted = AuditEvent.objects.get(action="dayao_sscard.job.input_deleted")
        assert deleted.before["file_sha256"] == job.input_sha256
        assert "保留 30 天" in deleted.note

    def test_a_recent_upload_and_a_running_import_keep_their_files(self, upload, settings):
        settings.UPLOAD_RETENTION_DAYS = 30
        ended(upload, days_ago=29)
        running = job_create(
            kind=JobKind.IMPORT_LIST,
            work="roster.services.list_import_run",
            title="导入",
            started_by=upload.started_by,
            input_file=SimpleUploadedFile("b.xlsx", b"PK"),
        )

        assert retention_run().uploads_deleted == 0
        assert Job.objects.get(pk=upload.pk).input_file
        assert Job.objects.get(pk=running.pk).input_file

    def test_the_job_page_says_when_the_upload_was_deleted(self, client, upload, county_admin):
        ended(upload, days_ago=100)
        retention_run()
        client.force_login(county_admin)
        html = client.get(reverse("job-detail", args=[upload.pk])).content.decode()
        assert "省第一批.xlsx" in html and "按留存规定删除" in html
        assert 'data-testid="input-deleted"' in html

    def test_a_preview_whose_upload_was_deleted_asks_for_it_again(self, upload, county_admin):
        ended(upload, days_ago=100, status=JobStatus.NEEDS_CONFIRMATION)
        retention_run()
        with pytest.raises(ValidationError) as refused:
            list_import_confirm(
                acting_user=county_admin, job=Job.objects.get(pk=upload.pk), coverage="complete"
            )
        assert refused.value.messages == [UPLOAD_GONE]

    def test_an_import_whose_upload_is_gone_fails_in_words(self, upload):
        upload.input_file.storage.delete(upload.input_file.name)
        job_run(upload.pk)
        upload.refresh_from_db()
        assert (upload.status, upload.error) == (JobStatus.FAILED, UPLOAD_GONE)


@pytest.mark.django_db
class TestExports:
    def test_an_old_export_is_deleted_and_its_link_says_so(
        self, client, export, county_admin, settings
    ):
        settings.EXPORT_RETENTION_DAYS = 7
        stored, storage = export.result_file.name, export.result_file.storage
        ended(export, days_ago=8)

        assert retention_run().exports_deleted == 1

        assert not storage.exists(stored)
        job = Job.objects.get(pk=export.pk)
        assert job.result_deleted_at and job.result_name == "金碧镇_人员名单.xlsx"
        assert AuditEvent.objects.filter(
            action="dayao_sscard.job.result_deleted", object_id=str(job.pk)
        ).exists()
        client.force_login(county_admin)
        page = client.get(reverse("job-detail", args=[job.pk])).content.decode()
        assert 'data-testid="result-deleted"' in page and 'data-testid="job-result"' not in page
        response = client.get(reverse("job-result", args=[job.pk]), follow=True)
        assert response.status_code == 200
        assert "按留存规定删除" in response.content.decode()

    def test_a_recent_export_is_kept(self, export, settings):
        settings.EXPORT_RETENTION_DAYS = 7
        ended(export, days_ago=6)
        assert retention_run().exports_deleted == 0
        assert Job.objects.get(pk=export.pk).result_file

    def test_a_lost_file_is_no_server_error(self, client, export, county_admin):
        ended(export, days_ago=1)
        export.result_file.storage.delete(export.result_file.name)
        client.force_login(county_admin)
        response = client.get(reverse("job-result", args=[export.pk]), follow=True)
        assert response.status_code == 200
        assert "该文件已不存在" in response.content.decode()

    def test_a_progress_reports_pdf_and_workbook_both_go(self, client, county_admin, settings):
        from dashboard.progress_reports import _attach_workbook

        job = job_create(
            kind=JobKind.PROGRESS_REPORT, work="", title="进度通报", started_by=county_admin
        )
        job_attach_result(job, name="通报.pdf", content=ContentFile(b"%PDF", name="r.pdf"))
        _attach_workbook(job, name="通报.xlsx", content=ContentFile(b"PK", name="r.xlsx"))
        workbook = job.params["xlsx_file"]
        storage = job.result_file.storage
        ended(job, days_ago=settings.EXPORT_RETENTION_DAYS + 1)

        retention_run()

        assert not storage.exists(workbook)
        job.refresh_from_db()
        assert "xlsx_file" not in job.params and not job.result_file
        client.force_login(county_admin)
        for fmt in ("pdf", "xlsx"):
            response = client.get(reverse("progress-report-file", args=[job.pk, fmt]), follow=True)
            assert response.status_code == 200
            assert "按留存规定删除" in response.content.decode()


@pytest.mark.django_db
class TestRunningIt:
    def test_the_command_and_the_nightly_task(self, upload, export, capsys):
        ended(upload, days_ago=1000)
        ended(export, days_ago=1000)
        call_command("retention")
        assert "删除上传文件 1；删除导出文件 1" in capsys.readouterr().out
        assert retention_task() == {
            "删除上传文件": 0,
            "删除导出文件": 0,
            "删除过期操作日志": 0,
            "删除过期数据变更记录": 0,
        }
        scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
        assert "dayao_sscard.retention_run" in scheduled

    def test_an_audit_period_under_six_months_is_refused(self, upload, settings):
        settings.AUDIT_RETENTION_DAYS = 182
        ended(upload, days_ago=1000)
        with pytest.raises(ImproperlyConfigured, match="至少留存 183 天"):
            retention_run()
        with pytest.raises(CommandError, match="至少留存 183 天"):
            call_command("retention")
        assert [e.id for e in audit_retention_check()] == ["dayao_sscard.E001"]
        assert Job.objects.get(pk=upload.pk).input_file  # nothing was deleted
        settings.AUDIT_RETENTION_DAYS = 183
        assert audit_retention_check() == []
