"""Redis down for minutes: the pages keep answering, a list uploaded meanwhile is accepted
and says it waits, and once Redis is back every such job runs, once.

The installation as deployed (docs/DEPLOYMENT.md): PostgreSQL, Redis as the broker and the
cache, a Celery worker with its beat. Both servers are private to the test; Redis is killed
(a crash, its queue lost) and started again empty after FAULTS_REDIS_DOWN_SECONDS (two
minutes unless told). A clerk's browser (tests/faults/clerk.py) uses the pages meanwhile.
"""

import json
import os
import subprocess
import sys
import time

import pytest
from django.urls import reverse

from tests.factories import make_id_number

from .installation import (
    PROJECT,
    PrivateRedis,
    Worker,
    django_eval,
    installation_env,
    manage,
    wait_until,
)

DOWN_SECONDS = float(os.environ.get("FAULTS_REDIS_DOWN_SECONDS", "120"))
ROWS = 2000
# An upload while the broker is down may wait for one quick retry, not hang. Timed after a
# first request, which loads the URLs and templates of the clerk's fresh process.
MAX_SECONDS_PER_PAGE = 5
WARM_UP = {"get": "/"}


def clerk(env: dict, username: str, requests: list[dict]) -> list[dict]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.faults.clerk", username],
        input=json.dumps(requests),
        env=env,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines()]


def list_file(path, source: str):
    rows = ["姓名,身份证号码,乡镇"] + [f"{source}{n},{make_id_number()},金碧" for n in range(ROWS)]
    path.write_text("\n".join(rows), encoding="gbk")
    return path


def upload(path, source: str) -> dict:
    return {
        "post": reverse("roster:import-create"),
        "data": {"kind": "unissued", "source": source},
        "files": {"file": str(path)},
    }


def job_of(response: dict) -> int:
    assert response["status"] == 302, response["text"][-2000:]
    return int(response["location"].rstrip("/").rsplit("/", 1)[-1])


def jobs(env: dict) -> dict:
    """Each job's status and counts, read without touching it (no page view sends it)."""
    return {
        int(pk): value
        for pk, value in json.loads(
            django_eval(
                env,
                "import json; from dayao_sscard.models import Job;"
                "print(json.dumps({j.pk: [j.status, j.counts] for j in Job.objects.all()}))",
            )
        ).items()
    }


@pytest.fixture
def installation(private_cluster, migrated_template, tmp_path):
    url = private_cluster.database_from(migrated_template, "redis_down")
    redis = PrivateRedis()
    env = {
        **installation_env(tmp_path, url, redis.url),
        "ALLOWED_HOSTS": "testserver",
    }
    manage(env, "create_staff", "admin", "--password", "Pw-12345678", "--role", "county_admin")
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 (closed below)
    worker = Worker(env, beat=True, log=log)
    try:
        yield env, redis, tmp_path
    finally:
        worker.stop()
        redis.stop()
        log.close()


def test_redis_down_for_minutes_pages_answer_and_waiting_jobs_run_once_afterwards(installation):
    env, redis, files = installation
    before = clerk(env, "admin", [upload(list_file(files / "a.csv", "甲"), "甲")])
    first = job_of(before[0])
    wait_until(lambda: jobs(env)[first][0] == "succeeded", timeout=120, interval=1, what="job A")
    person = django_eval(env, "from roster.models import Person; print(Person.objects.first().pk)")

    redis.stop()
    down_at = time.monotonic()
    pages = [
        {"get": reverse("home")},
        {"get": reverse("roster:person-list")},
        {"get": reverse("roster:person-detail", args=[person])},
        {"get": reverse("roster:import-create")},
        {"get": reverse("issuance:risks")},
        {"get": reverse("job-list")},
        {"get": reverse("job-detail", args=[first])},
    ]
    during = clerk(
        env,
        "admin",
        [
            WARM_UP,
            *pages,
            upload(list_file(files / "b.csv", "乙"), "乙"),
            upload(list_file(files / "c.csv", "丙"), "丙"),
        ],
    )[1:]
    for response in during[: len(pages)]:
        assert response["status"] == 200, (response["path"], response["text"][-2000:])
    waiting = [job_of(response) for response in during[len(pages) :]]
    assert all(r["seconds"] < MAX_SECONDS_PER_PAGE for r in during), [
        (r["path"], r["seconds"]) for r in during
    ]
    job_b, job_c = waiting
    seen = clerk(env, "admin", [{"get": reverse("job-detail", args=[job_b])}])[0]
    assert seen["status"] == 200
    assert "任务已保存，恢复后将自动开始" in seen["text"]
    status = clerk(env, "admin", [{"get": reverse("job-status", args=[job_b])}])[0]
    assert json.loads(status["text"])["waits_for_broker"] is True

    time.sleep(max(0.0, DOWN_SECONDS - (time.monotonic() - down_at)))
    # Minutes later, the pages still answer, and the jobs still wait.
    late = clerk(env, "admin", pages)
    assert [r["status"] for r in late] == [200] * len(pages)
    assert {jobs(env)[pk][0] for pk in waiting} == {"queued"}

    redis.start()
    # B's page is open: its next poll sends it. Nobody looks at C: the beat's minute task
    # sends it.
    clerk(env, "admin", [{"get": reverse("job-status", args=[job_b])}])
    finished = wait_until(
        lambda: all(jobs(env)[pk][0] == "succeeded" for pk in waiting) and jobs(env),
        timeout=240,
        interval=2,
        what="the waiting jobs to run",
    )
    for pk in waiting:
        assert finished[pk][1]["新增人员"] == ROWS
    imports = django_eval(
        env,
        "from dayao_sscard.models import AuditEvent; from roster.models import Person;"
        "print(AuditEvent.objects.filter(action='roster.sourcelist.imported').count(),"
        " Person.objects.count())",
    )
    assert imports == f"3 {3 * ROWS}"
