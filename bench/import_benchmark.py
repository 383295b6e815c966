"""Benchmark the list imports on PostgreSQL against django-import-export and against the floor.

Measured side by side in one run, each phase in its own child process so that its
peak memory is its own (``ru_maxrss`` of the child, taken with ``os.wait4``):

* floor   — python-calamine reads the file (``iter_rows``) and its raw rows are COPYed,
            every column as text, into a plain table: the least any xlsx import can do;
* ours    — ``roster.imports.list_import`` for the unissued list, then for the card
            export (which also matches everyone against it, ``classify_all``);
* match   — ``manage.py match`` run again (idempotent: nobody changes class);
* baseline — django-import-export's default ``ModelResource`` for ``Person`` importing
            the first ``--baseline-rows`` rows of the same list; its rate is extrapolated.

The database named by DATABASE_URL (default postgres://postgres@127.0.0.1:5432/dayao_bench)
and a sibling ``<name>_baseline`` are dropped, created and migrated at every run, so the
name must contain "bench".

Usage::

    .venv/bin/python bench/import_benchmark.py --rows 1000000 --json /tmp/dayao-bench/result.json
    .venv/bin/python bench/import_benchmark.py --rows 1000000 --rounds 3   # best of three
"""

from __future__ import annotations

import argparse
import csv
import datetime
import functools
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from copy_stream import CsvRows  # bench/, the script's own folder
from day_benchmark import card_checks, card_counts
from postgres import connect, database_name, with_database

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from generate import Dataset

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/dayao_bench"
RESULT_MARK = "BENCH_RESULT "
SPEEDUP_TARGET = 50.0
FLOOR_TARGET = 2.0
PEAK_LIMIT_MB = 2048.0
PG_SETTINGS = (
    "server_version",
    "shared_buffers",
    "work_mem",
    "maintenance_work_mem",
    "effective_cache_size",
    "max_wal_size",
    "synchronous_commit",
    "fsync",
    "wal_level",
)
# Functions timed, by the module that calls them (once-per-import calls only, so the
# cost is nil).
BREAKDOWN = {
    "roster.imports": (
        "file_sha256",
        "open_tables",
        "card_export_write",
        "write_problems",
        "classify_all",
        "_open_cards",
    ),
    "roster.imports.person_lists": (
        "_known_persons",
        "reserve_ids",
        "_copy_new_persons",
        "_write_villages_and_entries",
        "_fill_blank_fields",
        "_add_categories",
    ),
}
BREAKDOWN_LABELS = {
    "file_sha256": "file_sha256 (already-imported check)",
    "open_tables": "open_tables (calamine loads the sheet, header detection)",
    "_known_persons": "_known_persons (ID numbers already in the system, their blanks)",
    "reserve_ids": "reserve_ids (keys for new persons and villages)",
    "_copy_new_persons": "_copy_new_persons (row checks in Python + COPY of persons)",
    "_write_villages_and_entries": "_write_villages_and_entries (COPY of list entries)",
    "card_export_write": "card_export_write (row checks in Python + COPY of records)",
    "_fill_blank_fields": "_fill_blank_fields (known persons)",
    "_add_categories": "_add_categories (SQL)",
    "write_problems": "write_problems (problem rows)",
    "classify_all": "classify_all (SQL: match everyone)",
    "_open_cards": "_open_cards (SQL: cards, ledger entries, audit rows)",
    "COMMIT": "COMMIT",
    "other": "rest (SourceList, audit…)",
}


@dataclass
class Phase:
    """One measured step."""

    name: str
    rows: int
    seconds: float
    peak_mb: float
    detail: dict = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


# ---- parent: orchestration ------------------------------------------------------------


def _recreate_database(url: str) -> None:
    name = database_name(url)
    if "bench" not in name:
        raise SystemExit(f"refusing to drop database {name!r}: its name must contain 'bench'")
    connection = connect(url, "postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
    connection.close()


def _settle(url: str, *, everything: bool = False) -> list[str]:
    """Untimed, between phases: do what autovacuum would have done by then, then CHECKPOINT.

    Only tables changed by more than autovacuum's analyze threshold are vacuumed and
    analysed. A blanket VACUUM ANALYZE (``everything``) also analyses the still-empty
    tables of a fresh database — which sends the person merge into a quadratic plan
    (docs/PERFORMANCE.md); ``--analyze-fresh`` does that on purpose, to reproduce it.
    """
    connection = connect(url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
            "WHERE %s OR s.n_mod_since_analyze > 50 + 0.1 * GREATEST(c.reltuples, 0) "
            "ORDER BY 1",
            [everything],
        )
        tables = [name for (name,) in cursor.fetchall()]
        for name in tables:
            cursor.execute(f'VACUUM ANALYZE "{name}"')
        cursor.execute("CHECKPOINT")
    connection.close()
    return tables


def _child_env(url: str, out: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="dayao_sscard.settings",
        DATABASE_URL=url,
        DEBUG="0",
        # Keep the benchmark's secret key and broker folders out of the project's data/.
        DAYAO_DATA_DIR=str(out / "django-data"),
        PYTHONUNBUFFERED="1",
    )
    return env


@dataclass
class Child:
    """What the parent observed of one child process."""

    wall: float
    peak_mb: float
    cpu_seconds: float  # the child's own user + system time (PostgreSQL's is not in it)
    load_before: float  # 1-minute load average: the machine is shared, so say how busy
    stdout: str


def _load() -> float:
    return os.getloadavg()[0]


def _run_child(command: list[str], env: dict[str, str]) -> Child:
    """Run one child and take its own resource usage from os.wait4."""
    load_before = _load()
    with tempfile.TemporaryFile("w+") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{text[-3000:]}")
    return Child(wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, load_before, text)


def _wal_position(url: str) -> tuple[str, int]:
    """Current WAL position and the count of checkpoints forced by WAL volume so far."""
    connection = connect(url)
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text, checkpoints_req FROM pg_stat_bgwriter")
        lsn, forced = cursor.fetchone()
    connection.close()
    return lsn, forced


def _wal_since(url: str, before: tuple[str, int]) -> dict:
    connection = connect(url)
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn), checkpoints_req "
            "FROM pg_stat_bgwriter",
            [before[0]],
        )
        written, forced = cursor.fetchone()
    connection.close()
    return {"wal_mb": round(float(written) / 2**20), "forced_checkpoints": forced - before[1]}


def _run_phase(name: str, arguments: list[str], env: dict[str, str]) -> Phase:
    print(f"… {name}", file=sys.stderr, flush=True)
    command = [sys.executable, str(Path(__file__).resolve()), "child", *arguments]
    wal_before = _wal_position(env["DATABASE_URL"])
    child = _run_child(command, env)
    lines = child.stdout.splitlines()
    line = next(line for line in reversed(lines) if line.startswith(RESULT_MARK))
    data = json.loads(line[len(RESULT_MARK) :])
    data.update(
        child_cpu_seconds=child.cpu_seconds,
        load_before=child.load_before,
        **_wal_since(env["DATABASE_URL"], wal_before),
    )
    phase = Phase(name, data.pop("rows"), data.pop("seconds"), child.peak_mb, data)
    print(
        f"  {phase.seconds:.1f} s, {phase.rate:,.0f} rows/s, {phase.peak_mb:,.0f} MB",
        file=sys.stderr,
        flush=True,
    )
    return phase


def _migrate(env: dict[str, str]) -> None:
    _run_child([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], env)


def _run_match(env: dict[str, str], persons: int) -> Phase:
    print("… manage.py match (re-run)", file=sys.stderr, flush=True)
    app_code = _app_code()
    wal_before = _wal_position(env["DATABASE_URL"])
    child = _run_child([sys.executable, "manage.py", "match"], env)
    changed = re.search(r"比对结果变化 (\d+) 人", child.stdout)
    return Phase(
        "ours: manage.py match (re-run)",
        persons,
        child.wall,
        child.peak_mb,
        {
            "changed": int(changed.group(1)) if changed else None,
            "output": child.stdout.strip(),
            "child_cpu_seconds": child.cpu_seconds,
            "load_before": child.load_before,
            "includes": "interpreter and Django start-up (wall time of the whole command)",
            "app_code": app_code,
            **_wal_since(env["DATABASE_URL"], wal_before),
        },
    )


def _database_counts(url: str) -> dict:
    connection = connect(url)
    with connection, connection.cursor() as cursor:
        counts = {}
        for key, sql in (
            ("persons", "SELECT COUNT(*) FROM roster_person"),
            ("list_entries", "SELECT COUNT(*) FROM roster_listentry"),
            ("villages", "SELECT COUNT(*) FROM roster_village"),
            ("card_records", "SELECT COUNT(*) FROM roster_cardsystemrecord"),
            (
                "invalid_rows",
                "SELECT COUNT(*) FROM roster_invalidlistrow r JOIN roster_sourcelist s "
                "ON s.id = r.source_list_id WHERE s.kind = 'unissued'",
            ),
        ):
            cursor.execute(sql)
            counts[key] = cursor.fetchone()[0]
        cursor.execute(
            "SELECT COALESCE(c.card_class, ''), COUNT(*) FROM roster_person p "
            "LEFT JOIN roster_personclass c ON c.person_id = p.id GROUP BY 1 ORDER BY 1"
        )
        counts["classes"] = dict(cursor.fetchall())
        counts.update(card_counts(cursor))
        settings = {}
        for name in PG_SETTINGS:
            cursor.execute(f"SHOW {name}")
            settings[name] = cursor.fetchone()[0]
    connection.close()
    return {"counts": counts, "postgresql": settings}


def _checks(dataset: Dataset, phases: dict[str, Phase], database: dict) -> list[str]:
    """Compare what was imported with what the generator wrote; empty when all is right."""
    expected = dataset.expected()
    counts = database["counts"]
    summary = phases["ours_unissued"].detail["summary"]
    problems = []
    pairs = (
        ("persons in roster_person", counts["persons"], expected["persons"]),
        ("list entries", counts["list_entries"], expected["persons"]),
        ("problem rows (unusable ID)", counts["invalid_rows"], expected["invalid_rows"]),
        ("duplicate rows reported", summary.get("重复行"), expected["duplicates"]),
        ("card-system records", counts["card_records"], expected["card_records"]),
        ("persons changed by the match re-run", phases["match"].detail["changed"], 0),
        *(
            (f"persons classed {name}", counts["classes"].get(name, 0), value)
            for name, value in expected["classes"].items()
        ),
    )
    for label, got, want in pairs:
        if got != want:
            problems.append(f"{label}: got {got}, expected {want}")
    return problems + card_checks(expected, counts)


def _machine() -> dict:
    cpu = ""
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as handle:
        memory_kb = int(handle.readline().split()[1])
    from importlib.metadata import version

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": {
            name: version(name)
            for name in (
                "Django",
                "python-calamine",
                "psycopg2-binary",
                "django-import-export",
                "tablib",
                "openpyxl",
            )
        },
    }


APP_FILES = (
    "roster/imports/__init__.py",
    "roster/imports/base.py",
    "roster/imports/person_lists.py",
    "roster/imports/card_export.py",
    "roster/imports/tables.py",
    "roster/imports/matching.py",
    "roster/places.py",
    "roster/id_numbers.py",
    "roster/models.py",
    "dayao_sscard/bulk.py",
)
# Migrations decide the indexes and constraints every imported row pays for.
APP_FOLDERS = ("roster/migrations",)


def _app_code() -> dict[str, dict[str, str]]:
    """Fingerprints of the measured app code: it changes while the benchmark is used."""
    result = {}
    groups = [(name, [ROOT / name]) for name in APP_FILES]
    groups += [(name, sorted((ROOT / name).glob("*.py"))) for name in APP_FOLDERS]
    for name, paths in groups:
        # A single file hashes as `sha256sum` does; a folder also hashes its file names.
        digest = hashlib.sha256()
        for path in paths:
            if name in APP_FOLDERS:
                digest.update(path.name.encode() + b"\0")
            digest.update(path.read_bytes())
        newest = max(path.stat().st_mtime for path in paths)
        result[name] = {
            "sha256": digest.hexdigest()[:16],
            "modified": datetime.datetime.fromtimestamp(newest, datetime.UTC).isoformat(
                timespec="seconds"
            ),
        }
    return result


def _code_drift(phases: dict[str, Phase]) -> str:
    """Which measured phases ran a different version of the app code than the first."""
    first = phases["ours_unissued"].detail["app_code"]
    differing = []
    for key in ("ours_card", "match"):
        code = phases[key].detail["app_code"]
        files = [name for name in first if code[name] != first[name]]
        if files:
            differing.append(f"{phases[key].name} ({', '.join(files)})")
    if not differing:
        return ""
    return "the app code changed between phases; ran other versions: " + "; ".join(differing)


def _ratios(phases: dict[str, Phase]) -> dict:
    ours_u, ours_c = phases["ours_unissued"], phases["ours_card"]
    floor_u, floor_c = phases["floor_unissued"], phases["floor_card"]
    baseline = phases["baseline"]
    return {
        "speedup_vs_import_export": ours_u.rate / baseline.rate,
        "baseline_extrapolated_seconds": ours_u.rows / baseline.rate,
        "floor_ratio_unissued": ours_u.seconds / floor_u.seconds,
        "floor_ratio_card_export": ours_c.seconds / floor_c.seconds,
        "floor_ratio_both": (ours_u.seconds + ours_c.seconds) / (floor_u.seconds + floor_c.seconds),
        "peak_mb_max_ours": max(ours_u.peak_mb, ours_c.peak_mb),
    }


def _report(phases: dict[str, Phase], ratios: dict, checks: list[str], database: dict) -> str:
    lines = [
        f"{'phase':<50} {'rows':>10} {'seconds':>9} {'rows/s':>10} {'peak MB':>8} "
        f"{'load':>5} {'WAL MB':>7} {'ckpt':>4}",
        "-" * 110,
    ]
    for phase in phases.values():
        detail = phase.detail
        lines.append(
            f"{phase.name:<50} {phase.rows:>10,} {phase.seconds:>9.1f} "
            f"{phase.rate:>10,.0f} {phase.peak_mb:>8,.0f} {detail['load_before']:>5.1f} "
            f"{detail['wal_mb']:>7,} {detail['forced_checkpoints']:>4}"
        )
    baseline = phases["baseline"]
    lines.append(
        f"{'  import-export extrapolated to the full list':<50} {phases['ours_unissued'].rows:>10,} "
        f"{ratios['baseline_extrapolated_seconds']:>9.0f} {baseline.rate:>10,.0f}"
    )
    lines += ["", "seconds of every round (the table shows each phase's best):"]
    for phase in phases.values():
        if len(phase.detail.get("rounds_seconds", ())) > 1:
            rounds = " / ".join(f"{seconds:.1f}" for seconds in phase.detail["rounds_seconds"])
            lines.append(f"  {phase.name:<48} {rounds}")
    verdict = {True: "ok", False: "MISSED"}
    speedup = ratios["speedup_vs_import_export"]
    lines += [
        "",
        f"ours vs django-import-export (unissued list): {speedup:,.1f}× faster "
        f"(target ≥ {SPEEDUP_TARGET:.0f}×: {verdict[speedup >= SPEEDUP_TARGET]})",
    ]
    for key, label in (
        ("floor_ratio_unissued", "unissued list"),
        ("floor_ratio_card_export", "card export (incl. match)"),
        ("floor_ratio_both", "both files"),
    ):
        value = ratios[key]
        lines.append(
            f"ours vs floor, {label}: {value:.2f}× the floor's time "
            f"(target ≤ {FLOOR_TARGET:.1f}×: {verdict[value <= FLOOR_TARGET]})"
        )
    peak = ratios["peak_mb_max_ours"]
    lines.append(
        f"peak memory of our imports: {peak:,.0f} MB "
        f"(target < {PEAK_LIMIT_MB:,.0f} MB: {verdict[peak < PEAK_LIMIT_MB]})"
    )
    for key in ("ours_unissued", "ours_card"):
        phase = phases[key]
        lines += ["", f"where the time goes, {phase.name} ({phase.seconds:.1f} s):"]
        for name, seconds in phase.detail["breakdown"].items():
            if seconds >= 0.05:
                lines.append(f"  {BREAKDOWN_LABELS.get(name, name):<58} {seconds:>7.1f} s")
    floor_detail = phases["floor_unissued"].detail
    lines += [
        "",
        f"floor, unissued list: calamine load {floor_detail['load_seconds']:.1f} s, "
        f"iter_rows + COPY {floor_detail['copy_seconds']:.1f} s",
    ]
    counts = database["counts"]
    lines += ["", "imported: " + ", ".join(f"{k} {v}" for k, v in counts.items())]
    lines.append("checks against the generator's truth: " + ("all ok" if not checks else ""))
    lines += [f"  CHECK FAILED: {problem}" for problem in checks]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from generate import ensure_dataset

    url = args.database_url
    baseline_url = with_database(url, database_name(url) + "_baseline")
    dataset = ensure_dataset(
        args.rows, args.out, args.seed, log=lambda m: print(m, file=sys.stderr)
    )
    env = _child_env(url, args.out)
    baseline_env = _child_env(baseline_url, args.out)
    for target, target_env in ((url, env), (baseline_url, baseline_env)):
        _recreate_database(target)
        _migrate(target_env)
    sample = args.out / f"baseline-sample-{args.rows}-{args.baseline_rows}.csv"

    phases: dict[str, Phase] = {}
    steps: list[tuple[str, str, list[str], dict[str, str]]] = [
        ("floor_unissued", "floor: calamine + COPY, unissued list", ["floor", str(dataset.unissued), "floor_unissued"], env),
        ("ours_unissued", "ours: list_import unissued", ["ours", "unissued", str(dataset.unissued)], env),
        ("floor_card", "floor: calamine + COPY, card export", ["floor", str(dataset.card_export), "floor_card"], env),
        ("ours_card", "ours: list_import card_export (+ match)", ["ours", "card_export", str(dataset.card_export)], env),
    ]  # fmt: skip
    measured: dict[str, list[Phase]] = {}
    for round_number in range(args.rounds):
        if round_number:
            _recreate_database(url)
            _migrate(env)
        for index, (key, name, arguments, step_env) in enumerate(steps):
            analysed = _settle(url, everything=args.analyze_fresh and index == 0)
            phase = _run_phase(name, arguments, step_env)
            phase.detail["analysed_before"] = analysed
            measured.setdefault(key, []).append(phase)
    # Each phase's best round: on a shared 2-core machine the same work varies by up to 1.6×
    # between runs, and interference only ever adds time.
    for key, runs in measured.items():
        phases[key] = min(runs, key=lambda phase: phase.seconds)
        phases[key].detail["rounds_seconds"] = [round(phase.seconds, 2) for phase in runs]
    _settle(url)
    phases["match"] = _run_match(env, phases["ours_unissued"].detail["summary"].get("新增人员", 0))
    _run_child(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "child",
            "baseline-sample",
            str(dataset.unissued),
            str(args.baseline_rows),
            str(sample),
        ],
        baseline_env,
    )
    _settle(baseline_url)
    phases["baseline"] = _run_phase(
        f"baseline: import-export ModelResource ({args.baseline_rows:,} rows)",
        ["baseline", str(sample)],
        baseline_env,
    )

    database = _database_counts(url)
    ratios = _ratios(phases)
    checks = _checks(dataset, phases, database)
    code_warning = _code_drift(phases)
    report = _report(phases, ratios, checks, database)
    print(report + (f"\nWARNING: {code_warning}" if code_warning else ""))
    if args.json:
        figures = {
            "rows": args.rows,
            "baseline_rows": args.baseline_rows,
            "files": {
                "unissued": str(dataset.unissued),
                "card_export": str(dataset.card_export),
                "unissued_mb": round(dataset.unissued.stat().st_size / 2**20, 1),
                "card_export_mb": round(dataset.card_export.stat().st_size / 2**20, 1),
            },
            "machine": _machine(),
            "app_code": phases["ours_unissued"].detail["app_code"],
            "app_code_warning": code_warning,
            "phases": {k: {**asdict(p), "rows_per_s": p.rate} for k, p in phases.items()},
            "ratios": ratios,
            "database": database,
            "expected": dataset.expected(),
            "checks_failed": checks,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=2, default=str))
    return 0


# ---- children: one measured phase each -------------------------------------------------


def _emit(data: dict) -> None:
    print(RESULT_MARK + json.dumps(data, ensure_ascii=False, default=str), flush=True)


def _django() -> None:
    import django

    django.setup()


def _instrument(module, names: Iterable[str], spent: dict[str, float]) -> None:
    """Wrap module-level functions so the seconds spent in each are summed into ``spent``.

    Names the module no longer has are skipped: the app code changes independently.
    """

    def timed(name: str, original: Callable) -> Callable:
        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - started

        return wrapper

    for name in names:
        if callable(getattr(module, name, None)):
            spent[name] = 0.0
            setattr(module, name, timed(name, getattr(module, name)))


def _time_commits(spent: dict[str, float]) -> None:
    """Time COMMIT apart: Django's foreign keys are deferred, so their checks run there."""
    from django.db import connection

    original = connection._commit
    spent["COMMIT"] = 0.0

    def commit():
        started = time.perf_counter()
        try:
            return original()
        finally:
            spent["COMMIT"] += time.perf_counter() - started

    connection._commit = commit


def _child_ours(kind: str, path: Path) -> None:
    _django()
    import importlib

    from roster import imports

    # Read right after the import of the modules, so it names the code that runs.
    app_code = _app_code()
    spent: dict[str, float] = {}
    for module, names in BREAKDOWN.items():
        _instrument(importlib.import_module(module), names, spent)
    _time_commits(spent)
    started = time.perf_counter()
    result = imports.list_import(
        kind=kind, path=path, original_name=path.name, source="基准测试（省第一批）"
    )
    seconds = time.perf_counter() - started
    spent["other"] = seconds - sum(spent.values())
    _emit(
        {
            "rows": result.rows_read,
            "seconds": seconds,
            "summary": result.summary(),
            "breakdown": spent,
            "app_code": app_code,
        }
    )


def _child_floor(path: Path, table: str) -> None:
    from python_calamine import CalamineWorkbook

    connection = connect(os.environ["DATABASE_URL"])
    started = time.perf_counter()
    workbook = CalamineWorkbook.from_path(str(path))
    (sheet_name,) = workbook.sheet_names
    sheet = workbook.get_sheet_by_name(sheet_name)
    loaded = time.perf_counter()
    columns = ", ".join(f"c{i} text" for i in range(1, sheet.width + 1))
    with connection, connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {table} ({columns})")
        stream = CsvRows(iter(sheet.iter_rows()))
        cursor.copy_expert(f"COPY {table} FROM STDIN WITH (FORMAT csv)", stream, size=1 << 20)
    finished = time.perf_counter()
    connection.close()
    _emit(
        {
            "rows": stream.count,
            "seconds": finished - started,
            "load_seconds": loaded - started,
            "copy_seconds": finished - loaded,
        }
    )


BASELINE_FIELDS = ("id_number", "name", "gender", "ethnicity", "phone", "address", "township")


def _child_baseline_sample(path: Path, wanted: int, out: Path) -> None:
    """Untimed preparation: the list's first rows, as rows import-export can take.

    The ID number is normalised and the township resolved to its official name here, so
    the baseline does less work than our import does — the comparison favours it.
    """
    _django()
    from python_calamine import CalamineWorkbook

    from roster.id_numbers import try_normalize_id_number
    from roster.imports.tables import cell_text
    from roster.models import Township
    from roster.places import township_resolve_id

    names = dict(Township.objects.values_list("pk", "name"))
    workbook = CalamineWorkbook.from_path(str(path))
    rows = workbook.get_sheet_by_name(workbook.sheet_names[0]).iter_rows()
    header = next(r for r in rows if "公民身份号码" in r)
    at = {title: header.index(title) for title in header if title}
    written = 0
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(BASELINE_FIELDS)
        for cells in rows:
            id_number, _ = try_normalize_id_number(cells[at["公民身份号码"]])
            township_id = township_resolve_id(cell_text(cells[at["乡镇"]])) or (
                township_resolve_id(cell_text(cells[at["户籍地址"]]).split("大姚县", 1)[-1])
            )
            if id_number is None or township_id is None:
                continue
            writer.writerow(
                (
                    id_number,
                    cell_text(cells[at["姓名"]]),
                    {"男": "male", "女": "female"}.get(cells[at["性别"]], ""),
                    cell_text(cells[at["民族"]]),
                    cell_text(cells[at["联系电话"]]),
                    cell_text(cells[at["户籍地址"]]),
                    names[township_id],
                )
            )
            written += 1
            if written >= wanted:
                break
    _emit({"rows": written, "seconds": 0.0})


def _child_baseline(sample: Path) -> None:
    _django()
    import tablib
    from import_export import resources

    from roster.models import Person

    class PersonResource(resources.ModelResource):
        """As default as import-export allows while the rows stay importable."""

        class Meta:
            model = Person
            import_id_fields = ("id_number",)
            fields = BASELINE_FIELDS
            widgets = {"township": {"field": "name"}}

    dataset = tablib.Dataset().load(sample.read_text(encoding="utf-8"), format="csv")
    resource = PersonResource()
    started = time.perf_counter()
    result = resource.import_data(dataset, dry_run=False, use_transactions=True)
    seconds = time.perf_counter() - started
    if result.has_errors() or result.has_validation_errors():
        raise SystemExit(f"import-export reported errors: {result.base_errors or result.rows[:3]}")
    _emit({"rows": len(dataset), "seconds": seconds, "totals": dict(result.totals)})


def _child(argv: list[str]) -> int:
    kind, *rest = argv
    if kind == "ours":
        _child_ours(rest[0], Path(rest[1]))
    elif kind == "floor":
        _child_floor(Path(rest[0]), rest[1])
    elif kind == "baseline-sample":
        _child_baseline_sample(Path(rest[0]), int(rest[1]), Path(rest[2]))
    elif kind == "baseline":
        _child_baseline(Path(rest[0]))
    else:
        raise SystemExit(f"unknown child phase {kind!r}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["child"]:
        return _child(argv[1:])
    # Imported here so the measured children do not carry openpyxl in their memory.
    from generate import DEFAULT_OUT, DEFAULT_SEED

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="data rows in each file")
    parser.add_argument(
        "--baseline-rows", type=int, default=5000, help="rows django-import-export imports"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="import both files this many times, each into a fresh database; the best round counts",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="generated-file cache")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--analyze-fresh",
        action="store_true",
        help="VACUUM ANALYZE the fresh, empty database first (reproduces the quadratic "
        "person merge; use with --rows 50000 or less)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        help="dropped and recreated; its name must contain 'bench'",
    )
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
