"""The expected peak (issue 12): every township clerk, village collector and bank counter at once.

``--users`` virtual users (default 100) against gunicorn + PostgreSQL for ``--duration``
seconds (default 600), each waiting 1–5 s (``--wait``) between requests, in four roles:

* clerk (乡镇社保中心, one account per township, several users share it): search a person
  of the township by full ID number, open the person found, search by name;
* collector (村采集员, one account per village): open the 核查队列, open a person's
  verification form, save it with the phone number changed and go on to the next person
  (the 保存并核查下一位 button), as at the door;
* bank (银行网点, the 金碧 branch's counter): look a holder up by ID number at the counter
  (``POST /counter/``), open the counter page, issue the card in stock (a ledger entry), then
  activate it face to face (another ledger entry); each card is taken by one user only;
* supervisor (县级督导): the county dashboard, and a township's.

Writes change the database: run it on a copy (``CREATE DATABASE … TEMPLATE dayao_perf_1m``)
— it refuses a database whose name lacks "peak". The accounts are created on first run
(password ``bench-password``). Server time as the client sees it on the same machine;
an error is any status other than the one expected (200, or 302 after a login or a save).

Usage::

    psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE dayao_peak_1m TEMPLATE dayao_perf_1m"
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dayao_peak_1m \\
        .venv/bin/python bench/peak.py --users 100 --duration 600 --json bench/results/peak.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import sys
import threading
import time
from functools import partial
from html.parser import HTMLParser
from pathlib import Path
from queue import Empty, SimpleQueue
from urllib.parse import urlencode, urlsplit

from load import PASSWORD, PERSON_LINK, Session, _server, _wait_ready, run_users
from postgres import database_name

ROOT = Path(__file__).resolve().parent.parent
VERIFY_LINK = re.compile(r'href="/roster/persons/(\d+)/verify/')
COUNTER_PERSON = re.compile(r"/counter/persons/(\d+)/")


class FormFields(HTMLParser):
    """The named fields of the form marked ``data-testid=verify-form``, as a browser sends
    them unchanged (file inputs and unchecked boxes left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._inside = False
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("data-testid") == "verify-form":
            self._inside = True
        if not self._inside:
            return
        if tag == "option" and self._select and "selected" in a:
            self.fields[self._select] = a.get("value") or ""
        if not a.get("name"):
            return
        name, kind = a["name"], a.get("type")
        if tag == "input" and kind not in ("file", "submit", "checkbox", "radio"):
            self.fields[name] = a.get("value") or ""
        elif tag == "input" and kind in ("checkbox", "radio") and "checked" in a:
            self.fields[name] = a.get("value") or "on"
        elif tag == "select":
            self._select = name
            self.fields.setdefault(name, "")
        elif tag == "textarea":
            self._textarea = name
            self.fields[name] = ""

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def verify_fields(html: str) -> dict[str, str]:
    parser = FormFields()
    parser.feed(html)
    return parser.fields


def _setup(collectors: int, banks: int) -> dict:
    """Accounts for every role, and what each role works on, read once before the run."""
    import django

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dayao_sscard.settings")
    django.setup()
    from django.db import connection

    from dayao_sscard.models import User
    from issuance.models import BankBranch
    from roster.models import Township

    def account(username: str, **fields) -> str:
        if not User.objects.filter(username=username).exists():
            user = User(username=username, display_name=f"高峰{username}", **fields)
            user.set_password(PASSWORD)
            user.save()
        return username

    townships = list(Township.objects.order_by("code"))
    clerks = [
        (account(f"peak_clerk_{t.code}", role="township_staff", township=t), t.pk)
        for t in townships
    ]
    with connection.cursor() as cursor:
        # The villages with most persons waiting for verification: where collectors work.
        cursor.execute(
            "SELECT v.id, v.township_id FROM roster_village v JOIN roster_person p "
            "ON p.village_id = v.id WHERE p.verification_status = 'pending' "
            "GROUP BY v.id ORDER BY count(*) DESC LIMIT %s",
            [collectors],
        )
        villages = cursor.fetchall()
    collector_names = [
        account(
            f"peak_collector_{village_id}",
            role="village_collector",
            township_id=township_id,
            village_id=village_id,
        )
        for village_id, township_id in villages
    ]
    branch = BankBranch.objects.get(name="金碧网点")
    bank_names = [
        account(f"peak_bank_{n}", role="bank_staff", bank_branch=branch) for n in range(banks)
    ]
    account("peak_county", role="county_supervisor")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.id_number, p.name FROM issuance_card c JOIN roster_person p ON p.id = c.person_id "
            "WHERE c.status = 'in_stock' AND c.bank_id = %s AND p.township_id IN "
            "(SELECT township_id FROM issuance_branchtownship WHERE branch_id = %s) "
            "AND p.vital_status <> 'deceased' ORDER BY random() LIMIT 20000",
            [branch.bank_id, branch.pk],
        )
        stock = cursor.fetchall()
        cursor.execute(
            "SELECT township_id, id_number, name FROM roster_person TABLESAMPLE SYSTEM (1) "
            "LIMIT 20000"
        )
        by_township: dict[int, list] = {}
        for township_id, id_number, name in cursor.fetchall():
            by_township.setdefault(township_id, []).append((id_number, name))
    connection.close()
    return {
        "clerks": [(name, by_township.get(pk, [])) for name, pk in clerks],
        "collectors": collector_names,
        "banks": bank_names,
        "township_codes": [t.code for t in townships],
        "stock": stock,
    }


def _clerk(session, rng, results, pause, samples):
    id_number, name = rng.choice(samples)
    status, body, ms = session.request("GET", f"/roster/persons/?{urlencode({'q': id_number})}")
    results.add("clerk: search by ID number", status, ms)
    found = PERSON_LINK.search(body.decode("utf-8", "replace"))
    if found:
        pause()
        status, _, ms = session.request("GET", f"/roster/persons/{found.group(1)}/")
        results.add("clerk: person page", status, ms)
    pause()
    status, _, ms = session.request("GET", f"/roster/persons/?{urlencode({'q': name})}")
    results.add("clerk: search by name", status, ms)


def _collector(session, rng, results, pause, state):
    if not state.get("next"):
        status, body, ms = session.request("GET", "/roster/queue/")
        results.add("collector: 核查队列", status, ms)
        links = VERIFY_LINK.findall(body.decode("utf-8", "replace"))
        if not links:
            return
        state["next"] = f"/roster/persons/{rng.choice(links)}/verify/"
        pause()
    path = state.pop("next")
    status, body, ms = session.request("GET", path)
    results.add("collector: verification form", status, ms)
    fields = verify_fields(body.decode("utf-8", "replace"))
    if status != 200 or "version" not in fields:
        return
    pause()
    fields["phone"] = f"13{rng.randrange(10**9):09d}"
    fields["csrfmiddlewaretoken"] = session.cookies.get("csrftoken", "")
    fields["next"] = "1"
    status, ms, location = _post(session, path, fields)
    results.add("collector: save and next (302)", status, ms, expected=302)
    if location and "/verify/" in location:
        state["next"] = location


def _bank(session, rng, results, pause, stock: SimpleQueue):
    try:
        id_number, name = stock.get_nowait()
    except Empty:
        status, _, ms = session.request("GET", "/counter/branch/today/")
        results.add("bank: today's work", status, ms)
        return
    token = {"csrfmiddlewaretoken": session.cookies.get("csrftoken", "")}
    status, ms, location = _post(session, "/counter/", {"q": id_number, **token})
    results.add("bank: counter lookup (302)", status, ms, expected=302)
    found = COUNTER_PERSON.search(location or "")
    if not found:
        return
    page = f"/counter/persons/{found.group(1)}/"
    status, _, ms = session.request("GET", page)
    results.add("bank: counter person page", status, ms)
    pause()
    issue = {"signee": name, "identity_checked": "on", **token}
    status, ms, _ = _post(session, f"{page}issue/", issue)
    results.add("bank: issue the card (302)", status, ms, expected=302)
    pause()
    activate = {"face_to_face": "on", "identity_checked": "on", **token}
    status, ms, _ = _post(session, f"{page}activate/", activate)
    results.add("bank: activate face to face (302)", status, ms, expected=302)


def _supervisor(session, rng, results, pause, codes):
    status, _, ms = session.request("GET", "/dashboard/")
    results.add("supervisor: /dashboard/", status, ms)
    pause()
    status, _, ms = session.request("GET", f"/dashboard/township/{rng.choice(codes)}/")
    results.add("supervisor: township dashboard", status, ms)


def _post(session: Session, path: str, fields: dict):
    """A form sent; its status, time and the path it redirected to (or None)."""
    status, _, ms = session.request("POST", path, fields)
    return status, ms, urlsplit(session.location).path if session.location else None


def _run_user(kind, username, port, work, args, results, stop, start_at):
    rng = random.Random()
    time.sleep(max(0.0, start_at - time.time()))
    session = Session(port)
    status, ms = session.login(username)
    results.add("login (302)", status, ms, expected=302)
    low, high = args.wait

    def pause():
        stop.wait(rng.uniform(low, high))

    state: dict = {}
    while not stop.is_set():
        if kind == "clerk":
            _clerk(session, rng, results, pause, work)
        elif kind == "collector":
            _collector(session, rng, results, pause, state)
        elif kind == "bank":
            _bank(session, rng, results, pause, work)
        else:
            _supervisor(session, rng, results, pause, work)
        pause()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--duration", type=float, default=600)
    parser.add_argument("--ramp", type=float, default=30)
    parser.add_argument("--wait", type=float, nargs=2, default=(1.0, 5.0))
    parser.add_argument("--mix", default="clerk=35,collector=35,bank=20,supervisor=10")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=8321)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    url = os.environ["DATABASE_URL"]
    if "peak" not in database_name(url):
        raise SystemExit("peak.py writes: give it a copy whose name contains 'peak'")

    mix = {k: int(v) for k, v in (part.split("=") for part in args.mix.split(","))}
    scale = args.users / sum(mix.values())
    kinds = [k for k, n in mix.items() for _ in range(round(n * scale))]
    setup = _setup(collectors=kinds.count("collector"), banks=kinds.count("bank"))
    stock: SimpleQueue = SimpleQueue()
    for holder in setup["stock"]:
        stock.put(holder)
    clerks = [c for c in setup["clerks"] if c[1]]
    logs = Path("/tmp/dayao-bench")
    logs.mkdir(exist_ok=True)
    server = _server(args.port, False, args.workers, logs / "gunicorn-peak.log")
    counts = {"clerk": 0, "collector": 0, "bank": 0, "supervisor": 0}
    users = []
    for kind in kinds:
        n = counts[kind]
        counts[kind] += 1
        if kind == "clerk":
            username, work = clerks[n % len(clerks)]
        elif kind == "collector":
            username, work = setup["collectors"][n % len(setup["collectors"])], None
        elif kind == "bank":
            username, work = setup["banks"][n % len(setup["banks"])], stock
        else:
            username, work = "peak_county", setup["township_codes"]
        users.append(partial(_run_user, kind, username, args.port, work, args))
    try:
        _wait_ready(args.port)
        results, _, load = run_users(
            users, duration=args.duration, ramp=args.ramp, stop=threading.Event()
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    rows = results.table()
    everything = sorted(ms for label, times in results.times.items() for _, ms in times)
    total_errors = sum(results.errors.values())
    print(
        f"{len(kinds)} users ({', '.join(f'{k} {kinds.count(k)}' for k in mix)}), "
        f"{args.duration:.0f} s, waits {args.wait[0]:g}–{args.wait[1]:g} s, "
        f"{args.workers} gunicorn workers × 4 threads; 1-minute load "
        f"{min(load):.1f}–{max(load):.1f}"
    )
    print(f"{'request':<40} {'n':>6} {'errors':>6} {'p50':>7} {'p95':>7} {'max':>7} ms")
    for row in rows:
        print(
            f"{row['url']:<40} {row['requests']:>6} {row['errors']:>6} {row['p50_ms']:>7.0f} "
            f"{row['p95_ms']:>7.0f} {row['max_ms']:>7.0f}"
        )
    p95 = everything[min(len(everything) - 1, round(0.95 * (len(everything) - 1)))]
    print(f"{'all requests':<40} {len(everything):>6} {total_errors:>6} {'':>7} {p95:>7.0f}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "users": len(kinds),
                    "kinds": kinds,
                    "load": load,
                    "urls": rows,
                    "all": {"requests": len(everything), "errors": total_errors, "p95_ms": p95},
                },
                ensure_ascii=False,
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
