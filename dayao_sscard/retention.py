"""Retention: what the system keeps, and for how long.

- Uploaded lists (``Job.input_file``: every upload, failed ones included) are deleted
  UPLOAD_RETENTION_DAYS after their job ended, generated exports (``Job.result_file``, and
  a progress report's workbook beside it) EXPORT_RETENTION_DAYS after. The job row stays
  and says when its file went; the upload's audit row keeps its name, size and SHA-256.
- The audit log (AuditEvent and DataChange) is kept AUDIT_RETENTION_DAYS, at least 183
  (网络安全法: network logs at least six months), then deleted here and nowhere else: the
  database refuses any other DELETE (migration dayao_sscard 0015).

What the ledger needs as evidence is not an upload of a list and is never deleted here:
signed handover sheets, proxy documents, photos, the ledger and its sealed day heads.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone

from .audit import audit_record
from .jobs import file_facts, file_fingerprint, job_fail_if_worker_gone
from .models import AuditEvent, DataChange, Job, JobStatus

MINIMUM_AUDIT_DAYS = 183
PURGE_BATCH = 10_000


@dataclass
class RetentionResult:
    uploads_deleted: int = 0
    exports_deleted: int = 0
    audit_events_deleted: int = 0
    data_changes_deleted: int = 0

    def summary(self) -> dict:
        return {
            "删除上传文件": self.uploads_deleted,
            "删除导出文件": self.exports_deleted,
            "删除过期操作日志": self.audit_events_deleted,
            "删除过期数据变更记录": self.data_changes_deleted,
        }


def audit_retention_days() -> int:
    """AUDIT_RETENTION_DAYS, refused below six months."""
    days = settings.AUDIT_RETENTION_DAYS
    if days < MINIMUM_AUDIT_DAYS:
        raise ImproperlyConfigured(
            f"AUDIT_RETENTION_DAYS={days}：操作日志至少留存 {MINIMUM_AUDIT_DAYS} 天"
            "（网络安全法要求网络日志留存不少于六个月），请改为不小于该值的天数。"
        )
    return days


def audit_retention_check(app_configs=None, **kwargs) -> list[checks.Error]:
    """System check (registered in apps.py): a too-short audit period stops ``check``,
    ``migrate`` and the server's start, not just the nightly run."""
    try:
        audit_retention_days()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="dayao_sscard.E001")]
    return []


def retention_run(*, now: datetime | None = None) -> RetentionResult:
    """Delete every upload, export and audit row past its period; one transaction per
    file and per batch of audit rows, so a run stopped half-way leaves nothing half-done."""
    now = now or timezone.now()
    audit_days = audit_retention_days()  # refused before anything is deleted
    _fail_dead_jobs(
        now - timedelta(days=min(settings.UPLOAD_RETENTION_DAYS, settings.EXPORT_RETENTION_DAYS))
    )
    result = RetentionResult(
        uploads_deleted=_delete_uploads(now),
        exports_deleted=_delete_exports(now),
    )
    result.audit_events_deleted, result.data_changes_deleted = audit_purge(
        before=now - timedelta(days=audit_days)
    )
    return result


def _fail_dead_jobs(cutoff: datetime) -> None:
    """A job left running by a worker that died is failed first, so its files count as
    those of an ended job; a job still queued keeps its upload for the worker to come."""
    for job in Job.objects.filter(status=JobStatus.RUNNING, created_at__lt=cutoff):
        job_fail_if_worker_gone(job)


def _delete_uploads(now: datetime) -> int:
    days = settings.UPLOAD_RETENTION_DAYS
    jobs = Job.objects.filter(
        finished_at__lt=now - timedelta(days=days), input_deleted_at__isnull=True
    ).exclude(input_file="")
    deleted = 0
    for pk in jobs.values_list("pk", flat=True):
        with transaction.atomic():
            job = Job.objects.select_for_update().get(pk=pk)
            if not job.input_file or job.input_deleted_at:
                continue
            name = job.input_file.name
            if not job.input_sha256:  # uploaded before fingerprints were kept
                job.input_sha256, job.input_size = file_fingerprint(job.input_file)
                job.input_file.close()
            job.input_file, job.input_deleted_at = "", now
            job.save(update_fields=["input_file", "input_sha256", "input_size", "input_deleted_at"])
            audit_record(
                actor=None,
                action="dayao_sscard.job.input_deleted",
                obj=job,
                before=file_facts(job.input_name, job.input_size, job.input_sha256),
                note=f"按留存规定删除：上传的名单文件保留 {days} 天",
            )
            # Last, inside the transaction: a file that cannot be deleted undoes the record.
            Job.input_file.field.storage.delete(name)
            deleted += 1
    return deleted


def _delete_exports(now: datetime) -> int:
    days = settings.EXPORT_RETENTION_DAYS
    jobs = Job.objects.filter(
        finished_at__lt=now - timedelta(days=days), result_deleted_at__isnull=True
    ).exclude(result_file="")
    storage = Job.result_file.field.storage
    deleted = 0
    for pk in jobs.values_list("pk", flat=True):
        with transaction.atomic():
            job = Job.objects.select_for_update().get(pk=pk)
            if not job.result_file or job.result_deleted_at:
                continue
            names = [job.result_file.name]
            # A progress report keeps its workbook beside the PDF (dashboard.progress_reports).
            if workbook := job.params.pop("xlsx_file", None):
                names.append(workbook)
            job.result_file, job.result_deleted_at = "", now
            job.save(update_fields=["result_file", "result_deleted_at", "params"])
            audit_record(
                actor=None,
                action="dayao_sscard.job.result_deleted",
                obj=job,
                before={"文件名": job.result_name},
                note=f"按留存规定删除：导出文件保留 {days} 天",
            )
            for name in names:
                storage.delete(name)
            deleted += 1
    return deleted


def audit_purge(*, before: datetime) -> tuple[int, int]:
    """Delete audit rows older than ``before`` (never younger than MINIMUM_AUDIT_DAYS:
    the trigger refuses them whatever this says); returns (audit events, data changes)."""
    counts = []
    for model in (AuditEvent, DataChange):
        total = 0
        while True:
            with transaction.atomic(durable=True), _purge_allowed():
                batch = list(
                    model.objects.filter(at__lt=before)
                    .order_by("at", "id")
                    .values_list("pk", flat=True)[:PURGE_BATCH]
                )
                if not batch:
                    break
                total += model.objects.filter(pk__in=batch).delete()[0]
        counts.append(total)
    if any(counts):
        AuditEvent.objects.create(
            actor_username="系统",
            action="dayao_sscard.auditevent.purged",
            object_type=AuditEvent._meta.label_lower,
            object_id="",
            object_repr="操作日志",
            after={
                "删除操作日志条数": counts[0],
                "删除数据变更记录条数": counts[1],
                "删除早于": f"{timezone.localtime(before):%Y-%m-%d %H:%M}",
            },
            note=f"按留存规定删除：操作日志保留 {settings.AUDIT_RETENTION_DAYS} 天",
        )
    return counts[0], counts[1]


class _purge_allowed:
    """Inside the purge's transaction, tell the audit tables' delete trigger that this
    is the retention service (migration dayao_sscard 0015), and take it back at the end:
    should the block ever run inside a larger transaction, the permission ends with it."""

    def __enter__(self):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL dayao.audit_purge = 'on'")
            else:
                cursor.execute("INSERT INTO dayao_audit_purge (started) VALUES (1)")

    def __exit__(self, *exc):
        if connection.needs_rollback or exc[0] is not None:
            return False  # rolled back with the block: the permission goes with it
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL dayao.audit_purge = 'off'")
            else:
                cursor.execute("DELETE FROM dayao_audit_purge")
        return False
