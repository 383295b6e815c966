"""A real Celery worker killed at 10 %, 50 % and 99 % of a large import: the job says it
failed, nothing is half-written, and the same file submitted again is imported once.

Runs the system as deployed, in separate processes, because a killed process cannot be
simulated inside the test process: once with a SQLite file and the file-system broker
(scripts/run), once with PostgreSQL and Redis (docs/DEPLOYMENT.md), each private to the
test. The worker pauses at each progress report (tests/faults/slow_worker.py), so the test
reads the job's live progress, as its page does, and kills the worker's process there.
"""

import json
import os
import signal
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.redis import RedisCache

from tests.factories import make_id_number

from .installation import PrivateRedis, Worker, django_eval, installation_env, manage, wait_until

# The import reports its progress every 5,000 rows: 8 reports, one per 12.5 %.
ROWS = 40_000
PAUSE_AT_EACH_REPORT = 0.3
# The import's last step before it commits: every row is written, the figures are next.
LAST_STEP = "正在更新进度统计"


@dataclass
class Installation:
    env: dict
    cache: BaseCache
    database_url: str
    big_file: Path
    worker: Worker

    def job_row(self, job_id: int) -> tuple[str, int | None]:
        """The job's status and worker process, read straight from the database."""
        query = "SELECT status, worker_pid FROM dayao_sscard_job WHERE id = %s"
        if self.database_url.startswith("sqlite"):
            with sqlite3.connect(self.database_url.removeprefix("sqlite:///")) as db:
                return db.execute(query.replace("%s", "?"), (job_id,)).fetchone()
        with psycopg2.connect(self.database_url) as db, db.cursor() as cursor:
            cursor.execute(query, (job_id,))
            return cursor.fetchone()

    def live_progress(self, job_id: int) -> dict:
        return self.cache.get(f"job-progress:{job_id}") or {}

    def submit(self) -> int:
        return int(
            django_eval(
                self.env,
                "from django.core.files.uploadedfile import SimpleUploadedFile as F;"
                "from dayao_sscard.models import User;"
                "from roster.services import list_import_start;"
                f"f = F('big.csv', open({str(self.big_file)!r}, 'rb').read());"
                "print(list_import_start(acting_user=User.objects.get(username='admin'),"
                " kind='unissued', source='省第一批', uploaded_file=f).pk)",
            )
        )

    def state(self, job_id: int) -> dict:
        """What the job page would say (a gone worker noticed), and what the import wrote."""
        found = django_eval(
            self.env,
            "import json;"
            "from dayao_sscard.jobs import job_refresh;"
            "from dayao_sscard.models import Job;"
            "from roster.models import Person, SourceList, ListEntry, Village;"
            "from roster.progress import figures_drift;"
            f"j = job_refresh(Job.objects.get(pk={job_id}));"
            "print(json.dumps({'status': j.status, 'error': j.error, 'counts': j.counts,"
            " 'persons': Person.objects.count(), 'lists': SourceList.objects.count(),"
            " 'entries': ListEntry.objects.count(), 'villages': Village.objects.count(),"
            " 'drift': figures_drift()}))",
        )
        return json.loads(found)


@pytest.fixture(scope="module", params=["sqlite+files", "postgresql+redis"])
def installation(request, tmp_path_factory):
    data = tmp_path_factory.mktemp("installation")
    redis = None
    if request.param == "sqlite+files":
        url = f"sqlite:///{data / 'db.sqlite3'}"
        env = installation_env(data, url)
        manage(env, "migrate", "-v0")
        cache = FileBasedCache(str(data / "cache"), {})
    else:
        cluster = request.getfixturevalue("private_cluster")
        url = cluster.database_from(request.getfixturevalue("migrated_template"), "killed")
        redis = PrivateRedis()
        env = installation_env(data, url, redis.url)
        cache = RedisCache(redis.url, {})
    manage(env, "create_staff", "admin", "--password", "Pw-12345678", "--role", "county_admin")
    big = data / "big.csv"
    rows = ["姓名,身份证号码,乡镇"] + [f"人{n},{make_id_number()},金碧" for n in range(ROWS)]
    big.write_text("\n".join(rows), encoding="gbk")
    worker = Worker(env, slow_progress=PAUSE_AT_EACH_REPORT)
    try:
        yield Installation(env, cache, url, big, worker)
    finally:
        worker.stop()
        if redis:
            redis.stop()


def _reached(live: dict, percent: int) -> bool:
    if percent == 99:
        return live.get("message") == LAST_STEP
    return live.get("progress", 0) >= percent


@pytest.mark.parametrize("percent", [10, 50, 99])
def test_a_worker_killed_part_way_leaves_a_failed_job_and_nothing_imported(installation, percent):
    job_id = installation.submit()
    live = wait_until(
        lambda: (p := installation.live_progress(job_id)) and _reached(p, percent) and p,
        timeout=180,
        interval=0.02,
        what=f"the import to reach {percent} %",
    )
    status, pid = installation.job_row(job_id)
    assert status == "running" and pid
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not Path(f"/proc/{pid}").exists(), timeout=10, what="the kill")

    state = installation.state(job_id)
    assert live["progress"] in range(percent, percent + 10), live
    assert state["status"] == "failed", state
    assert "意外中止" in state["error"]
    assert (state["persons"], state["lists"], state["entries"], state["villages"]) == (0, 0, 0, 0)
    assert state["drift"] == {}


def test_the_file_submitted_again_is_imported_once(installation):
    first = installation.submit()
    done = wait_until(
        lambda: (
            (s := installation.state(first))["status"] != "queued"
            and s["status"] != "running"
            and s
        ),
        timeout=300,
        interval=1,
        what="the import to finish",
    )
    assert done["status"] == "succeeded", done
    assert (done["persons"], done["lists"], done["entries"]) == (ROWS, 1, ROWS)
    assert done["counts"]["新增人员"] == ROWS

    again = installation.submit()
    twice = wait_until(
        lambda: (s := installation.state(again))["status"] == "succeeded" and s,
        timeout=120,
        interval=1,
        what="the second submission to finish",
    )
    assert "已于" in twice["counts"]["结果"]
    assert (twice["persons"], twice["lists"], twice["entries"]) == (ROWS, 1, ROWS)
    assert twice["drift"] == {}
