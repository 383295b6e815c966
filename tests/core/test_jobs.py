import subprocess
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from dayao_sscard.jobs import (
    INTERNAL_ERROR_MESSAGE,
    WORKER_GONE_MESSAGE,
    JobFailure,
    job_create,
    job_fail_if_worker_gone,
    job_run,
    job_with_live_progress,
)
from dayao_sscard.models import Job, JobKind, JobStatus
from dayao_sscard.tasks import job_task


def count_ten_rows(job, progress):
    return {"rows": 10}


@pytest.fixture
def job(clerk_a):
    """Queued, and in the broker's queue: sent, waiting for the worker."""
    job = job_create(
        kind=JobKind.EXPORT,
        work="tests.core.test_jobs.count_ten_rows",
        title="测试任务",
        started_by=clerk_a,
    )
    Job.objects.filter(pk=job.pk).update(sent_at=timezone.now())
    job.refresh_from_db()
    return job


@pytest.mark.django_db
class TestJobRun:
    def test_success_records_counts_and_full_progress(self, job):
        def work(job, progress):
            progress(5, 10, "一半", force=True)
            live = job_with_live_progress(Job.objects.get(pk=job.pk))
            assert (live.progress, live.message) == (50, "一半")
            return {"rows": 10}

        job_run(job.pk, work)
        job.refresh_from_db()
        assert job.status == JobStatus.SUCCEEDED
        assert (job.progress, job.counts) == (100, {"rows": 10})
        assert job.started_at and job.finished_at

    def test_a_user_facing_failure_keeps_its_message(self, job):
        def work(job, progress):
            raise JobFailure("缺少必需的列：公民身份号码")

        job_run(job.pk, work)
        job.refresh_from_db()
        assert (job.status, job.error) == (JobStatus.FAILED, "缺少必需的列：公民身份号码")

    def test_an_unexpected_error_is_reported_without_internals(self, job):
        def work(job, progress):
            raise KeyError("secret internals")

        job_run(job.pk, work)
        job.refresh_from_db()
        assert job.status == JobStatus.FAILED
        assert job.error == INTERNAL_ERROR_MESSAGE

    def test_a_job_runs_only_once(self, job):
        calls = []
        job_run(job.pk, lambda job, progress: calls.append(1))
        job_run(job.pk, lambda job, progress: calls.append(1))
        assert calls == [1]

    def test_the_task_runs_the_service_the_job_names(self, job):
        job_task(job.pk)
        job.refresh_from_db()
        assert (job.status, job.counts) == (JobStatus.SUCCEEDED, {"rows": 10})

    def test_a_job_naming_no_known_service_fails_without_internals(self, job):
        Job.objects.filter(pk=job.pk).update(work="roster.services.no_such_service")
        job_task(job.pk)
        job.refresh_from_db()
        assert (job.status, job.error) == (JobStatus.FAILED, INTERNAL_ERROR_MESSAGE)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("seen_from", ["the worker's host", "another host"])
def test_a_silent_worker_is_running_on_every_poll_and_then_succeeds(
    client, clerk_a, settings, seen_from
):
    # The probe: a worker writing a very large error report said nothing for 180 s, was
    # failed and "rolled back" on a page view, then completed. Here the limit is 1 s.
    settings.JOB_STALE_AFTER_SECONDS = 1
    settings.JOB_HEARTBEAT_SECONDS = 0.1
    job = job_create(
        kind=JobKind.EXPORT,
        work="tests.core.test_jobs.count_ten_rows",
        title="大报告",
        started_by=clerk_a,
    )
    started, release = threading.Event(), threading.Event()

    def work(job, progress):
        if seen_from == "another host":
            Job.objects.filter(pk=job.pk).update(worker_host="worker-2")
        started.set()
        release.wait(timeout=30)  # busy, and silent: no progress reported
        return {"rows": 1}

    def worker():
        try:
            job_run(job.pk, work)
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert started.wait(timeout=10)
        client.force_login(clerk_a)
        polls, until = [], time.monotonic() + 2.5
        while time.monotonic() < until:
            polls.append(client.get(reverse("job-status", args=[job.pk])).json()["status"])
            time.sleep(0.2)
    finally:
        release.set()
        thread.join(timeout=30)
    assert set(polls) == {"running"}
    job.refresh_from_db()
    assert (job.status, job.counts) == (JobStatus.SUCCEEDED, {"rows": 1})
    assert not [t for t in threading.enumerate() if t.name == f"job-{job.pk}-heartbeat"]


@pytest.mark.django_db
def test_a_worker_being_stopped_leaves_a_failed_job(job):
    def work(job, progress):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        job_run(job.pk, work)
    job.refresh_from_db()
    assert (job.status, job.error) == (JobStatus.FAILED, WORKER_GONE_MESSAGE)


@pytest.mark.django_db
class TestDeadWorker:
    def test_a_job_whose_worker_process_died_is_failed(self, job):
        dead = subprocess.Popen(["true"])
        dead.wait()
        import socket

        Job.objects.filter(pk=job.pk).update(
            status=JobStatus.RUNNING,
            started_at=timezone.now(),
            heartbeat_at=timezone.now(),
            worker_host=socket.gethostname(),
            worker_pid=dead.pid,
        )
        job = job_fail_if_worker_gone(Job.objects.get(pk=job.pk))
        assert job.status == JobStatus.FAILED
        assert job.error == WORKER_GONE_MESSAGE

    def test_a_job_on_another_host_fails_when_its_heartbeat_is_stale(self, job, settings):
        settings.JOB_STALE_AFTER_SECONDS = 60
        Job.objects.filter(pk=job.pk).update(
            status=JobStatus.RUNNING,
            worker_host="other-host",
            worker_pid=1,
            started_at=timezone.now() - timedelta(minutes=5),
            heartbeat_at=timezone.now() - timedelta(minutes=2),
        )
        assert job_fail_if_worker_gone(Job.objects.get(pk=job.pk)).status == JobStatus.FAILED

    def test_a_heartbeat_from_the_cache_keeps_a_job_alive(self, job, settings):
        from dayao_sscard.jobs import JobProgress

        settings.JOB_STALE_AFTER_SECONDS = 60
        Job.objects.filter(pk=job.pk).update(
            status=JobStatus.RUNNING,
            worker_host="other-host",
            worker_pid=1,
            started_at=timezone.now() - timedelta(minutes=5),
            heartbeat_at=timezone.now() - timedelta(minutes=5),
        )
        JobProgress(job)(3, 4, "写入中", force=True)
        job = job_fail_if_worker_gone(Job.objects.get(pk=job.pk))
        assert (job.status, job.progress) == (JobStatus.RUNNING, 75)

    def test_a_live_job_stays_running(self, job):
        import os
        import socket

        Job.objects.filter(pk=job.pk).update(
            status=JobStatus.RUNNING,
            worker_host=socket.gethostname(),
            worker_pid=os.getpid(),
            started_at=timezone.now(),
            heartbeat_at=timezone.now(),
        )
        assert job_fail_if_worker_gone(Job.objects.get(pk=job.pk)).status == JobStatus.RUNNING

    def test_the_status_page_reports_the_dead_worker(self, client, clerk_a, job):
        Job.objects.filter(pk=job.pk).update(
            status=JobStatus.RUNNING,
            worker_host="other-host",
            worker_pid=1,
            started_at=timezone.now() - timedelta(hours=1),
            heartbeat_at=timezone.now() - timedelta(hours=1),
        )
        client.force_login(clerk_a)
        data = client.get(reverse("job-status", args=[job.pk])).json()
        assert data["status"] == "failed" and data["finished"]
        assert data["error"] == WORKER_GONE_MESSAGE


@pytest.mark.django_db
class TestJobViews:
    def test_owner_sees_the_job_page_with_a_progress_bar(self, client, clerk_a, job):
        client.force_login(clerk_a)
        response = client.get(reverse("job-detail", args=[job.pk]))
        assert response.status_code == 200
        assert 'role="progressbar"' in response.content.decode()

    def test_status_json(self, client, clerk_a, job):
        client.force_login(clerk_a)
        data = client.get(reverse("job-status", args=[job.pk])).json()
        assert data["status"] == "queued" and data["progress"] == 0 and not data["finished"]

    def test_another_township_clerk_gets_404(self, client, clerk_b, job):
        client.force_login(clerk_b)
        for name in ("job-detail", "job-status", "job-result"):
            assert client.get(reverse(name, args=[job.pk])).status_code == 404

    def test_county_roles_see_all_jobs(self, client, supervisor, job):
        client.force_login(supervisor)
        assert client.get(reverse("job-detail", args=[job.pk])).status_code == 200
        assert job in client.get(reverse("job-list")).context["page"]

    def test_a_job_without_result_has_no_download(self, client, clerk_a, job):
        client.force_login(clerk_a)
        assert client.get(reverse("job-result", args=[job.pk])).status_code == 404

    def test_list_shows_only_own_jobs_to_township_staff(self, client, clerk_a, clerk_b, job):
        client.force_login(clerk_b)
        assert list(client.get(reverse("job-list")).context["page"]) == []
