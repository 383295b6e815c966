"""Many users at once against gunicorn + PostgreSQL (issue 11): p50/p95/max per URL.

Starts two gunicorn servers on the same database (DATABASE_URL, a county built by
``bench/county.py``): the application as it is, and the same application with the
figures counted live (``bench/gunicorn_naive.py`` replaces the counters' reader by
``count_figures`` over every person: the naive version). Then ``--users`` virtual users,
each in its own thread with its own session, log in (the login is measured too) and run
their sequence over and over, waiting 1–5 s (``--wait``) between requests, for
``--duration`` seconds:

* id:     search a person by the full ID number, open the person found;
* suffix: search by the last six digits of an ID number;
* name:   search by a full name;
* board:  the county dashboard (``--board``), half of these users against each server
          (all against the application with ``--no-naive``).

The naive server runs at the lowest CPU priority (nice 19, its gunicorn and its PostgreSQL
backends): a naive dashboard counts the county for a minute and more, and at equal
priority a few of them take both cores, so that the application's figures would be the
naive side's queue. For the run the kernel's grouping of processes by session is turned
off (``kernel.sched_autogroup_enabled``, restored after; it needs root), else a niceness
holds only against processes of the same session. ``--naive-equal`` runs both at the same
priority.

Server time is taken as the client sees it on the same machine (no network between):
from sending the request to the last byte of the answer. Errors are any status other
than 200 (or the login's 302). Each user's start is spread over the first ``--ramp``
seconds. The servers run with the production guide's settings (docs/DEPLOYMENT.md,
deploy/env/dayao.env.example): gunicorn 4 workers × 4 threads, database connections
kept open (``DB_CONN_MAX_AGE=60``) and Redis as the cache (``CELERY_BROKER_URL``), unless
the environment sets them.

Usage::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dayao_perf_1m \\
        .venv/bin/python bench/load.py --users 50 --duration 180 --board /dashboard/ \\
        --json bench/results/load-1m.json
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from contextlib import contextmanager, nullcontext
from functools import partial
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote, urlencode

from postgres import connect

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password"
PERSON_LINK = re.compile(r'href="/roster/persons/(\d+)/"')


class Session:
    """One user's cookies over one keep-alive connection."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.location: str | None = None  # where the last answer redirected to
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(self, method: str, path: str, body: dict | None = None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                self.connection.request(method, path, body=data, headers=headers)
                response = self.connection.getresponse()
                content = response.read()
                break
            except (OSError, http.client.HTTPException):
                # gunicorn closes a connection idle for 2 s (keep-alive), as a browser
                # finds too: a new connection and the request again, timed afresh. A
                # second failure is an error.
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                if attempt == 2:
                    return 0, b"", (time.perf_counter() - started) * 1000
        ms = (time.perf_counter() - started) * 1000
        self.location = response.getheader("Location")
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, content, ms

    def login(self, username: str):
        self.request("GET", "/accounts/login/")
        status, _, ms = self.request(
            "POST",
            "/accounts/login/",
            {
                "username": username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": self.cookies.get("csrftoken", ""),
            },
        )
        return status, ms


class Results:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[tuple[float, float]]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.all_in: float | None = None  # when the last user had logged in

    def add(self, label: str, status: int, ms: float, expected: int = 200) -> None:
        with self.lock:
            self.times[label].append((time.time(), ms))
            if status != expected:
                self.errors[label] += 1

    def table(self) -> list[dict]:
        rows = []
        for label in sorted(self.times):
            times = sorted(ms for _, ms in self.times[label])
            steady = sorted(ms for at, ms in self.times[label] if at > (self.all_in or 0))
            rows.append(
                {
                    "url": label,
                    "requests": len(times),
                    "errors": self.errors[label],
                    "p50_ms": statistics.median(times),
                    "p95_ms": _p95(times),
                    "max_ms": times[-1],
                    "steady_requests": len(steady),
                    "steady_p50_ms": statistics.median(steady) if steady else None,
                    "steady_p95_ms": _p95(steady) if steady else None,
                }
            )
        return rows


def _p95(times: list[float]) -> float:
    return times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def _samples(url: str, count: int) -> list[tuple[str, str]]:
    """Random persons' (ID number, name) from the database."""
    connection = connect(url)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id_number, name FROM roster_person TABLESAMPLE SYSTEM (1) LIMIT %s", [count]
        )
        rows = cursor.fetchall()
    connection.close()
    return rows


def _user(kind: str, port: int, label_suffix: str, args, samples, results, stop, start_at):
    rng = random.Random()
    time.sleep(max(0.0, start_at - time.time()))
    session = Session(port)
    status, ms = session.login("county")
    results.add(f"login{label_suffix}", status, ms, expected=302)
    low, high = args.wait
    while not stop.is_set():
        id_number, name = rng.choice(samples)
        if kind == "id":
            status, body, ms = session.request(
                "GET", f"/roster/persons/?{urlencode({'q': id_number})}"
            )
            results.add("/roster/persons/?q=<ID number>", status, ms)
            found = PERSON_LINK.search(body.decode("utf-8", "replace"))
            if found:
                stop.wait(rng.uniform(low, high))
                status, _, ms = session.request("GET", f"/roster/persons/{found.group(1)}/")
                results.add("/roster/persons/<pk>/", status, ms)
        elif kind == "suffix":
            status, _, ms = session.request("GET", f"/roster/persons/?q={id_number[-6:]}")
            results.add("/roster/persons/?q=<last 6 digits>", status, ms)
        elif kind == "name":
            status, _, ms = session.request("GET", f"/roster/persons/?q={quote(name)}")
            results.add("/roster/persons/?q=<name>", status, ms)
        else:
            status, _, ms = session.request("GET", args.board)
            results.add(f"{args.board}{label_suffix}", status, ms)
        stop.wait(rng.uniform(low, high))


def _server(
    port: int, naive: bool, workers: int, log: Path, *, low: bool = False, threads: int = 4
) -> subprocess.Popen:
    command = [
        str(ROOT / ".venv/bin/gunicorn"),
        "dayao_sscard.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--timeout",
        "300",
    ]
    if naive:
        command += ["--config", str(ROOT / "bench/gunicorn_naive.py")]
    # As docs/DEPLOYMENT.md runs it (deploy/env/dayao.env.example): connections kept open
    # between requests, Redis as the cache; the environment may say otherwise.
    env = {
        "DB_CONN_MAX_AGE": "60",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        **os.environ,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DEBUG": "",
        "NAIVE_LOW_PRIORITY": "1" if low else "",
    }
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )


def _lower_naive_backends(url: str, stop: threading.Event) -> None:
    """Every half second, the naive server's PostgreSQL backends and their parallel workers
    at the lowest CPU priority (nice 19): the naive side then takes the CPU the application
    leaves, and the application's figures in the same run are not the naive side's queue."""
    connection = connect(url)
    connection.autocommit = True
    lowered: set[int] = set()
    while not stop.wait(0.5):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s "
                "OR leader_pid IN (SELECT pid FROM pg_stat_activity WHERE application_name = %s)",
                ["dayao-naive", "dayao-naive"],
            )
            for (pid,) in cursor.fetchall():
                if pid not in lowered:
                    try:
                        os.setpriority(os.PRIO_PROCESS, pid, 19)
                        lowered.add(pid)
                    except (PermissionError, ProcessLookupError):
                        pass
    connection.close()


AUTOGROUP = Path("/proc/sys/kernel/sched_autogroup_enabled")


@contextmanager
def _niceness_across_sessions():
    """Linux shares the CPU between sessions first (autogroups): gunicorn, started here, and
    PostgreSQL's backends, started by its server, are in different ones, and a nice value
    only counts within its own. Turned off for the run (and back on after) so that nice 19
    means lowest against every process; left as it is, with a warning, if not allowed."""
    before = AUTOGROUP.read_text().strip() if AUTOGROUP.exists() else "0"
    if before == "0":
        yield
        return
    try:
        AUTOGROUP.write_text("0")
    except OSError:
        print("warning: cannot turn off kernel.sched_autogroup_enabled; nice 19 may not hold")
        yield
        return
    try:
        yield
    finally:
        AUTOGROUP.write_text(before)


def _wait_ready(port: int) -> None:
    for _ in range(120):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"gunicorn on port {port} did not answer")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=180)
    parser.add_argument("--ramp", type=float, default=20)
    parser.add_argument("--wait", type=float, nargs=2, default=(1.0, 5.0))
    parser.add_argument("--board", default="/", help="the county dashboard's URL")
    parser.add_argument("--mix", default="id=15,suffix=5,name=15,board=15")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers per server")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument(
        "--no-naive", action="store_true", help="every board user on the counters' server"
    )
    parser.add_argument(
        "--naive-equal",
        action="store_true",
        help="the naive server at the same CPU priority as the application (default: nice 19)",
    )
    parser.add_argument("--port", type=int, default=8311)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    url = os.environ["DATABASE_URL"]

    mix = {k: int(v) for k, v in (part.split("=") for part in args.mix.split(","))}
    scale = args.users / sum(mix.values())
    kinds = [k for k, n in mix.items() for _ in range(round(n * scale))]
    samples = _samples(url, 5000)
    logs = Path("/tmp/dayao-bench")
    logs.mkdir(exist_ok=True)
    low = not args.naive_equal and not args.no_naive
    servers = [
        _server(
            args.port, False, args.workers, logs / "gunicorn-counters.log", threads=args.threads
        ),
        _server(
            args.port + 1,
            True,
            args.workers,
            logs / "gunicorn-naive.log",
            low=low,
            threads=args.threads,
        ),
    ]
    stop = threading.Event()
    try:
        for port in (args.port, args.port + 1):
            _wait_ready(port)
        if low:
            threading.Thread(target=_lower_naive_backends, args=(url, stop), daemon=True).start()
        with _niceness_across_sessions() if low else nullcontext():
            results, started, load = _run(args, kinds, samples, stop)
    finally:
        stop.set()
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            server.wait(timeout=60)
    _report(args, mix, kinds, results, started, load, low)
    return 0


def _run(args, kinds, samples, stop: threading.Event):
    """The users' threads for ``--duration`` seconds: their results, start and 1-minute load."""
    users = []
    boards = 0
    for kind in kinds:
        naive = kind == "board" and boards % 2 == 1 and not args.no_naive
        boards += kind == "board"
        suffix = " (naive)" if naive else ""
        users.append(partial(_user, kind, args.port + naive, suffix, args, samples))
    return run_users(users, duration=args.duration, ramp=args.ramp, stop=stop)


def run_users(users: list, *, duration: float, ramp: float, stop: threading.Event):
    """Each of ``users`` — called with the results, ``stop`` and its start time, the starts
    spread over ``ramp`` seconds — in its own thread for ``duration`` seconds. The results
    (``all_in``: when the last one had logged in), the start, the 1-minute load every 5 s."""
    results = Results()
    started = time.time()
    threads = [
        threading.Thread(
            target=user, args=(results, stop, started + ramp * number / len(users)), daemon=True
        )
        for number, user in enumerate(users)
    ]
    for thread in threads:
        thread.start()
    load = []
    while time.time() - started < duration:
        time.sleep(5)
        load.append(os.getloadavg()[0])
        logins = sum(len(v) for k, v in results.times.items() if k.startswith("login"))
        if results.all_in is None and logins == len(users):
            results.all_in = time.time()
    stop.set()
    for thread in threads:
        thread.join(timeout=150)
    return results, started, load


def _report(args, mix, kinds, results, started, load, low: bool) -> None:
    rows = results.table()
    print(
        f"{len(kinds)} users ({', '.join(f'{k} {kinds.count(k)}' for k in mix)}), "
        f"{args.duration:.0f} s, waits {args.wait[0]:g}–{args.wait[1]:g} s, "
        f"{args.workers} workers × {args.threads} threads per server; 1-minute load "
        f"{min(load):.1f}–{max(load):.1f}" + ("; the naive server at nice 19" if low else "")
    )
    steady = f"{args.duration - (results.all_in or started) + started:.0f} s"
    print(
        f"{'URL':<40} {'requests':>8} {'errors':>6} {'p50':>7} {'p95':>7} {'max':>7} ms"
        f" | after the last login ({steady}): {'requests':>8} {'p50':>7} {'p95':>7} ms"
    )
    for row in rows:
        print(
            f"{row['url']:<40} {row['requests']:>8} {row['errors']:>6} {row['p50_ms']:>7.0f} "
            f"{row['p95_ms']:>7.0f} {row['max_ms']:>7.0f}    | {'':>27}{row['steady_requests']:>8} "
            f"{row['steady_p50_ms'] or 0:>7.0f} {row['steady_p95_ms'] or 0:>7.0f}"
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "users": len(kinds),
                    "kinds": kinds,
                    "load": load,
                    "naive_nice_19": low,
                    "urls": rows,
                },
                ensure_ascii=False,
                indent=1,
            )
        )


if __name__ == "__main__":
    sys.exit(main())
