"""What the progress counters cost and save (issue 11, docs/PERFORMANCE.md).

Against a county already in a PostgreSQL database (e.g. one built by the issue 11 bench
data script), it prints:

* recount — ``figures_rebuild()``: the whole county counted from scratch into the
  counters, as every list import and every ``match`` that changed something ends;
* report — ``manage.py report progress --format json`` as a user runs it (a new process,
  start-up included), reading the counters, side by side with the same figures counted
  live in a new process (the naive version: ``count_figures`` over every person);
* write — one person's save (a field a figure reads) with the recount the signals add,
  against the same save with the signals disconnected, each inside a transaction that
  is rolled back.

Usage::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dayao_perf_300k \\
        .venv/bin/python bench/progress_benchmark.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dayao_sscard.settings")

NAIVE = """
import json, os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dayao_sscard.settings")
django.setup()
from django.db import transaction
from roster.models import Person, Township
from roster.progress import _counting_the_county, count_figures
with transaction.atomic(), _counting_the_county():
    counts = count_figures(Person.objects.all())
rows = []
for t in Township.objects.order_by("code"):
    figures = {}
    for (township_id, _), f in counts.items():
        if township_id == t.pk:
            for k, n in f.items():
                figures[k] = figures.get(k, 0) + n
    rows.append({"code": t.code, "name": t.name, **figures})
print(json.dumps({"townships": rows}, ensure_ascii=False)[:80])
"""


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def summary(label: str, times: list[float]) -> str:
    return (
        f"{label:<44} median {statistics.median(times):7.3f} s   "
        f"min {min(times):7.3f}   max {max(times):7.3f}   (n={len(times)})"
    )


def run(command: list[str]) -> None:
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection, transaction
    from django.db.models.signals import post_save, pre_save

    from roster.models import Person, VerificationStatus
    from roster.progress import (
        figures_drift,
        figures_rebuild,
        recount_after_save,
        recount_before_save,
    )

    if connection.vendor != "postgresql":
        print("DATABASE_URL must name a PostgreSQL database")
        return 2
    persons = Person.objects.count()
    print(f"database {connection.settings_dict['NAME']}: {persons:,} persons")

    recount = [timed(figures_rebuild) for _ in range(args.runs)]
    print(summary("recount (figures_rebuild)", recount))
    assert figures_drift() == {}, "counters differ from a count from scratch"

    python = sys.executable
    report = [
        timed(lambda: run([python, "manage.py", "report", "progress", "--format", "json"]))
        for _ in range(args.runs)
    ]
    naive = [timed(lambda: run([python, "-c", NAIVE])) for _ in range(args.runs)]
    print(summary("report progress (counters, new process)", report))
    print(summary("same figures counted live (new process)", naive))
    print(f"{'':<44} counters {statistics.median(naive) / statistics.median(report):.0f}× faster")

    sample = list(Person.objects.order_by("?").values_list("pk", flat=True)[: args.runs * 20])

    def saves(with_recount: bool) -> list[float]:
        times = []
        if not with_recount:
            for signal, receiver in (
                (pre_save, recount_before_save),
                (post_save, recount_after_save),
            ):
                signal.disconnect(receiver, sender=Person, dispatch_uid="figures-roster.Person")
        try:
            for pk in sample:
                with transaction.atomic():
                    person = Person.objects.get(pk=pk)
                    person.verification_status = (
                        VerificationStatus.UNREACHABLE
                        if person.verification_status != VerificationStatus.UNREACHABLE
                        else VerificationStatus.PENDING
                    )
                    times.append(
                        timed(lambda p=person: p.save(update_fields=["verification_status"]))
                    )
                    transaction.set_rollback(True)
        finally:
            if not with_recount:
                pre_save.connect(
                    recount_before_save, sender=Person, dispatch_uid="figures-roster.Person"
                )
                post_save.connect(
                    recount_after_save, sender=Person, dispatch_uid="figures-roster.Person"
                )
        return times

    with_recount, without = saves(True), saves(False)
    print(summary("person save with its recount", with_recount))
    print(summary("person save without (signals off)", without))
    return 0


if __name__ == "__main__":
    sys.exit(main())
