"""Server time of every page a clerk or supervisor opens, one request at a time (issue 11).

Against a county built by ``bench/county.py`` (DATABASE_URL), in-process through Django's
test client (the whole middleware stack, templates rendered, no network): each user of
``county.USERS`` opens every GET page without parameters that answers them with 200, the
searches and the pages of one person and one card. Each page is opened ``--repeat``
times after one warm-up; the median, p95 and max are printed, with the number of SQL
queries and the slowest of them (``--sql``).

Usage::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dayao_perf_300k \\
        .venv/bin/python bench/pages.py --repeat 10 --json bench/results/pages-300k-before.json
    … --only /roster/queue/ --sql      # one page, its slowest statements
    … --verify --users jinbi,collector  # also 核查 save-and-next (writes: a copy only)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dayao_sscard.settings")

TARGET_MS = 300
# Pages that are downloads or act on something, not pages a user reads.
SKIP_NAMES = {
    "logout",
    "healthz",
    "favicon",
    "person-export",
    "recovery-export",
    "risk-export",
    "reconciliation-export",
    "job-list",
}


def _plain_urls() -> list[str]:
    """Every URL without arguments outside the admin and the API."""
    from django.urls import get_resolver

    urls = []

    def walk(patterns, prefix):
        for pattern in patterns:
            route = str(pattern.pattern)
            if hasattr(pattern, "url_patterns"):
                if route.startswith(("admin/", "api/")):
                    continue
                walk(pattern.url_patterns, prefix + route)
            elif "<" not in route and pattern.name not in SKIP_NAMES:
                urls.append("/" + prefix + route)

    walk(get_resolver().url_patterns, "")
    return sorted(set(urls))


def _samples(user) -> dict[str, str]:
    """A person, their ID number and name, a card: the first of the user's own."""
    from issuance.models import Card
    from roster.models import Person

    person = Person.objects.for_user(user).filter(cards__isnull=False).order_by("id")[5000:5001]
    person = person.first() or Person.objects.for_user(user).order_by("id").first()
    card = Card.objects.filter(person=person).first()
    return {
        "id_number": person.id_number,
        "name": person.name,
        "person": str(person.pk),
        "card": str(card.pk) if card else "",
    }


def _extra_urls(sample: dict[str, str]) -> list[str]:
    urls = [
        f"/roster/persons/?q={sample['id_number']}",
        f"/roster/persons/?q={sample['id_number'][-6:]}",
        f"/roster/persons/?q={sample['name']}",
        f"/roster/persons/?q={sample['name'][1:]}",
        f"/roster/persons/{sample['person']}/",
        f"/counter/persons/{sample['person']}/",
    ]
    if sample["card"]:
        urls.append(f"/issuance/issue/cards/{sample['card']}/")
    return urls


def _measure(client, url: str, repeat: int, method: str = "get", data=None) -> dict:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    call = getattr(client, method)
    response = call(url, data) if data else call(url)
    if response.status_code != (302 if method == "post" else 200):
        return {"status": response.status_code}
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call(url, data) if data else call(url)
        times.append((time.perf_counter() - started) * 1000)
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        call(url, data) if data else call(url)
    queries = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))
    times.sort()
    return {
        "status": 200,
        "median_ms": statistics.median(times),
        "p95_ms": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
        "max_ms": times[-1],
        "queries": len(queries),
        "slowest_sql": [(float(q["time"]) * 1000, q["sql"][:600]) for q in queries[:3]],
    }


def _measure_verify(client, user, repeat: int) -> dict:
    """POST /roster/persons/<pk>/verify/ with 保存并下一位, as a collector saves a person
    who still lacks a photo (so stays in the queue): the save and the search for the next
    person in walking order. Each save is of the person the previous one led to. It
    writes: run it on a copy of a benchmark database, never on the shared ones."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from roster.models import Person
    from roster.selectors import WorkQueue

    first = WorkQueue(user=user).persons()[0:1]
    if not first:
        return {"status": 404}
    pk = first[0].pk
    times, queries = [], []
    for _ in range(repeat + 1):
        person = Person.objects.get(pk=pk)
        data = {
            "name": person.name,
            "gender": person.gender or "male",
            "nationality": "中国",
            "occupation": "农民",
            "address": person.address or "大姚县",
            "phone": "13887654321",
            "id_type": "resident_id",
            "id_valid_from": "2020-03-01",
            "id_valid_until": "2040-03-01",
            "version": person.version,
            "unreachable_reason": "",
            "unreachable_note": "",
            "next": "1",
        }
        url = f"/roster/persons/{pk}/verify/"
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.post(url, data)
            elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 302 or "/verify/" not in response["Location"]:
            return {"status": response.status_code}
        times.append(elapsed)
        queries.append(captured.captured_queries)
        pk = int(response["Location"].rstrip("/").split("/")[-2])
    times = times[1:]  # the first warms up
    slowest = sorted(queries[-1], key=lambda q: -float(q["time"]))
    ordered = sorted(times)
    return {
        "status": 200,
        "median_ms": statistics.median(ordered),
        "p95_ms": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
        "max_ms": ordered[-1],
        "queries": len(queries[-1]),
        "slowest_sql": [(float(q["time"]) * 1000, q["sql"][:600]) for q in slowest[:3]],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--users", default="county,jinbi,collector,bank")
    parser.add_argument("--only", default="", help="only URLs starting with these (commas)")
    parser.add_argument("--skip", default="", help="leave out URLs equal to these (commas)")
    parser.add_argument("--sql", action="store_true", help="print the slowest statements")
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--verify", action="store_true", help="also time 核查 save-and-next (writes!)"
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from dayao_sscard.models import User

    setup_test_environment()
    # The refusals of pages a role may not open are expected: not worth a line each.
    logging.getLogger("django.request").setLevel(logging.ERROR)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM roster_person")
        persons = cursor.fetchone()[0]
    print(f"{persons:,} persons in {connection.settings_dict['NAME']}")
    results = []
    for username in args.users.split(","):
        user = User.objects.get(username=username)
        client = Client()
        client.force_login(user)
        sample = _samples(user)
        pages = [(url, "get", None) for url in _plain_urls() + _extra_urls(sample)]
        pages.append(("/counter/", "post", {"q": sample["id_number"]}))
        for url, method, data in pages:
            if args.only and not url.startswith(tuple(args.only.split(","))):
                continue
            if url in args.skip.split(","):
                continue
            result = _measure(client, url, args.repeat, method, data)
            if result["status"] != 200:
                continue
            label = url if method == "get" else f"POST {url}"
            mark = "" if result["p95_ms"] <= TARGET_MS else "  > 300 ms"
            print(
                f"{username:<10} {label[:58]:<58} {result['median_ms']:7.0f} "
                f"{result['p95_ms']:7.0f} {result['max_ms']:7.0f} ms  {result['queries']:3d} q{mark}",
                flush=True,
            )
            if args.sql:
                for ms, sql in result["slowest_sql"]:
                    print(f"      {ms:7.1f} ms  {sql}")
            results.append({"user": username, "url": label, **result})
        if args.verify:
            label = "POST /roster/persons/<pk>/verify/ 保存并下一位"
            result = _measure_verify(client, user, args.repeat)
            if result["status"] == 200:
                print(
                    f"{username:<10} {label:<58} {result['median_ms']:7.0f} "
                    f"{result['p95_ms']:7.0f} {result['max_ms']:7.0f} ms  {result['queries']:3d} q",
                    flush=True,
                )
                if args.sql:
                    for ms, sql in result["slowest_sql"]:
                        print(f"      {ms:7.1f} ms  {sql}")
                results.append({"user": username, "url": label, **result})
    if args.json:
        args.json.write_text(
            json.dumps({"persons": persons, "pages": results}, ensure_ascii=False, indent=1)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
