"""Generate a realistic unissued list and card-system export as xlsx, for the import benchmark.

The files imitate fixtures/samples/province_batch1.xlsx and card_export.xlsx at
scale: title rows above the header, townships written loosely, merged village cells,
ID numbers as text with the usual damage (wrong check character, Excel's float
mangling, a leading apostrophe, full-width digits), duplicated persons, and a card
export in which most listed persons have one to three records in various states.

Usage::

    .venv/bin/python bench/generate.py --rows 1000000 --out /tmp/dayao-bench

Output is deterministic for a given ``--rows`` and ``--seed``; files already present
with the same row count and seed are reused.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import importlib
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from openpyxl import Workbook  # noqa: E402
from openpyxl.worksheet.cell_range import CellRange, MultiCellRange  # noqa: E402

from roster.id_numbers import compute_check_char  # noqa: E402

# The township reference data lives in a migration; reuse it rather than copy it.
TOWNSHIPS: list[tuple[str, str, str, list[str]]] = importlib.import_module(
    "roster.migrations.0002_county_and_townships"
).TOWNSHIPS

DEFAULT_OUT = Path("/tmp/dayao-bench")
DEFAULT_SEED = 20220520
# Bump when the generated content changes, so cached files are not reused by mistake.
GENERATOR_VERSION = 2

UNISSUED_TITLE = "第一批省下发大姚县未制卡人员名单"
UNISSUED_HEADER = (
    "序号",
    "姓名",
    "性别",
    "民族",
    "公民身份号码",
    "联系电话",
    "户籍地址",
    "乡镇",
    "村（社区）",
    "备注",
)
CARD_HEADER = (
    "序号",
    "姓名",
    "社会保障号码",
    "社会保障卡卡号",
    "发卡银行",
    "制卡类型",
    "制卡状态",
    "失败原因",
    "卡状态",
    "制卡日期",
)
UNISSUED_SHEET = "未制卡人员"
CARD_SHEET = "卡务数据导出"
VILLAGE_COLUMN = UNISSUED_HEADER.index("村（社区）")

# Rough relative population of the 12 townships, in migration order (金碧镇 is the seat).
TOWNSHIP_WEIGHTS = (20, 9, 6, 9, 8, 7, 8, 7, 6, 7, 6, 7)

SURNAMES = (
    "李张王杨字毕起杞鲁者段周高罗苏陈普施赵刘自何罗胡董马徐欧阳孙朱夏查沙番白余付鲍吴郭黄谢范龙卜"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛")
MALE_GIVEN = "建国华明发贵强德顺金林志军平忠荣兴勇文武福海云祥成昌正才光福有元生春"
FEMALE_GIVEN = "英琼芳秀丽珍梅凤兰红艳玉花美菊娟萍桂仙翠芬琴燕霞莲香月娥丹妹"
ETHNICITIES = (
    ("汉族", 56),
    ("彝族", 34),
    ("傈僳族", 4),
    ("傣族", 2),
    ("白族", 2),
    ("回族", 1),
    ("苗族", 1),
)
VILLAGE_HEADS = "大小新上下中河龙石松白黑马羊塔凹桃李竹柏青石麻栗梨荞"
VILLAGE_TAILS = "山村河坝箐街哨厂田营冲庄湾坡场林地沟"
REMARKS = ("外出务工", "联系不上", "户籍已迁出", "本人在外地上学", "长期在外")
BANKS = (
    "中国建设银行大姚支行",
    "云南省农村信用社大姚联社",
    "中国邮政储蓄银行大姚县支行",
    "中国农业银行大姚县支行",
    "中国工商银行大姚支行",
)
FAILURE_REASONS = (
    "身份信息校验不通过",
    "照片不合格",
    "银行开户失败",
    "人员信息与公安信息不一致",
    "已有有效卡，不能重复申领",
)
# Other 楚雄州 counties, for card records of persons who are not on the 大姚 list.
OTHER_COUNTIES = ("532301", "532322", "532325", "532328", "532331")
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")

BIRTH_FIRST = datetime.date(1935, 1, 1)
BIRTH_LAST = datetime.date(2022, 12, 31)


@dataclass(frozen=True)
class Person:
    """One generated citizen: the truth the files are written from."""

    id_number: str
    name: str
    township: int  # index into TOWNSHIPS
    village: str  # canonical name, e.g. 大山村委会; "" when the list leaves it blank
    ethnicity: str
    phone: str


@dataclass
class Dataset:
    """Paths of a generated pair of files and their row counts."""

    unissued: Path
    card_export: Path
    rows: int
    unissued_rows: int
    card_rows: int
    seed: int

    @property
    def manifest(self) -> Path:
        return self.unissued.with_name(f"manifest-{self.rows}.json")

    def expected(self) -> dict:
        """Counts a correct import must report (written by the generator)."""
        return json.loads(self.manifest.read_text())["expected"]


class _Ids:
    """Unique, valid 18-digit ID numbers (the first 17 digits never repeat)."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._seen: set[str] = set()
        self._span = (BIRTH_LAST - BIRTH_FIRST).days

    def new(self, county: str = "532326") -> str:
        rng = self._rng
        while True:
            born = BIRTH_FIRST + datetime.timedelta(days=rng.randrange(self._span))
            first17 = f"{county}{born:%Y%m%d}{rng.randrange(1000):03d}"
            if first17 not in self._seen:
                self._seen.add(first17)
                return first17 + compute_check_char(first17)


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in pairs], weights=[w for _, w in pairs])[0]


def _name(rng: random.Random, male: bool) -> str:
    surname = rng.choice(COMPOUND_SURNAMES) if rng.random() < 0.02 else rng.choice(SURNAMES)
    pool = MALE_GIVEN if male else FEMALE_GIVEN
    given = rng.choice(pool) + (rng.choice(pool) if rng.random() < 0.6 else "")
    return surname + given


def _phone(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.10:
        return ""
    if roll < 0.15:
        return f"0878-{rng.randrange(6200000, 6299999)}"
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def _villages(rng: random.Random) -> list[list[str]]:
    """Per township, 8–16 distinct village names with their official suffix."""
    result = []
    for _ in TOWNSHIPS:
        names: set[str] = set()
        wanted = rng.randint(8, 16)
        while len(names) < wanted:
            stem = rng.choice(VILLAGE_HEADS) + rng.choice(VILLAGE_TAILS)
            names.add(stem + ("社区" if rng.random() < 0.15 else "村委会"))
        result.append(sorted(names))
    return result


def _persons(rng: random.Random, ids: _Ids, count: int) -> list[Person]:
    """The listed persons, in the order lists come in: by township, then by village."""
    villages = _villages(rng)
    township_picks = rng.choices(range(len(TOWNSHIPS)), weights=TOWNSHIP_WEIGHTS, k=count)
    persons = []
    for township in township_picks:
        id_number = ids.new()
        male = int(id_number[16]) % 2 == 1
        persons.append(
            Person(
                id_number=id_number,
                name=_name(rng, male),
                township=township,
                village="" if rng.random() < 0.02 else rng.choice(villages[township]),
                ethnicity=_weighted(rng, ETHNICITIES),
                phone=_phone(rng),
            )
        )
    persons.sort(key=lambda p: (p.township, p.village == "", p.village))
    return persons


def _written_township(rng: random.Random, township: int) -> str:
    code, name, short_name, aliases = TOWNSHIPS[township]
    roll = rng.random()
    if roll < 0.005:
        # Blank township column: the importer must fall back to the address.
        return ""
    if roll < 0.01:
        return f" {short_name} "
    return rng.choice([name, short_name, *aliases])


def _written_village(rng: random.Random, village: str) -> str:
    roll = rng.random()
    if village.endswith("村委会") and roll < 0.05:
        return village.removesuffix("村委会") + "村民委员会"
    if roll < 0.07:
        return village[:2] + " " + village[2:]
    return village


def _written_id(rng: random.Random, id_number: str) -> tuple[str | float, bool]:
    """The ID cell as a clerk typed it, and whether an importer can still read it."""
    roll = rng.random()
    if roll < 0.0025:
        wrong = "0123456789X".replace(id_number[17], "")
        return id_number[:17] + rng.choice(wrong), False
    if roll < 0.005:
        # Excel turned the column into numbers: 15 significant digits survive.
        return float(id_number[:15] + "000"), False
    if roll < 0.008:
        return "'" + id_number, True
    if roll < 0.010:
        return id_number.translate(FULL_WIDTH), True
    if roll < 0.012:
        return id_number + " ", True
    if id_number.endswith("X") and roll < 0.3:
        return id_number[:17] + "x", True
    return id_number, True


@dataclass
class ListTruth:
    """What a correct import of the unissued list must report."""

    imported: set[int]  # indexes into persons of those with at least one readable ID
    invalid_rows: int = 0
    duplicates: int = 0


def _unissued_rows(
    rng: random.Random, persons: list[Person], rows: int
) -> tuple[list[tuple], list[CellRange], ListTruth]:
    """Data rows (with ~1% duplicates spliced in), the merged village ranges, the truth."""
    repeats: dict[int, list[int]] = {}
    for _ in range(rows - len(persons)):
        original = rng.randrange(len(persons))
        later = min(original + rng.randint(1, 5000), len(persons) - 1)
        repeats.setdefault(later, []).append(original)
    order: list[int] = []
    for index in range(len(persons)):
        order.append(index)
        order.extend(repeats.get(index, ()))
    first_data_row = 4  # rows 1-2 are titles, row 3 the header
    table: list[tuple] = []
    merges: list[CellRange] = []
    truth = ListTruth(imported=set())
    run_start = 0
    previous: Person | None = None
    for position, index in enumerate(order):
        person = persons[index]
        township = _written_township(rng, person.township)
        village = _written_village(rng, person.village)
        address_township = township.strip() or TOWNSHIPS[person.township][1]
        address = f"云南省楚雄彝族自治州大姚县{address_township}{village}"
        if rng.random() < 0.3:
            address += f"{rng.randint(1, 12)}组"
        written_id, readable = _written_id(rng, person.id_number)
        if not readable:
            truth.invalid_rows += 1
        elif index in truth.imported:
            truth.duplicates += 1
        else:
            truth.imported.add(index)
        table.append(
            (
                position + 1,
                person.name,
                "男" if int(person.id_number[16]) % 2 else "女",
                person.ethnicity,
                written_id,
                person.phone,
                address,
                township,
                village,
                rng.choice(REMARKS) if rng.random() < 0.03 else "",
            )
        )
        same_village = (
            previous is not None
            and person.village
            and previous.township == person.township
            and previous.village == person.village
        )
        if not same_village or position - run_start >= rng.randint(2, 4):
            _close_merge(rng, table, merges, run_start, position, first_data_row)
            run_start = position
        previous = person
    _close_merge(rng, table, merges, run_start, len(table), first_data_row)
    return table, merges, truth


def _close_merge(
    rng: random.Random,
    table: list[tuple],
    merges: list[CellRange],
    start: int,
    end: int,
    first_data_row: int,
) -> None:
    """Merge the village cells of rows start..end-1 (a run of one village), like clerks do."""
    # About one run in six is merged; the rest repeat the village on every row.
    if end - start < 2 or rng.random() >= 1 / 6:
        return
    column = VILLAGE_COLUMN + 1
    merges.append(
        CellRange(
            min_col=column,
            max_col=column,
            min_row=first_data_row + start,
            max_row=first_data_row + end - 1,
        )
    )
    for position in range(start + 1, end):
        row = list(table[position])
        row[VILLAGE_COLUMN] = None
        table[position] = tuple(row)


def _card_records(rng: random.Random, ids: _Ids, persons: list[Person], rows: int) -> list[tuple]:
    """Card-system rows: ~80% of listed persons with 1–3 records, the rest off-list persons."""
    counts = rng.choices((1, 2, 3), weights=(86, 11, 3), k=len(persons))
    covered = rng.sample(range(len(persons)), k=len(persons))
    budget = rows
    wanted = int(len(persons) * 0.8)
    chosen: list[tuple[str, str, int]] = []
    for index in covered[:wanted]:
        need = counts[index]
        if need > budget:
            break
        budget -= need
        person = persons[index]
        chosen.append((person.id_number, person.name, need))
    while budget > 0:
        county = "532326" if rng.random() < 0.7 else rng.choice(OTHER_COUNTIES)
        id_number = ids.new(county)
        need = min(rng.choices((1, 2), weights=(85, 15))[0], budget)
        budget -= need
        chosen.append((id_number, _name(rng, int(id_number[16]) % 2 == 1), need))
    records: list[tuple] = []
    card_numbers: set[str] = set()
    for id_number, name, need in chosen:
        records.extend(_records_of(rng, id_number, name, need, card_numbers))
    rng.shuffle(records)
    return records


def _records_of(
    rng: random.Random, id_number: str, name: str, count: int, card_numbers: set[str]
) -> list[tuple]:
    day = datetime.date(2016, 1, 1) + datetime.timedelta(days=rng.randrange(2000))
    statuses = rng.choices(
        ("制卡成功", "制卡中", "已申领", "制卡失败"), weights=(62, 10, 8, 20), k=count
    )
    records = []
    for position, status in enumerate(statuses):
        day += datetime.timedelta(days=rng.randint(30, 600))
        later_success = "制卡成功" in statuses[position + 1 :]
        card_number = bank = card_status = reason = ""
        made_on: str | datetime.date = ""
        if status == "制卡成功":
            card_number = _unique_card_number(rng.randrange(10**8), card_numbers)
            bank = rng.choice(BANKS)
            cancelled = later_success or rng.random() < 0.06
            card_status = "注销" if cancelled else "正常"
            made_on = day if rng.random() < 0.1 else day.isoformat()
        elif status == "制卡失败":
            bank = rng.choice(BANKS)
            reason = rng.choice(FAILURE_REASONS)
            made_on = day.isoformat() if rng.random() < 0.4 else ""
        else:
            bank = rng.choice(BANKS)
            made_on = day.isoformat() if rng.random() < 0.5 else ""
        records.append(
            (
                name,
                id_number,
                card_number,
                bank,
                rng.choice(("即时制卡", "批量制卡")),
                status,
                reason,
                card_status,
                made_on,
            )
        )
    return records


def _unique_card_number(drawn: int, taken: set[str]) -> str:
    """A card number no other record has, as in the card system (one number, one card).

    A drawn number already given moves up to the next free one, without drawing again, so
    the rest of the generated content stays as it was.
    """
    while (number := f"Y{drawn % 10**8:08d}") in taken:
        drawn += 1
    taken.add(number)
    return number


RANKS = {"制卡成功": 3, "制卡中": 2, "已申领": 2, "制卡失败": 1}
CLASSES = {3: "card_made", 2: "in_production", 1: "card_failed", 0: "no_card_info"}


def expected_cards(id_numbers: set[str], records: list[tuple]) -> dict:
    """The cards our ledger must open: for each listed person with a live 制卡成功 record,
    the current one (latest 制卡日期, then the later row), as the match ranks them.

    Returns how many, and a digest of their (ID number, card number) pairs.
    """
    current: dict[str, tuple] = {}
    for row_number, record in enumerate(records, start=1):
        _, id_number, card_number, _, _, status, _, card_status, made_on = record
        if status != "制卡成功" or card_status == "注销" or id_number not in id_numbers:
            continue
        day = made_on.isoformat() if isinstance(made_on, datetime.date) else made_on
        key = (day != "", day, row_number)  # a record without a date ranks below any date
        if id_number not in current or key > current[id_number][0]:
            current[id_number] = (key, card_number)
    pairs = sorted(f"{id_number}:{card}" for id_number, (_, card) in current.items())
    digest = hashlib.sha256("\n".join(pairs).encode()).hexdigest()
    return {"cards": len(pairs), "cards_digest": digest}


def _expected(persons: list[Person], truth: ListTruth, records: list[tuple]) -> dict:
    """The counts a correct import and comparison report, from the generator's own truth."""
    best: dict[str, int] = {}
    for _, id_number, _, _, _, status, _, card_status, _ in records:
        if card_status != "注销":
            best[id_number] = max(best.get(id_number, 0), RANKS[status])
    classes = dict.fromkeys(CLASSES.values(), 0)
    for index in truth.imported:
        classes[CLASSES[best.get(persons[index].id_number, 0)]] += 1
    return {
        "persons": len(truth.imported),
        "invalid_rows": truth.invalid_rows,
        "duplicates": truth.duplicates,
        "card_records": len(records),
        "classes": classes,
        **expected_cards({persons[index].id_number for index in truth.imported}, records),
    }


def _write_unissued(path: Path, table: list[tuple], merges: list[CellRange]) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(UNISSUED_SHEET)
    sheet.append([UNISSUED_TITLE])
    sheet.append(["填报单位：大姚县人力资源和社会保障局            下发日期：2022年05月20日"])
    sheet.append(list(UNISSUED_HEADER))
    for row in table:
        sheet.append(row)
    sheet.append(["合计", f"{len(table)}人"])
    sheet.append(["填表人：", "", "审核人："])
    # Built in one go: MultiCellRange.add() scans every range already present.
    sheet.merged_cells = MultiCellRange(
        [CellRange(min_col=1, max_col=len(UNISSUED_HEADER), min_row=1, max_row=1), *merges]
    )
    _save(workbook, path)


def _write_card_export(path: Path, records: list[tuple]) -> int:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(CARD_SHEET)
    sheet.append(list(CARD_HEADER))
    for number, record in enumerate(records, start=1):
        sheet.append((number, *record))
    _save(workbook, path)
    return len(records)


def _save(workbook: Workbook, path: Path) -> None:
    partial = path.with_name(path.name + ".partial")
    workbook.save(partial)
    partial.replace(path)


def dataset_paths(rows: int, out: Path, seed: int = DEFAULT_SEED) -> Dataset:
    return Dataset(
        unissued=out / f"unissued-{rows}.xlsx",
        card_export=out / f"card-export-{rows}.xlsx",
        rows=rows,
        unissued_rows=rows,
        card_rows=rows,
        seed=seed,
    )


def _cached(dataset: Dataset) -> bool:
    if not (dataset.manifest.exists() and dataset.unissued.exists()):
        return False
    if not dataset.card_export.exists():
        return False
    manifest = json.loads(dataset.manifest.read_text())
    return {k: manifest.get(k) for k in _manifest_data(dataset)} == _manifest_data(dataset)


def _manifest_data(dataset: Dataset) -> dict:
    return {
        "version": GENERATOR_VERSION,
        "seed": dataset.seed,
        "unissued_rows": dataset.unissued_rows,
        "card_rows": dataset.card_rows,
        "unissued_bytes": dataset.unissued.stat().st_size,
        "card_bytes": dataset.card_export.stat().st_size,
    }


def ensure_dataset(
    rows: int, out: Path = DEFAULT_OUT, seed: int = DEFAULT_SEED, log=print
) -> Dataset:
    """Generate both files unless a previous run left them with the same rows and seed."""
    out.mkdir(parents=True, exist_ok=True)
    dataset = dataset_paths(rows, out, seed)
    if _cached(dataset):
        log(f"reusing {dataset.unissued} and {dataset.card_export}")
        return dataset
    started = time.perf_counter()
    rng = random.Random(seed)
    ids = _Ids(rng)
    # About 1% of list rows repeat a person already listed.
    persons = _persons(rng, ids, rows - rows // 100)
    table, merges, truth = _unissued_rows(rng, persons, rows)
    _write_unissued(dataset.unissued, table, merges)
    log(f"wrote {dataset.unissued} ({len(table)} rows, {time.perf_counter() - started:.0f} s)")
    del table, merges
    records = _card_records(rng, ids, persons, rows)
    dataset.card_rows = _write_card_export(dataset.card_export, records)
    log(f"wrote {dataset.card_export} ({len(records)} rows, {time.perf_counter() - started:.0f} s)")
    manifest = _manifest_data(dataset)
    manifest["expected"] = _expected(persons, truth, records)
    dataset.manifest.write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
    return dataset


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="data rows in each file")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="cache directory")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    if args.rows < 100:
        parser.error("--rows must be at least 100")
    ensure_dataset(args.rows, args.out, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
