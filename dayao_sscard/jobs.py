"""Background jobs as rows: create, queue, run, report progress, detect dead workers.

Each job row names the service function that does its work (``Job.work``, a dotted path);
the one Celery task (``tasks.job_task``) hands the job's id to ``job_run``, which runs it.

While the work runs, a thread of the worker beats every JOB_HEARTBEAT_SECONDS, whatever
the work is doing: a job is failed only when its worker is really gone (its process has
ended on this host, or its heartbeat stopped), never because the work was quiet a while.

A job whose task could not be sent (the broker down) stays queued without ``sent_at``; its
page says it waits, and it is sent again when its page is looked at or by the beat's minute
task, whichever comes first once the broker answers. However often it is sent, ``job_run``
claims it once.
"""

import hashlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.files.base import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from .audit import audit_record
from .models import Job, JobStatus
from .row_audit import audit_actor

logger = logging.getLogger(__name__)

WORKER_GONE_MESSAGE = "后台处理进程意外中止，本次任务未完成，已处理的数据均已撤回，请重新提交。"
INTERNAL_ERROR_MESSAGE = "处理时发生内部错误，数据未作任何修改。请联系系统管理员。"


# The one task that runs jobs (``tasks.job_task``), by its name: this module is what the
# tasks module imports.
JOB_TASK = "dayao_sscard.tasks.job_task"
# Sending a task to a broker that does not answer: one quick retry, not the default's
# several, so that a clerk's upload waits at most a few seconds before it is told the job
# waits for the broker.
SEND_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5}


class JobFailure(Exception):
    """A failure the user can act on; its message (Chinese) is shown as is."""


class JobNeedsConfirmation(JobFailure):
    """The work stopped, writing nothing, until a person chooses how to go on.

    ``details`` (Chinese labels → figures) says what each choice would change.
    """

    def __init__(self, message: str, details: dict):
        super().__init__(message)
        self.details = details


def _progress_key(job_id: int) -> str:
    return f"job-progress:{job_id}"


def _heartbeat_key(job_id: int) -> str:
    return f"job-heartbeat:{job_id}"


def _beat(job_id: int) -> None:
    try:
        cache.set(_heartbeat_key(job_id), time.time(), timeout=24 * 3600)
    except Exception:  # a cache hiccup must not stop the work; the next beat retries
        logger.warning("job %s: heartbeat not written", job_id, exc_info=True)


@contextmanager
def _heartbeat(job_id: int) -> Iterator[None]:
    """Beat from a thread of its own while the block runs.

    To the cache, not the job row: the work's own transaction may hold the database
    (SQLite's single writer, a row it updated) for as long as it runs. The cache is the
    one every process of the installation shares (Redis, or the data folder's files).
    """
    stop, interval = threading.Event(), settings.JOB_HEARTBEAT_SECONDS

    def beat_until_stopped() -> None:
        while not stop.wait(interval):
            _beat(job_id)

    _beat(job_id)
    thread = threading.Thread(
        target=beat_until_stopped, name=f"job-{job_id}-heartbeat", daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


class JobProgress:
    """Handed to the service to report progress.

    Progress goes to the cache: the service's own transaction may hold the
    database (a COPY in progress, or SQLite's single writer) while it reports.
    """

    def __init__(self, job: Job):
        self.job = job
        self._last_write = 0.0

    def __call__(self, done: int, total: int, message: str = "", *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_write < 0.5:
            return
        self._last_write = now
        percent = min(99, int(done * 100 / total)) if total else 0
        cache.set(
            _progress_key(self.job.pk),
            {"progress": percent, "message": message[:200], "heartbeat": time.time()},
            timeout=24 * 3600,
        )


def job_with_live_progress(job: Job) -> Job:
    """The job row, with the progress and heartbeat its running worker last reported."""
    if job.status == JobStatus.RUNNING:
        live = cache.get_many([_progress_key(job.pk), _heartbeat_key(job.pk)])
        beats = [job.heartbeat_at]
        if progress := live.get(_progress_key(job.pk)):
            job.progress, job.message = progress["progress"], progress["message"]
            beats.append(datetime.fromtimestamp(progress["heartbeat"], tz=UTC))
        if beat := live.get(_heartbeat_key(job.pk)):
            beats.append(datetime.fromtimestamp(beat, tz=UTC))
        job.heartbeat_at = max(filter(None, beats), default=None)
    return job


def job_create(
    *,
    kind: str,
    work: str,
    title: str,
    started_by,
    params: dict | None = None,
    input_file: File | None = None,
    input_name: str = "",
) -> Job:
    """The job row, before its task is queued; ``work`` is the dotted path of the service
    function ``work(job, progress) -> counts`` that will run it.

    An uploaded file is audited as it is kept: who uploaded what, its size and SHA-256,
    which outlive the file itself (deleted under the retention rule, dayao_sscard.retention).
    """
    job = Job(kind=kind, work=work, title=title[:200], started_by=started_by, params=params or {})
    with transaction.atomic():
        if input_file is not None:
            job.input_name = (input_name or getattr(input_file, "name", ""))[:255]
            job.input_sha256, job.input_size = file_fingerprint(input_file)
            job.input_file.save(
                os.path.basename(job.input_name) or "upload", input_file, save=False
            )
        job.save()
        if input_file is not None:
            audit_record(
                actor=started_by,
                action="dayao_sscard.job.file_uploaded",
                obj=job,
                after=file_facts(job.input_name, job.input_size, job.input_sha256),
            )
    return job


def _publish(job_id: int) -> bool:
    """Hand the job's task to the broker; False when the broker cannot be reached."""
    from .celery import app  # the Celery app only where a task is sent (see celery.py)

    try:
        app.tasks[JOB_TASK].apply_async((job_id,), retry_policy=SEND_RETRY_POLICY)
    except Exception:  # any broker failure: the job row stays queued and is sent again
        logger.warning("job %s: broker unreachable, the job waits to be sent", job_id)
        return False
    return True


def job_send(job_id: int) -> bool:
    """Send the queued job's task and note when; a job whose broker is down keeps no
    ``sent_at``: its page says it waits, and ``job_send_if_waiting`` sends it later.

    Sent twice (two pages, the minute's task) it still runs once: ``job_run`` claims it.
    """
    if not _publish(job_id):
        return False
    Job.objects.filter(pk=job_id).update(sent_at=timezone.now())
    return True


def _is_waiting_to_be_sent(job: Job, now: datetime) -> bool:
    """Queued and never sent, or sent so long ago that the message may be lost (a broker
    that restarted without keeping its queue)."""
    if job.status != JobStatus.QUEUED:
        return False
    resend_after = timedelta(seconds=settings.JOB_RESEND_AFTER_SECONDS)
    return job.sent_at is None or now - job.sent_at > resend_after


def job_send_if_waiting(job: Job) -> Job:
    """Send again a queued job that never reached the broker (or long ago)."""
    if _send_again(job):
        job.refresh_from_db()
    return job


def _send_again(job: Job) -> bool:
    """Whether this process sent the waiting job now.

    One process sends it: the row's ``sent_at`` is claimed first, and given back when
    the broker still does not answer.
    """
    now = timezone.now()
    if not _is_waiting_to_be_sent(job, now):
        return False
    claimed = Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED, sent_at=job.sent_at).update(
        sent_at=now
    )
    if not claimed:
        return False
    if not _publish(job.pk):
        Job.objects.filter(pk=job.pk, sent_at=now).update(sent_at=job.sent_at)
        return False
    return True


def jobs_resend_waiting() -> int:
    """Every queued job waiting to be sent, sent (the beat's minute task); how many."""
    now = timezone.now()
    resend_after = timedelta(seconds=settings.JOB_RESEND_AFTER_SECONDS)
    waiting = Job.objects.filter(status=JobStatus.QUEUED).filter(
        Q(sent_at__isnull=True) | Q(sent_at__lt=now - resend_after)
    )
    return sum(_send_again(job) for job in waiting.order_by("pk"))


def file_fingerprint(file: File) -> tuple[str, int | None]:
    """The file's SHA-256 and size, read from its start (left open, as an upload must be
    for saving); ("", None) if it is gone."""
    digest, size = hashlib.sha256(), 0
    try:
        for chunk in file.chunks():
            digest.update(chunk)
            size += len(chunk)
    except FileNotFoundError:
        return "", None
    return digest.hexdigest(), size


def file_facts(name: str, size: int | None, sha256: str) -> dict:
    """What the audit log keeps of a file: its name, size and fingerprint (the last two
    also as plain values, which the log's pages leave out)."""
    return {
        "文件名": name,
        "文件大小": file_size_label(size),
        "file_size": size,
        "file_sha256": sha256,
    }


def file_size_label(size: int | None) -> str:
    if size is None:
        return "未知"
    if size < 1024:
        return f"{size} 字节"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def job_file_open(field_file) -> File | None:
    """A job's stored file opened for reading, or None when it is not there (deleted
    under the retention rule, or lost): a page offering it answers in words, not 500."""
    if not field_file:
        return None
    try:
        return field_file.open("rb")
    except FileNotFoundError:
        return None


def job_file_gone_message(job: Job) -> str:
    if job.result_deleted_at:
        return (
            f"该文件已于 {timezone.localtime(job.result_deleted_at):%Y-%m-%d %H:%M} "
            "按留存规定删除，如仍需要请重新生成。"
        )
    return "该文件已不存在，请重新生成。"


def job_run(job_id: int, work: Callable[[Job, JobProgress], dict | None] | None = None) -> None:
    """Run the job's work (``work`` if given, else the function ``Job.work`` names) for a
    queued job and record how it ended.

    Celery's Django fix-up already closes stale database connections around each task.
    """
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
        worker_host=socket.gethostname(),
        worker_pid=os.getpid(),
    )
    if not claimed:
        logger.warning("job %s is not queued any more; skipping", job_id)
        return
    job = Job.objects.get(pk=job_id)
    try:
        with _heartbeat(job.pk), audit_actor(job.started_by, f"后台任务：{job.title}"):
            counts = (work or import_string(job.work))(job, JobProgress(job)) or {}
    except JobNeedsConfirmation as exc:
        _finish(job, JobStatus.NEEDS_CONFIRMATION, counts=exc.details, error=str(exc))
    except (JobFailure, PermissionDenied) as exc:
        # A refusal says in Chinese what may not be done: the user reads it on the job page.
        _finish(job, JobStatus.FAILED, error=str(exc))
    except Exception:
        logger.exception("job %s failed", job_id)
        _finish(job, JobStatus.FAILED, error=INTERNAL_ERROR_MESSAGE)
    except BaseException:
        # The worker is being stopped (shutdown, time limit): the work's transaction is
        # rolled back, and a process that lives on must not leave the job running.
        _finish(job, JobStatus.FAILED, error=WORKER_GONE_MESSAGE)
        raise
    else:
        _finish(job, JobStatus.SUCCEEDED, counts=counts)


def job_attach_result(job: Job, *, name: str, content: File) -> None:
    job.result_name = name
    job.result_file.save(name, content, save=False)
    Job.objects.filter(pk=job.pk).update(
        result_file=job.result_file.name, result_name=job.result_name
    )


def _finish(job: Job, status: str, *, counts: dict | None = None, error: str = "") -> None:
    cache.delete_many([_progress_key(job.pk), _heartbeat_key(job.pk)])
    fields = {"status": status, "finished_at": timezone.now(), "error": error}
    if status == JobStatus.SUCCEEDED:
        fields.update(progress=100, message="完成", counts=counts or {})
    elif status == JobStatus.NEEDS_CONFIRMATION:
        fields.update(message="等待确认", counts=counts or {})
    Job.objects.filter(pk=job.pk).update(**fields)


def job_refresh(job: Job) -> Job:
    """The job as its pages show it: sent again if it still waits for the broker, failed
    if its worker is gone."""
    return job_fail_if_worker_gone(job_send_if_waiting(job))


def job_fail_if_worker_gone(job: Job) -> Job:
    """A running job whose worker is gone is failed, never 'running' forever.

    On the worker's own host its process tells: ended means gone at once, alive means
    running, however long the work has been quiet. Elsewhere the heartbeat tells, which
    the worker's heartbeat thread renews every JOB_HEARTBEAT_SECONDS while it lives: gone
    when none came for JOB_STALE_AFTER_SECONDS.
    """
    if job.status != JobStatus.RUNNING:
        return job
    job = job_with_live_progress(job)
    alive = _worker_process_alive(job)
    if alive is False or (alive is None and _heartbeat_is_stale(job)):
        updated = Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
            status=JobStatus.FAILED, finished_at=timezone.now(), error=WORKER_GONE_MESSAGE
        )
        if updated:
            job.refresh_from_db()
    return job


def _worker_process_alive(job: Job) -> bool | None:
    """Whether the worker's process still runs; None when it runs on another host."""
    if not job.worker_pid or job.worker_host != socket.gethostname():
        return None
    try:
        os.kill(job.worker_pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a process of another user: alive
        return True
    return True


def _heartbeat_is_stale(job: Job) -> bool:
    last = job.heartbeat_at or job.started_at
    limit = timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)
    return last is not None and timezone.now() - last > limit
