"""A real day's imports, command by command, against the floor of the same four files.

The day, at a county of about ``--persons`` persons (default 300,000), each step its own
``manage.py`` process on PostgreSQL, start-up included, into a fresh database:

1. ``import_list unissued`` of an xlsx list (the 省第一批 layout: title rows, merged
   village cells, loosely written townships, damaged ID numbers, footers), half of the
   persons;
2. ``import_list unissued`` of a GB18030 CSV list (the 州第二批 layout, with 人员类别),
   the other half, some of them already on the first list;
3. ``import_list card_export`` of the card-system export (one row per card record);
4. ``import_list subsidy`` of a GBK CSV subsidy list of ``--subsidy-rows`` rows, most
   of them persons already known;
5. ``match``, which must change nothing.

The floor reads the same four files and COPYs their raw rows, every cell as text, into
tables without indexes: python-calamine (``get_sheet_by_name`` + ``iter_rows``) for the
xlsx files, the decoded text through ``csv.reader`` for the CSV files. Each floor step is
its own Python process too, so both sides are wall-clock times of whole processes.

Rounds alternate which side goes first; every round creates fresh databases (copies of
a migrated template for ours, empty ones for the floor) and runs a CHECKPOINT before
each step. Each step's best round counts for either side, and the best whole round is
shown beside it; the 1-minute load average before each step is kept, as the machine is
shared. Our database is checked against the generator's truth after every round.

Usage::

    .venv/bin/python bench/day_benchmark.py --rounds 4 --json bench/results/day-300000-run1.json
    .venv/bin/python bench/day_benchmark.py --persons 20000 --rounds 1   # quick check

The databases named by DATABASE_URL (default postgres://postgres@127.0.0.1:5432/dayao_daybench),
``<name>_template`` and ``<name>_floor`` are dropped and created, so the name must
contain "bench". Generated files are cached under ``--out``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from copy_stream import CsvRows  # bench/, the script's own folder
from postgres import connect, database_name, with_database

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/dayao_daybench"
DEFAULT_OUT = Path("/tmp/dayao-bench")
DEFAULT_SEED = 20221103
# Bump when the generated content changes, so cached files are not reused by mistake.
DAY_GENERATOR_VERSION = 2
FLOOR_TARGET = 2.0
CSV_HEADER_LIST = (
    "序号",
    "所属乡镇",
    "村委会",
    "姓名",
    "性别",
    "身份证号码",
    "人员类别",
    "联系方式",
)
CSV_HEADER_SUBSIDY = ("补贴项目", "乡镇", "村", "姓名", "身份证号", "补贴金额")
SUBSIDY_PROJECT = "耕地地力保护补贴"
STEP_KEYS = ("list_xlsx", "list_csv", "card_export", "subsidy", "match")
STEP_LABELS = {
    "list_xlsx": "unissued list, xlsx",
    "list_csv": "unissued list, GB18030 CSV",
    "card_export": "card-system export, xlsx",
    "subsidy": "subsidy list, GBK CSV",
    "match": "match (changes nothing)",
}


# ---- the day's files -------------------------------------------------------------------


@dataclass
class DayFiles:
    folder: Path
    persons: int
    subsidy_rows: int
    seed: int

    @property
    def list_xlsx(self) -> Path:
        return self.folder / "list-province.xlsx"

    @property
    def list_csv(self) -> Path:
        return self.folder / "list-prefecture.csv"

    @property
    def card_export(self) -> Path:
        return self.folder / "card-export.xlsx"

    @property
    def subsidy(self) -> Path:
        return self.folder / "subsidy.csv"

    @property
    def manifest(self) -> Path:
        return self.folder / "manifest.json"

    def paths(self) -> dict[str, Path]:
        return {
            "list_xlsx": self.list_xlsx,
            "list_csv": self.list_csv,
            "card_export": self.card_export,
            "subsidy": self.subsidy,
        }

    def expected(self) -> dict:
        return json.loads(self.manifest.read_text())["expected"]


def _manifest_key(files: DayFiles) -> dict:
    return {
        "version": DAY_GENERATOR_VERSION,
        "seed": files.seed,
        "persons": files.persons,
        "subsidy_rows": files.subsidy_rows,
        "bytes": {k: p.stat().st_size for k, p in files.paths().items()},
    }


def _day_files(persons: int, subsidy_rows: int, out: Path, seed: int) -> DayFiles:
    return DayFiles(out / f"day-{persons}-{subsidy_rows}-{seed}", persons, subsidy_rows, seed)


def ensure_day_files(persons: int, subsidy_rows: int, out: Path, seed: int) -> DayFiles:
    """Write the day's four files unless a previous run left them with the same parameters."""
    files = _day_files(persons, subsidy_rows, out, seed)
    files.folder.mkdir(parents=True, exist_ok=True)
    if files.manifest.exists() and all(p.exists() for p in files.paths().values()):
        manifest = json.loads(files.manifest.read_text())
        if {k: manifest.get(k) for k in _manifest_key(files)} == _manifest_key(files):
            _log(f"reusing the day's files in {files.folder}")
            return files
    started = time.perf_counter()
    if str(ROOT / "bench") not in sys.path:
        sys.path.insert(0, str(ROOT / "bench"))
    sys.path.insert(0, str(ROOT))
    import generate as g

    rng = random.Random(seed)
    ids = g._Ids(rng)
    everyone = g._persons(rng, ids, persons)
    on_first = [rng.random() < 0.5 for _ in everyone]
    first = [p for p, flag in zip(everyone, on_first, strict=True) if flag]
    second = [p for p, flag in zip(everyone, on_first, strict=True) if not flag]
    # About one in twenty of the second list's persons were on the first list already.
    second += rng.sample(first, k=len(second) // 20)
    second.sort(key=lambda p: (p.township, p.village == "", p.village))

    table, merges, truth = g._unissued_rows(rng, first, len(first) + len(first) // 100)
    g._write_unissued(files.list_xlsx, table, merges)
    readable = {first[i].id_number for i in truth.imported}
    del table, merges
    _log(f"wrote {files.list_xlsx} ({time.perf_counter() - started:.0f} s)")

    readable |= _write_list_csv(rng, files.list_csv, second)
    _log(f"wrote {files.list_csv} ({time.perf_counter() - started:.0f} s)")

    records = g._card_records(rng, ids, everyone, persons)
    g._write_card_export(files.card_export, records)
    _log(f"wrote {files.card_export} ({time.perf_counter() - started:.0f} s)")

    recipients = _write_subsidy_csv(rng, ids, files.subsidy, everyone, subsidy_rows)
    readable |= recipients
    _log(f"wrote {files.subsidy} ({time.perf_counter() - started:.0f} s)")

    manifest = _manifest_key(files)
    manifest["expected"] = _expected(readable, recipients, records)
    files.manifest.write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
    return files


def _csv_id(rng: random.Random, id_number: str, g) -> tuple[str, bool]:
    written, readable = g._written_id(rng, id_number)
    if isinstance(written, float):
        written = f"{written:.14E}"  # as Excel saves a mangled number to CSV
    return written, readable


def _write_list_csv(rng: random.Random, path: Path, persons: list) -> set[str]:
    """The 州第二批 layout, GB18030; returns the ID numbers an import can read."""
    import generate as g

    readable: set[str] = set()
    categories = (("低保", 3), ("特困", 1), ("残疾", 1), ("", 95))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER_LIST)
    for number, person in enumerate(persons, start=1):
        written_id, ok = _csv_id(rng, person.id_number, g)
        if ok:
            readable.add(person.id_number)
        writer.writerow(
            (
                number,
                g._written_township(rng, person.township) or g.TOWNSHIPS[person.township][1],
                g._written_village(rng, person.village),
                person.name,
                "男" if int(person.id_number[16]) % 2 else "女",
                written_id,
                g._weighted(rng, categories),
                person.phone,
            )
        )
    path.write_bytes(buffer.getvalue().encode("gb18030"))
    return readable


def _write_subsidy_csv(rng: random.Random, ids, path: Path, persons: list, rows: int) -> set[str]:
    """A subsidy project's recipients, GBK: most already known, some on no list yet."""
    import generate as g

    recipients: set[str] = set()
    known = rng.sample(persons, k=int(rows * 0.85))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER_SUBSIDY)
    for index in range(rows):
        if index < len(known):
            person = known[index]
            township, village, name, id_number = (
                person.township,
                person.village,
                person.name,
                person.id_number,
            )
        else:
            township = rng.randrange(len(g.TOWNSHIPS))
            id_number = ids.new()
            name = g._name(rng, int(id_number[16]) % 2 == 1)
            village = ""
        written_id, ok = _csv_id(rng, id_number, g)
        if ok:
            recipients.add(id_number)
        writer.writerow(
            (
                SUBSIDY_PROJECT,
                g._written_township(rng, township) or g.TOWNSHIPS[township][1],
                g._written_village(rng, village),
                name,
                written_id,
                f"{rng.randint(50, 900)}.00",
            )
        )
    path.write_bytes(buffer.getvalue().encode("gbk"))
    return recipients


def _expected(readable: set[str], recipients: set[str], records: list[tuple]) -> dict:
    import generate as g

    best: dict[str, int] = {}
    for _, id_number, _, _, _, status, _, card_status, _ in records:
        if card_status != "注销":
            best[id_number] = max(best.get(id_number, 0), g.RANKS[status])
    classes = dict.fromkeys(g.CLASSES.values(), 0)
    for id_number in readable:
        classes[g.CLASSES[best.get(id_number, 0)]] += 1
    return {
        "persons": len(readable),
        "subsidy_recipients": len(recipients),
        "card_records": len(records),
        "classes": classes,
        **g.expected_cards(readable, records),
    }


# ---- databases -------------------------------------------------------------------------


def _admin(url: str, *statements: str) -> None:
    connection = connect(url, "postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    connection.close()


def _fresh_database(url: str, template: str = "template0") -> None:
    name = database_name(url)
    if "bench" not in name:
        raise SystemExit(f"refusing to drop database {name!r}: its name must contain 'bench'")
    _admin(
        url,
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        f'CREATE DATABASE "{name}" TEMPLATE "{template}" ENCODING \'UTF8\'',
    )


def _checkpoint(url: str) -> None:
    connection = connect(url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
    connection.close()


def _counts(url: str) -> dict:
    connection = connect(url)
    with connection, connection.cursor() as cursor:
        counts = {}
        for key, sql in (
            ("persons", "SELECT COUNT(*) FROM roster_person"),
            ("card_records", "SELECT COUNT(*) FROM roster_cardsystemrecord"),
            (
                "subsidy_recipients",
                "SELECT COUNT(*) FROM roster_personcategory WHERE category = 'subsidy_recipient'",
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
    connection.close()
    return counts


def card_counts(cursor) -> dict:
    """The cards our ledger opened from the export: how many, a digest of their
    (ID number, card number) pairs as the generator writes it, and how many of them are
    not in stock with exactly one ledger entry and one audit row."""
    cursor.execute(
        "SELECT p.id_number || ':' || c.card_number FROM issuance_card c "
        "JOIN roster_person p ON p.id = c.person_id ORDER BY 1"
    )
    pairs = [pair for (pair,) in cursor.fetchall()]
    cursor.execute(
        "SELECT COUNT(*) FROM issuance_card c WHERE c.status <> 'in_stock' "
        "OR c.custody_kind <> 'bank' OR (SELECT COUNT(*) FROM issuance_ledgerentry e "
        "WHERE e.card_id = c.id AND e.sequence = 1 AND e.event = 'produced') <> 1 "
        "OR (SELECT COUNT(*) FROM dayao_sscard_auditevent a WHERE a.object_type = "
        "'issuance.card' AND a.object_id = CAST(c.id AS text) "
        "AND a.action = 'issuance.card.opened_from_export') <> 1"
    )
    (odd,) = cursor.fetchone()
    return {
        "cards": len(pairs),
        "cards_digest": hashlib.sha256("\n".join(pairs).encode()).hexdigest(),
        "cards_not_opened_as_told": odd,
    }


def card_checks(expected: dict, counts: dict) -> list[str]:
    problems = []
    if counts["cards"] != expected["cards"]:
        problems.append(f"cards opened: got {counts['cards']}, expected {expected['cards']}")
    elif counts["cards_digest"] != expected["cards_digest"]:
        problems.append("cards opened: the right number, but not the expected card numbers")
    if counts["cards_not_opened_as_told"]:
        problems.append(
            f"{counts['cards_not_opened_as_told']} cards not in stock at their bank with one "
            "opening entry and one audit row"
        )
    return problems


def _checks(expected: dict, counts: dict, match_output: str) -> list[str]:
    problems = card_checks(expected, counts)
    for key in ("persons", "card_records", "subsidy_recipients"):
        if counts[key] != expected[key]:
            problems.append(f"{key}: got {counts[key]}, expected {expected[key]}")
    for name, value in expected["classes"].items():
        if counts["classes"].get(name, 0) != value:
            problems.append(
                f"persons classed {name}: got {counts['classes'].get(name, 0)}, expected {value}"
            )
    changed = re.search(r"比对结果变化 (\d+) 人", match_output)
    if not changed or changed.group(1) != "0":
        problems.append(f"match changed something: {match_output.strip()[:200]}")
    return problems


# ---- running the steps -----------------------------------------------------------------


@dataclass
class Step:
    key: str
    side: str
    round: int
    seconds: float  # wall time of the whole process
    peak_mb: float
    cpu_seconds: float
    load_before: float
    detail: dict = field(default_factory=dict)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _run(command: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """Wall seconds, peak MB, CPU seconds and output of one process."""
    with tempfile.TemporaryFile("w+") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        out.seek(0)
        text = out.read()
    code = os.waitstatus_to_exitcode(status)
    if code:
        raise SystemExit(f"{' '.join(command)} failed ({code}):\n{text[-3000:]}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, text


def _ours_commands(files: DayFiles) -> dict[str, list[str]]:
    manage = [sys.executable, "manage.py"]
    return {
        "list_xlsx": [*manage, "import_list", "unissued", str(files.list_xlsx), "--source", "省第一批"],
        "list_csv": [*manage, "import_list", "unissued", str(files.list_csv), "--source", "州第二批"],
        "card_export": [*manage, "import_list", "card_export", str(files.card_export)],
        "subsidy": [*manage, "import_list", "subsidy", str(files.subsidy), "--source", SUBSIDY_PROJECT],
        "match": [*manage, "match"],
    }  # fmt: skip


def _floor_commands(files: DayFiles) -> dict[str, list[str]]:
    child = [sys.executable, str(Path(__file__).resolve()), "floor"]
    return {key: [*child, str(path), f"floor_{key}"] for key, path in files.paths().items()}


def _env(url: str, out: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="dayao_sscard.settings",
        DATABASE_URL=url,
        DEBUG="0",
        DAYAO_DATA_DIR=str(out / "django-data"),
    )
    return env


def _run_side(
    side: str, number: int, commands: dict[str, list[str]], url: str, env: dict[str, str]
) -> list[Step]:
    steps = []
    for key, command in commands.items():
        _checkpoint(url)
        load = os.getloadavg()[0]
        wall, peak, cpu, text = _run(command, env)
        step = Step(key, side, number, wall, peak, cpu, load)
        if side == "ours":
            step.detail["output"] = "\n".join(
                line for line in text.splitlines() if not line.startswith("  问题行")
            )
        steps.append(step)
        _log(f"  {side:<5} {key:<12} {wall:6.2f} s  {peak:6.0f} MB  load {load:.1f}")
    return steps


def run(args: argparse.Namespace) -> int:
    # Generated in a child: a child process's peak memory would start from this one's.
    generate = [
        "generate",
        str(args.persons),
        str(args.subsidy_rows),
        str(args.out),
        str(args.seed),
    ]
    subprocess.run([sys.executable, str(Path(__file__).resolve()), *generate], check=True)
    files = _day_files(args.persons, args.subsidy_rows, args.out, args.seed)
    expected = files.expected()
    url = args.database_url
    template = database_name(url) + "_template"
    floor_url = with_database(url, database_name(url) + "_floor")
    env = _env(url, args.out)
    floor_env = _env(floor_url, args.out)
    template_url = with_database(url, template)
    _fresh_database(template_url)
    _run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        _env(template_url, args.out),
    )
    ours, floor = _ours_commands(files), _floor_commands(files)
    steps: list[Step] = []
    checks: list[str] = []
    for number in range(1, args.rounds + 1):
        sides = ("ours", "floor") if number % 2 else ("floor", "ours")
        _log(f"round {number} ({' then '.join(sides)})")
        for side in sides:
            if side == "ours":
                _fresh_database(url, template)
                taken = _run_side("ours", number, ours, url, env)
                problems = _checks(expected, _counts(url), taken[-1].detail["output"])
                checks += [f"round {number}: {p}" for p in problems]
            else:
                _fresh_database(floor_url)
                taken = _run_side("floor", number, floor, floor_url, floor_env)
            steps += taken
    summary = _summary(steps)
    report = _report(files, summary, checks)
    print(report)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "command": " ".join(["bench/day_benchmark.py", *sys.argv[1:]]),
                    "persons": args.persons,
                    "subsidy_rows": args.subsidy_rows,
                    "files": {
                        k: {"path": str(p), "mb": round(p.stat().st_size / 2**20, 1)}
                        for k, p in files.paths().items()
                    },
                    "expected": expected,
                    "machine": _machine(),
                    "summary": summary,
                    "steps": [asdict(s) for s in steps],
                    "checks_failed": checks,
                },
                ensure_ascii=False,
                indent=1,
            )
        )
    return 1 if checks else 0


def _summary(steps: list[Step]) -> dict:
    """Best round per step and side, their sums, the best whole rounds, and the ratios."""
    best: dict[str, dict[str, float]] = {"ours": {}, "floor": {}}
    rounds: dict[str, dict[int, float]] = {"ours": {}, "floor": {}}
    for step in steps:
        side = best[step.side]
        side[step.key] = min(side.get(step.key, float("inf")), step.seconds)
        rounds[step.side][step.round] = rounds[step.side].get(step.round, 0.0) + step.seconds
    ours_total = sum(best["ours"].values())
    floor_total = sum(best["floor"].values())
    best_round = {side: min(totals.values()) for side, totals in rounds.items()}
    return {
        "best_step_seconds": best,
        "round_totals": {side: {str(k): v for k, v in t.items()} for side, t in rounds.items()},
        "sum_of_best_steps": {"ours": ours_total, "floor": floor_total},
        "ratio_sum_of_best_steps": ours_total / floor_total,
        "best_round": best_round,
        "ratio_best_rounds": best_round["ours"] / best_round["floor"],
        "round_ratios": {
            str(n): rounds["ours"][n] / rounds["floor"][n]
            for n in sorted(rounds["ours"])
            if n in rounds["floor"]
        },
    }


def _report(files: DayFiles, summary: dict, checks: list[str]) -> str:
    best = summary["best_step_seconds"]
    sizes = {k: p.stat().st_size / 2**20 for k, p in files.paths().items()}
    lines = [
        "",
        f"a day's imports at {files.persons:,} persons (subsidy list {files.subsidy_rows:,} rows); "
        "wall seconds of whole processes, best round per step",
        f"  {'step':<30} {'MB':>6} {'ours':>7} {'floor':>7} {'ratio':>6}",
    ]
    for key in STEP_KEYS:
        ours = best["ours"].get(key, 0.0)
        floor = best["floor"].get(key)
        size = f"{sizes[key]:6.1f}" if key in sizes else " " * 6
        ratio = f"{ours / floor:6.2f}" if floor else " " * 6
        floor_text = f"{floor:7.2f}" if floor else "      —"
        lines.append(f"  {STEP_LABELS[key]:<30} {size} {ours:7.2f} {floor_text} {ratio}")
    totals = summary["sum_of_best_steps"]
    verdict = {True: "ok", False: "MISSED"}
    ratio = summary["ratio_sum_of_best_steps"]
    lines += [
        f"  {'whole day (sum of best steps)':<30} {'':6} {totals['ours']:7.2f} {totals['floor']:7.2f} {ratio:6.2f}",
        "",
        f"best whole round: ours {summary['best_round']['ours']:.2f} s, floor "
        f"{summary['best_round']['floor']:.2f} s, {summary['ratio_best_rounds']:.2f}×",
        "round by round (ours / floor): "
        + ", ".join(
            f"{summary['round_totals']['ours'][n]:.1f} / {summary['round_totals']['floor'][n]:.1f}"
            f" = {r:.2f}×"
            for n, r in summary["round_ratios"].items()
        ),
        f"whole day within {FLOOR_TARGET:.1f}× the floor: {verdict[ratio <= FLOOR_TARGET]}",
        "checks against the generator's truth: " + ("all ok" if not checks else "FAILED"),
        *(f"  {problem}" for problem in checks),
    ]  # fmt: skip
    return "\n".join(lines)


def _machine() -> dict:
    from importlib.metadata import version

    with open("/proc/cpuinfo") as handle:
        cpu = next(
            (line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), ""
        )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "os": platform.platform(),
        "packages": {n: version(n) for n in ("Django", "python-calamine", "psycopg2-binary")},
    }


# ---- the floor's child process ---------------------------------------------------------


def _floor(path: Path, table: str) -> None:
    """Read the file as the least any import must, and COPY its raw rows as text."""
    if path.suffix == ".csv":
        text = path.read_bytes().decode("gb18030")
        rows = csv.reader(io.StringIO(text, newline=None))
        width = len(next(csv.reader(io.StringIO(text[: text.index("\n")]))))
    else:
        from python_calamine import CalamineWorkbook

        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_name(workbook.sheet_names[0])
        rows, width = iter(sheet.iter_rows()), sheet.width
    connection = connect(os.environ["DATABASE_URL"])
    columns = ", ".join(f"c{i} text" for i in range(1, width + 1))
    with connection, connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {table} ({columns})")
        stream = CsvRows(rows)
        cursor.copy_expert(f"COPY {table} FROM STDIN WITH (FORMAT csv)", stream, size=1 << 20)
    connection.close()
    print(f"{stream.count} rows")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["floor"]:
        _floor(Path(argv[1]), argv[2])
        return 0
    if argv[:1] == ["generate"]:
        ensure_day_files(int(argv[1]), int(argv[2]), Path(argv[3]), int(argv[4]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=300_000, help="persons of the county")
    parser.add_argument("--subsidy-rows", type=int, default=90_000, help="rows of the subsidy list")
    parser.add_argument(
        "--rounds", type=int, default=4, help="rounds, alternating which side goes first"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="generated-file cache")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DAY_DATABASE_URL") or DEFAULT_DATABASE_URL,
        help="dropped and recreated with _template and _floor siblings; must contain 'bench'",
    )
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
