"""A real Celery worker killed in the middle of an import: the job says so, nothing is half-written.

Runs the system as deployed by scripts/run — separate processes, the file-system broker,
a SQLite file — because a killed process cannot be simulated inside the test process.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.factories import make_id_number

PROJECT = Path(__file__).resolve().parents[2]


def manage(env, *args, check=True):
    return subprocess.run(
        [sys.executable, str(PROJECT / "manage.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=check,
        cwd=PROJECT,
    )


def django_eval(env, code: str) -> str:
    return manage(env, "shell", "--no-imports", "-c", code).stdout.strip()


def test_killed_worker_leaves_a_failed_job_and_no_half_import(tmp_path):
    env = {
        **os.environ,
        "DAYAO_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "",
        "CELERY_TASK_ALWAYS_EAGER": "",
    }
    manage(env, "migrate", "-v0")
    manage(env, "create_staff", "admin", "--password", "Pw-12345678", "--role", "county_admin")
    # Big enough that the import is still running when the worker is killed.
    rows = ["姓名,身份证号码,乡镇"] + [f"人{n},{make_id_number()},金碧" for n in range(150_000)]
    big = tmp_path / "big.csv"
    big.write_text("\n".join(rows), encoding="gbk")
    job_id = django_eval(
        env,
        "from django.core.files.uploadedfile import SimpleUploadedFile as F;"
        "from dayao_sscard.models import User;"
        "from roster.services import list_import_start;"
        f"f = F('big.csv', open({str(big)!r}, 'rb').read());"
        "print(list_import_start(acting_user=User.objects.get(username='admin'),"
        " kind='unissued', source='省第一批', uploaded_file=f).pk)",
    )
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "dayao_sscard",
            "worker",
            "--concurrency",
            "1",
            "--loglevel",
            "WARNING",
        ],
        env=env,
        cwd=PROJECT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        pid = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not pid:
            pid = django_eval(
                env,
                f"from dayao_sscard.models import Job; j = Job.objects.get(pk={job_id});"
                "print(j.worker_pid if j.status == 'running' else '')",
            )
            time.sleep(0.2)
        assert pid, "the worker never started the job"
        os.kill(int(pid), signal.SIGKILL)
        time.sleep(1)
        state = django_eval(
            env,
            "from dayao_sscard.jobs import job_fail_if_worker_gone;"
            "from dayao_sscard.models import Job;"
            "from roster.models import Person, SourceList, ListEntry;"
            f"j = job_fail_if_worker_gone(Job.objects.get(pk={job_id}));"
            "print(j.status, Person.objects.count(), SourceList.objects.count(),"
            " ListEntry.objects.count(), j.error)",
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
    status, persons, lists, entries, error = state.split(" ", 4)
    assert (status, persons, lists, entries) == ("failed", "0", "0", "0")
    assert "意外中止" in error
