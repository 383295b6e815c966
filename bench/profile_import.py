"""Where an import spends its time: SQL statement by statement, or Python function by function.

``sql``: imports the generated unissued list, then the card export, into a fresh
database (``<DATABASE_URL name>_profile``), printing the slowest statements of each
import with their plans (auto_explain, actual row counts) and the COMMIT time.

``python``: reads a file and runs the importer's row stream and CSV encoding exactly as
``bulk_insert`` would, without writing to the database; ``--cprofile`` adds a profile.

Usage::

    .venv/bin/python bench/profile_import.py sql --rows 1000000
    .venv/bin/python bench/profile_import.py python --rows 1000000 --kind unissued --cprofile
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import io
import itertools
import os
import pstats
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from generate import DEFAULT_OUT, DEFAULT_SEED, ensure_dataset  # noqa: E402
from import_benchmark import (  # noqa: E402
    DEFAULT_DATABASE_URL,
    _child_env,
    _recreate_database,
    _settle,
)
from postgres import database_name, with_database  # noqa: E402

SLOW_STATEMENTS = 8


def _django(url: str, out: Path) -> None:
    os.environ.update(_child_env(url, out))
    import django

    django.setup()


def _statement_timer(log: list[tuple[float, str]]) -> Callable:
    def wrapper(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            log.append((time.perf_counter() - started, " ".join(sql.split())[:150]))

    return wrapper


def _explain_slow_statements(threshold_ms: int) -> None:
    """Send auto_explain's plans of slow statements to this client as LOG notices."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("LOAD 'auto_explain'")
        cursor.execute(f"SET auto_explain.log_min_duration = {int(threshold_ms)}")
        cursor.execute("SET auto_explain.log_analyze = on")
        # Row counts without per-node timing: timing every node would distort the totals.
        cursor.execute("SET auto_explain.log_timing = off")
        cursor.execute("SET auto_explain.log_nested_statements = on")
        cursor.execute("SET client_min_messages = log")


def profile_sql(args: argparse.Namespace) -> None:
    url = with_database(args.database_url, database_name(args.database_url) + "_profile")
    dataset = ensure_dataset(args.rows, args.out, args.seed)
    _recreate_database(url)
    env = _child_env(url, args.out)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        env=env,
        cwd=ROOT,
        check=True,
    )
    _django(url, args.out)
    from django.db import connection

    from roster import imports

    committed: dict[str, float] = {}
    original_audit = imports.audit_record

    def audit_then_mark(**kwargs):
        # The importer's last statement before COMMIT: time from here is the COMMIT.
        event = original_audit(**kwargs)
        committed["before"] = time.perf_counter()
        return event

    imports.audit_record = audit_then_mark
    for kind, path in (("unissued", dataset.unissued), ("card_export", dataset.card_export)):
        connection.close()
        _settle(url)
        _explain_slow_statements(args.explain_ms)
        log: list[tuple[float, str]] = []
        with connection.execute_wrapper(_statement_timer(log)):
            started = time.perf_counter()
            imports.list_import(kind=kind, path=path, original_name=path.name, source="profile")
            finished = time.perf_counter()
        print(
            f"=== {kind}: {finished - started:.1f} s, of which COMMIT "
            f"{finished - committed['before']:.1f} s (1-minute load {os.getloadavg()[0]:.1f})"
        )
        for seconds, sql in sorted(log, reverse=True)[:SLOW_STATEMENTS]:
            print(f"{seconds:8.2f} s  {sql}")
        for notice in connection.connection.notices:
            if "duration:" in notice:
                print(notice.rstrip())
        del connection.connection.notices[:]


def _no_progress(*args, **kwargs) -> None:
    """The importer reports progress to a job page; nobody is watching here."""


def profile_python(args: argparse.Namespace) -> None:
    dataset = ensure_dataset(args.rows, args.out, args.seed)
    _django(args.database_url, args.out)
    from dayao_sscard.bulk import _CsvStream
    from roster.imports import base, card_export, person_lists
    from roster.imports.tables import open_tables
    from roster.models import SourceList
    from roster.places import township_index_load

    path = dataset.unissued if args.kind == "unissued" else dataset.card_export
    started = time.perf_counter()
    tables = open_tables(path, original_name=path.name, required=base.REQUIRED_COLUMNS[args.kind])
    print(f"open_tables: {time.perf_counter() - started:.1f} s")
    township_index_load()
    result = base.ImportResult(kind=args.kind, file_name=path.name)
    if args.kind == "unissued":
        # The database parts stubbed out: no known persons, keys counted from 1.
        villages = person_lists._Villages.__new__(person_lists._Villages)
        villages.ids, villages.new, villages._spare = {}, [], itertools.count(1)
        write = person_lists._PersonListWrite(
            source_list=SourceList(pk=1, kind=args.kind),
            result=result,
            known={},
            blanks={},
            villages=villages,
            person_ids=itertools.count(1),
            constants=person_lists._new_person_defaults(datetime.datetime.now(datetime.UTC)),
        )
        rows = person_lists._new_person_rows(tables, write, _no_progress, 1)
    else:
        rows = card_export._record_rows(tables, result, _no_progress, 1)
    width = len(
        person_lists.LISTED_PERSON_COLUMNS
        if args.kind == "unissued"
        else card_export.RECORD_COLUMNS
    )
    stream = io.BufferedReader(_CsvStream(rows, width), buffer_size=1 << 20)
    profile = cProfile.Profile() if args.cprofile else None
    started = time.perf_counter()
    if profile:
        profile.enable()
    while stream.read(1 << 16):
        pass
    if profile:
        profile.disable()
    print(
        f"row stream + CSV encoding: {time.perf_counter() - started:.1f} s for "
        f"{result.rows_read:,} rows{' (under cProfile)' if profile else ''}"
    )
    if profile:
        pstats.Stats(profile).sort_stats("tottime").print_stats(20)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("sql", "python"))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--kind", choices=("unissued", "card_export"), default="unissued")
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--explain-ms", type=int, default=3000, help="plans of slower statements")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    )
    args = parser.parse_args(argv)
    (profile_sql if args.what == "sql" else profile_python)(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
