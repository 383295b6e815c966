"""The card opening of a card-system export, alone: timed, then rolled back.

``issuance.opening.cards_open_from_export`` on a database that holds a whole county and
its export but no card yet (a copy of one ``import_benchmark.py`` left, with the cards,
their entries and their audit rows removed). Each run is rolled back, so the same
database serves any number of runs, and the code of two worktrees can be compared on two
copies of it, alternating. Prints the opening's seconds and the WAL written during it
(server-wide: other sessions' writes count too); ``--statements`` adds the slowest
statements.

Preparing the database once, from the one ``import_benchmark.py`` left (``dayao_bench``)::

    CREATE DATABASE dayao_bench_opening TEMPLATE dayao_bench;
    -- in dayao_bench_opening:
    TRUNCATE issuance_card, issuance_ledgerentry, activation_activation,
        issuance_cancellationrequest;
    -- a bench copy's own audit rows: the audit log refuses DELETE (dayao_sscard 0015)
    ALTER TABLE dayao_sscard_auditevent DISABLE TRIGGER dayao_sscard_auditevent_no_delete;
    DELETE FROM dayao_sscard_auditevent WHERE action LIKE 'issuance.card%';
    ALTER TABLE dayao_sscard_auditevent ENABLE TRIGGER dayao_sscard_auditevent_no_delete;
    VACUUM ANALYZE;

then ``manage.py migrate`` from the worktree whose code is measured, and (from it)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dayao_bench_opening \\
        .venv/bin/python bench/opening_timing.py --runs 2 --statements
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SLOWEST = 16


class _RolledBack(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--statements", action="store_true", help="print the slowest statements")
    args = parser.parse_args()
    if "bench" not in os.environ.get("DATABASE_URL", ""):
        raise SystemExit("DATABASE_URL must name a database with 'bench' in its name")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dayao_sscard.settings")
    import django

    django.setup()
    from django.db import connection, transaction

    from issuance.opening import cards_open_from_export
    from roster.models import ListKind, SourceList

    export = SourceList.objects.filter(kind=ListKind.CARD_EXPORT).latest("pk")
    for _ in range(args.runs):
        log: list[tuple[float, str]] = []

        def timed(execute, sql, params, many, context, log=log):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                log.append((time.perf_counter() - started, " ".join(sql.split())[:120]))

        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
            cursor.execute("SELECT pg_current_wal_insert_lsn()")
            (start_lsn,) = cursor.fetchone()
        started = time.perf_counter()
        try:
            with transaction.atomic(), connection.execute_wrapper(timed):
                counts = cards_open_from_export(snapshot=export, acting_user=None)
                seconds = time.perf_counter() - started
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_current_wal_insert_lsn() - %s::pg_lsn", [start_lsn])
                    (wal,) = cursor.fetchone()
                raise _RolledBack
        except _RolledBack:
            pass
        print(
            f"opened {counts.opened:,} cards in {seconds:.2f} s, WAL {float(wal) / 1e6:,.0f} MB, "
            f"1-minute load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        if args.statements:
            for took, sql in sorted(log, reverse=True)[:SLOWEST]:
                print(f"  {took:6.2f}  {sql}")


if __name__ == "__main__":
    main()
