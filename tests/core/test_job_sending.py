"""A job queued while the broker cannot be reached waits, says so, and is sent once it can
be; the Redis cache reads as empty while Redis is down. (The whole fault, with real
processes: tests/faults/test_redis_down.py.)"""

from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache.backends.redis import RedisCache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from dayao_sscard.cache import TolerantRedisCache
from dayao_sscard.jobs import job_create, job_send_if_waiting, jobs_resend_waiting
from dayao_sscard.models import Job, JobKind, JobStatus
from dayao_sscard.selectors import job_is_waiting_long
from dayao_sscard.tasks import job_enqueue, job_task
from tests.core.test_jobs import count_ten_rows  # noqa: F401 (the job's work)
from tests.factories import make_id_number
from tests.faults.installation import free_port

BROKER_DOWN = OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def new_job(user) -> Job:
    return job_create(
        kind=JobKind.EXPORT,
        work="tests.core.test_jobs.count_ten_rows",
        title="测试任务",
        started_by=user,
    )


@pytest.fixture
def broker_down():
    with mock.patch.object(job_task, "apply_async", side_effect=BROKER_DOWN) as sending:
        yield sending


@pytest.mark.django_db(transaction=True)
class TestBrokerDown:
    def test_a_job_queued_meanwhile_is_kept_and_says_it_waits(self, client, clerk_a, broker_down):
        job = job_enqueue(new_job(clerk_a))  # outside a transaction: sent at once
        job.refresh_from_db()
        assert (job.status, job.sent_at, job.waits_for_broker) == (JobStatus.QUEUED, None, True)
        client.force_login(clerk_a)
        page = client.get(reverse("job-detail", args=[job.pk]))
        assert page.status_code == 200
        assert "任务已保存，恢复后将自动开始，无需重新提交" in page.content.decode()
        assert client.get(reverse("job-status", args=[job.pk])).json()["waits_for_broker"]
        assert broker_down.call_count == 3  # queued, then again at each look at it

    def test_an_upload_meanwhile_is_accepted(self, client, county_admin, broker_down):
        client.force_login(county_admin)
        upload = SimpleUploadedFile(
            "名单.csv", f"姓名,身份证号码,乡镇\n张三,{make_id_number()},金碧".encode()
        )
        response = client.post(
            reverse("roster:import-create"),
            {"kind": "unissued", "source": "省第一批", "file": upload},
        )
        assert response.status_code == 302
        job = Job.objects.get()
        assert job.waits_for_broker

    def test_not_said_to_wait_for_a_worker_while_it_waits_for_the_broker(
        self, clerk_a, broker_down
    ):
        job = job_enqueue(new_job(clerk_a))
        Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=5))
        job.refresh_from_db()
        assert not job_is_waiting_long(job)
        Job.objects.filter(pk=job.pk).update(sent_at=timezone.now())
        job.refresh_from_db()
        assert job_is_waiting_long(job)


@pytest.mark.django_db
class TestSendingAgain:
    def test_a_waiting_job_is_sent_when_its_page_is_looked_at_and_runs(self, clerk_a):
        job = new_job(clerk_a)
        job = job_send_if_waiting(job)  # tests run tasks at once (eager)
        assert job.status == JobStatus.SUCCEEDED
        assert job.counts == {"rows": 10}

    def test_still_down_the_job_keeps_waiting(self, clerk_a, broker_down):
        job = job_send_if_waiting(new_job(clerk_a))
        assert (job.status, job.sent_at) == (JobStatus.QUEUED, None)

    def test_the_minute_task_sends_the_unsent_and_the_long_sent_only(self, clerk_a, settings):
        settings.JOB_RESEND_AFTER_SECONDS = 600
        unsent, recent, long_ago, running = (new_job(clerk_a) for _ in range(4))
        Job.objects.filter(pk=recent.pk).update(sent_at=timezone.now())
        Job.objects.filter(pk=long_ago.pk).update(sent_at=timezone.now() - timedelta(hours=1))
        Job.objects.filter(pk=running.pk).update(status=JobStatus.RUNNING)
        with mock.patch.object(job_task, "apply_async") as sending:
            assert jobs_resend_waiting() == 2
        assert sorted(call.args[0][0] for call in sending.call_args_list) == sorted(
            [unsent.pk, long_ago.pk]
        )
        assert Job.objects.filter(sent_at__isnull=True).count() == 1  # only the running one

    def test_sent_twice_a_job_runs_once(self, clerk_a):
        calls = []
        job = new_job(clerk_a)
        with mock.patch(
            "tests.core.test_jobs.count_ten_rows", side_effect=lambda job, p: calls.append(1)
        ):
            job_task.apply_async((job.pk,))
            job_task.apply_async((job.pk,))
            job_send_if_waiting(Job.objects.get(pk=job.pk))
        assert calls == [1]


class TestTolerantRedisCache:
    """A Redis that is not there: nothing listens on the port."""

    @pytest.fixture
    def cache(self):
        return TolerantRedisCache(
            f"redis://127.0.0.1:{free_port()}/0", {"OPTIONS": {"socket_connect_timeout": 1}}
        )

    def test_reads_are_misses_and_writes_are_dropped(self, cache):
        cache.set("job-progress:1", {"progress": 10})
        assert cache.get("job-progress:1") is None
        assert cache.get("job-progress:1", "无") == "无"
        assert cache.get_many(["a", "b"]) == {}
        assert cache.add("a", 1) is False
        cache.delete_many(["a", "b"])
        assert cache.set_many({"a": 1, "b": 2}) == ["a", "b"]

    def test_a_counter_still_says_it_failed(self, cache):
        with pytest.raises(RedisConnectionError):
            cache.incr("a")

    def test_plain_django_redis_cache_raises(self):
        plain = RedisCache(f"redis://127.0.0.1:{free_port()}/0", {})
        with pytest.raises(RedisConnectionError):
            plain.get("a")
