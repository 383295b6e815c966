"""A whole installation in separate processes, for the fault tests: a private PostgreSQL
cluster and a private Redis that a test may restart or stop, the web application and the
Celery worker as deployed, and ``manage.py`` run as a clerk's script would.

Nothing here touches the shared PostgreSQL or Redis of the machine: other test runs use
them. The cluster runs as the ``postgres`` OS user when the tests run as root (CI).
"""

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing answers on port {port}")


def manage(env: dict, *args: str, check: bool = True, timeout: float = 600):
    return subprocess.run(
        [sys.executable, str(PROJECT / "manage.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=check,
        cwd=PROJECT,
        timeout=timeout,
    )


def django_eval(env: dict, code: str) -> str:
    """Run ``code`` in ``manage.py shell`` of the installation; what it printed."""
    done = manage(env, "shell", "--no-imports", "-c", code, check=False)
    if done.returncode:
        raise AssertionError(f"manage.py shell failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip()


class PrivateCluster:
    """A throwaway PostgreSQL cluster on a port of its own, in a temporary directory."""

    def __init__(self):
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            pytest.skip("PostgreSQL server binaries (/usr/lib/postgresql/*/bin) not installed")
        self.bin = Path(found[-1]).parent
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("running as root without a postgres OS user")
        self.dir = Path(tempfile.mkdtemp(prefix="dayao-pg-"))
        if self.as_postgres:
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
        self.data = self.dir / "data"
        self.port = free_port()
        self._run("initdb", "-D", self.data, "--auth=trust", "-U", "postgres", "-E", "UTF8",
                  "--locale=C.UTF-8", "-N")  # fmt: skip
        self.start()

    def _run(self, tool: str, *args, check: bool = True):
        command = [str(self.bin / tool), *map(str, args)]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=120)

    def _options(self) -> str:
        # fsync on: a restart must lose nothing a commit promised, as in production.
        return f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=on"

    def start(self) -> None:
        self._run("pg_ctl", "-D", self.data, "-o", self._options(), "-l", self.dir / "log",
                  "-w", "start")  # fmt: skip

    def restart(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", self.data, "-o", self._options(), "-l", self.dir / "log",
                  "-m", mode, "-w", "restart")  # fmt: skip

    def stop(self) -> None:
        self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop", check=False)

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        done = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database,
             "-v", "ON_ERROR_STOP=1", "-tAc", sql],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return done.stdout.strip()

    def database_from(self, template: str, name: str) -> str:
        self.psql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url(name)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis:
    """A redis-server on a port of its own, which the test stops and starts; keeps nothing
    on disk, as a Redis restarted after a crash without persistence."""

    def __init__(self):
        self.binary = shutil.which("redis-server")
        if not self.binary:
            pytest.skip("redis-server not installed")
        self.port = free_port()
        self.process = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _wait_for_port(self.port)

    def stop(self) -> None:
        """Gone at once, as a crashed server: SIGKILL."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def installation_env(data_dir: Path, database_url: str, broker_url: str = "") -> dict:
    env = {
        **os.environ,
        "DAYAO_DATA_DIR": str(data_dir),
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "",
        "PYTHONPATH": str(PROJECT),
    }
    return env


class Worker:
    """``celery -A dayao_sscard worker`` of the installation, one process at work.

    ``slow_progress`` seconds are slept at every progress report of a job (a test hook of
    tests/faults/slow_worker.py) so a test can stop the work at a chosen point.
    """

    def __init__(self, env: dict, *, slow_progress: float = 0.0, beat: bool = False, log=None):
        args = ["--concurrency", "1", "--loglevel", "WARNING", "--without-mingle",
                "--without-gossip"]  # fmt: skip
        if beat:
            args += ["--beat", "--schedule", str(Path(env["DAYAO_DATA_DIR"]) / "beat-schedule")]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.faults.slow_worker", *args],
            env={**env, "SLOW_PROGRESS_SECONDS": str(slow_progress)},
            cwd=PROJECT,
            stdout=log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
            start_new_session=True,
        )

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def wait_until(predicate, *, timeout: float, interval: float = 0.05, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
