"""One user's requests inside the web process: wall time, database time and queries each.

For finding where a page's time goes, not for the issue's figures (``bench/load.py`` and
``bench/pages.py`` take those through gunicorn): requests go through Django's test client
in this process, one at a time, and each query's time is taken by an execute wrapper. The
first 20 requests warm up and are not counted.

Kinds: ``id`` (a full ID number), ``suffix`` (its last six digits), ``name`` (the name of a
random person: size-biased, as a clerk meets names), ``common`` (a name 60–400 persons
bear: a full first page), ``board`` (the dashboard).

Usage::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dayao_perf_1m \\
        .venv/bin/python bench/inprocess.py --user county --kind name --requests 300
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dayao_sscard.settings")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
os.environ.setdefault("DB_CONN_MAX_AGE", "60")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")

WARM_UP = 20
COMMON_NAMES = (
    "SELECT id_number, name FROM roster_person WHERE name IN (SELECT name FROM roster_person"
    " GROUP BY name HAVING count(*) BETWEEN 60 AND 400 LIMIT 200)"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--user", default="county")
    parser.add_argument(
        "--kind", default="name", choices=["id", "suffix", "name", "common", "board"]
    )
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from dayao_sscard.models import User

    with connection.cursor() as cursor:
        if args.kind == "common":
            cursor.execute(COMMON_NAMES)
        else:
            cursor.execute(
                "SELECT id_number, name FROM roster_person TABLESAMPLE SYSTEM (1) LIMIT 2000"
            )
        samples = cursor.fetchall()
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username=args.user))
    spent = {"db": 0.0, "queries": 0}

    def timed(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent["db"] += time.perf_counter() - start
            spent["queries"] += 1

    rng = random.Random(1)
    walls, dbs, queries = [], [], []
    for n in range(args.requests + WARM_UP):
        id_number, name = rng.choice(samples)
        url = {
            "id": f"/roster/persons/?q={id_number}",
            "suffix": f"/roster/persons/?q={id_number[-6:]}",
            "name": f"/roster/persons/?q={quote(name)}",
            "common": f"/roster/persons/?q={quote(name)}",
            "board": "/dashboard/",
        }[args.kind]
        spent.update(db=0.0, queries=0)
        with connection.execute_wrapper(timed):
            start = time.perf_counter()
            response = client.get(url)
            wall = time.perf_counter() - start
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")
        if n >= WARM_UP:
            walls.append(wall * 1000)
            dbs.append(spent["db"] * 1000)
            queries.append(spent["queries"])

    def p95(values):
        return statistics.quantiles(values, n=100)[94]

    print(
        f"{args.kind} as {args.user}, {args.requests} requests: wall median "
        f"{statistics.median(walls):.1f} ms, p95 {p95(walls):.1f}; database median "
        f"{statistics.median(dbs):.1f}, p95 {p95(dbs):.1f}; the rest (web process) median "
        f"{statistics.median(w - d for w, d in zip(walls, dbs, strict=True)):.1f}; queries "
        f"{statistics.median(queries):g}"
    )


if __name__ == "__main__":
    main()
