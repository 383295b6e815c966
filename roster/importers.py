"""Import the lists the county receives, in one transaction per file.

Rows are read and checked in Python and streamed by COPY (on PostgreSQL) straight into
their table while the next rows are read: new persons with keys reserved beforehand,
card-system records as they are. What refers to them (list entries, villages, blanks
filled in for persons already known) is written right after, in the same transaction.

Re-importing the same file changes nothing; a file that fails half-way leaves nothing.
"""

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from dayao_sscard.audit import audit_record, audit_record_many
from dayao_sscard.bulk import analyse, bulk_insert, indexes_built_after, reserve_ids

from .id_numbers import id_number_normalizer
from .matching import classify_all
from .models import (
    CardSystemRecord,
    Category,
    InvalidListRow,
    ListEntry,
    ListKind,
    Person,
    SourceList,
    Village,
)
from .places import township_index_load, township_resolve_id, village_normalize_name
from .tables import Table, TableError, cell_date, cell_text, open_tables
from .validators import normalize_phone

# Kinds whose import can change someone's comparison class.
CLASSIFIED_KINDS = (ListKind.UNISSUED, ListKind.SUBSIDY, ListKind.CARD_EXPORT)

REQUIRED_COLUMNS = {
    ListKind.UNISSUED: ("id_number", "name"),
    ListKind.SUBSIDY: ("id_number", "name"),
    ListKind.CARD_EXPORT: ("id_number", "production_status"),
    ListKind.DEATHS: ("id_number", "death_date"),
    ListKind.COLLECTION_12333: ("id_number",),
}
_CATEGORY_WORDS = (
    ("低保", Category.MINIMUM_LIVING),
    ("特困", Category.EXTREME_POVERTY),
    ("残疾", Category.DISABLED),
)
_SPLIT = re.compile(r"[、,，/;；\s]+")

Progress = Callable[..., None]


class ListImportError(Exception):
    """The file cannot be imported at all; nothing was written. Message in Chinese."""


@dataclass
class RowProblem:
    sheet: str
    row_number: int
    name: str
    raw_id_number: str
    reason: str
    township_id: int | None = None
    id_unusable: bool = True
    handling: str = "未导入"


@dataclass
class ImportResult:
    kind: str
    file_name: str
    source: str = ""
    source_list_id: int | None = None
    already_imported_at: str = ""
    rows_read: int = 0
    persons_new: int = 0
    persons_existing: int = 0
    persons_filled: int = 0
    duplicates: int = 0
    has_categories: bool = False
    records: int = 0
    deaths_marked: int = 0
    deaths_already: int = 0
    cancellations_queued: int = 0
    not_found: int = 0
    collection_persons: int = 0
    collection_fields: int = 0
    collection_conflicts: int = 0
    collection_photos: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    duplicate_rows: list[RowProblem] = field(default_factory=list)
    classification: dict = field(default_factory=dict)

    @property
    def invalid_rows(self) -> int:
        return len(self.problems)

    def summary(self) -> dict:
        """Counts with Chinese labels, as the job page and the command show them."""
        if self.already_imported_at:
            return {"结果": f"该文件已于 {self.already_imported_at} 导入过，本次未作任何修改"}
        data = {"读取行数": self.rows_read}
        problems = self.invalid_rows
        if self.kind == ListKind.CARD_EXPORT:
            data["卡务记录"] = self.records
        elif self.kind == ListKind.DEATHS:
            # Someone not in the system is listed in the report but is not an error.
            problems -= self.not_found
            data.update(
                {
                    "标记死亡": self.deaths_marked,
                    "原已死亡": self.deaths_already,
                    "系统中无此人": self.not_found,
                    "列入注销的社保卡": self.cancellations_queued,
                }
            )
        elif self.kind == ListKind.COLLECTION_12333:
            data.update(
                {
                    "更新人员": self.collection_persons,
                    "补全字段": self.collection_fields,
                    "冲突字段": self.collection_conflicts,
                    "照片已采集": self.collection_photos,
                }
            )
        else:
            data.update(
                {
                    "新增人员": self.persons_new,
                    "已有人员": self.persons_existing,
                    "补全信息人员": self.persons_filled,
                }
            )
        data.update({"重复行": self.duplicates, "问题行": problems})
        if self.classification:
            data.update({f"比对：{k}": v for k, v in self.classification.items()})
        return data


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def list_import(
    *,
    kind: str,
    path: Path,
    original_name: str,
    source: str = "",
    acting_user=None,
    job=None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import one file of the given kind; raises ListImportError when it cannot be imported."""
    progress = progress or (lambda *a, **k: None)
    result = ImportResult(kind=kind, file_name=original_name, source=source)
    sha = file_sha256(path)
    if _mark_if_already_imported(result, kind, sha):
        return result
    try:
        tables = open_tables(
            Path(path), original_name=original_name, required=REQUIRED_COLUMNS[kind]
        )
    except TableError as exc:
        raise ListImportError(str(exc)) from exc
    total = sum(t.total_rows for t in tables) or 1
    try:
        with transaction.atomic():
            _serialise_imports()
            if _mark_if_already_imported(result, kind, sha):
                return result
            source_list = SourceList.objects.create(
                kind=kind,
                source=source or _default_source(kind, tables),
                file_name=original_name[:255],
                file_sha256=sha,
                imported_by=acting_user,
                job=job,
            )
            result.source = source_list.source
            result.source_list_id = source_list.pk
            if kind == ListKind.CARD_EXPORT:
                _write_card_export(tables, source_list, result, progress, total)
            elif kind in (ListKind.DEATHS, ListKind.COLLECTION_12333):
                from .collection_imports import collection_list_write

                collection_list_write(
                    tables, source_list, result, progress, total, acting_user=acting_user
                )
            else:
                _write_person_list(tables, source_list, result, progress, total)
            _write_problems(source_list, result.problems)
            if kind in CLASSIFIED_KINDS:
                progress(total, total, "正在比对制卡信息", force=True)
                result.classification = classify_all(acting_user=acting_user)
            source_list.counts = result.summary()
            source_list.save(update_fields=["counts"])
            audit_record(
                actor=acting_user,
                action="roster.sourcelist.imported",
                obj=source_list,
                after=result.summary(),
            )
    except TableError as exc:
        raise ListImportError(f"{exc}（已撤回本次导入的全部数据）") from exc
    return result


def _mark_if_already_imported(result: ImportResult, kind: str, sha: str) -> bool:
    previous = SourceList.objects.filter(kind=kind, file_sha256=sha).first()
    if previous is None:
        return False
    result.source_list_id = previous.pk
    result.source = previous.source
    result.already_imported_at = f"{timezone.localtime(previous.imported_at):%Y-%m-%d %H:%M}"
    return True


def _serialise_imports() -> None:
    """One import at a time: two clerks uploading at once must not interleave writes."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(532326)")


def _default_source(kind: str, tables: list[Table]) -> str:
    if kind == ListKind.CARD_EXPORT:
        return f"卡务系统导出 {timezone.localdate():%Y-%m-%d}"
    return tables[0].sheet


def cell_value(cells: list, columns: dict[str, int], name: str):
    """The raw value of a named column in a row; blank when the row is short or the column absent."""
    position = columns.get(name, -1)
    if 0 <= position < len(cells):
        value = cells[position]
        return "" if value is None else value
    return ""


# ---- person lists (unissued, subsidy) ---------------------------------------------------

# The cells a person list is read for, in the order the row loop unpacks them.
PERSON_CELLS = (
    "name",
    "township",
    "village",
    "ethnicity",
    "phone",
    "address",
    "group_name",
    "category",
    "amount",
)
# The columns of a new person that the list supplies; the others get the model's defaults.
LISTED_PERSON_COLUMNS = (
    "id",
    "id_number",
    "name",
    "gender",
    "birth_date",
    "ethnicity",
    "phone",
    "address",
    "township_id",
    "village_id",
    "group_name",
)
ENTRY_COLUMNS = ("source_list_id", "person_id", "sheet", "row_number", "category", "amount")
FILLABLE = ("phone", "ethnicity", "address", "village_id", "group_name")
KNOWN_STAGE_COLUMNS = ("person_id", *FILLABLE)
# New villages get keys reserved before the rows are read (see _Villages); a real county
# has a few hundred, so more than this means the village column holds something else.
MAX_NEW_VILLAGES = 5000


class _Villages:
    """Village ids by (township, canonical name), for rows read while COPY holds the line.

    A village first seen in the file takes a key reserved beforehand; the village rows
    themselves are written after the persons, in the same transaction.
    """

    def __init__(self, reserve: int):
        self.ids = {
            (t, n): pk for pk, t, n in Village.objects.values_list("id", "township", "name")
        }
        self.new: list[tuple] = []
        self._spare = iter(reserve_ids(Village._meta.db_table, min(reserve, MAX_NEW_VILLAGES)))

    def add(self, township_id: int, name: str) -> int:
        pk = next(self._spare, None)
        if pk is None:
            raise TableError(
                f"文件中的村（社区）名称超过 {MAX_NEW_VILLAGES} 个，请检查村（社区）列是否填错。"
            )
        self.ids[(township_id, name)] = pk
        self.new.append((pk, township_id, name, ""))
        return pk


@dataclass
class _PersonListWrite:
    """One person list being written: new persons go straight into the person table,
    everything else is collected on the way and written after them."""

    source_list: SourceList
    result: ImportResult
    known: dict[str, int]  # ID number → id, for the persons already in the system
    villages: _Villages
    person_ids: Iterator[int]
    constants: dict  # column → default, for every column the list does not supply
    entries: list[tuple] = field(default_factory=list)
    known_rows: list[tuple] = field(default_factory=list)


def _write_person_list(tables, source_list, result: ImportResult, progress, total) -> None:
    # The row stream runs while COPY holds the connection: it must not query the database,
    # so places and known persons are loaded, and keys reserved, before it starts.
    township_index_load()
    write = _PersonListWrite(
        source_list=source_list,
        result=result,
        known=_known_person_ids(),
        villages=_Villages(reserve=total),
        person_ids=iter(reserve_ids(Person._meta.db_table, total)),
        constants=_new_person_defaults(timezone.now()),
    )
    with indexes_built_after(Person._meta.db_table, ListEntry._meta.db_table):
        result.persons_new = _copy_new_persons(tables, write, progress, total)
        progress(total, total, "正在写入人员名单", force=True)
        _write_villages_and_entries(write)
    result.persons_existing = len(write.known_rows)
    if write.known_rows:
        result.persons_filled = _fill_blank_fields(source_list, write.known_rows)
    if result.has_categories or source_list.kind == ListKind.SUBSIDY:
        _add_categories(source_list)


def _copy_new_persons(tables, write: _PersonListWrite, progress, total) -> int:
    return bulk_insert(
        Person._meta.db_table,
        LISTED_PERSON_COLUMNS,
        _new_person_rows(tables, write, progress, total),
        constants=write.constants,
    )


def _write_villages_and_entries(write: _PersonListWrite) -> None:
    bulk_insert(Village._meta.db_table, ("id", "township_id", "name", "code"), write.villages.new)
    bulk_insert(ListEntry._meta.db_table, ENTRY_COLUMNS, write.entries)
    write.entries.clear()


def _known_person_ids() -> dict[str, int]:
    # Not through the ORM: a million model-free tuples, about three times faster.
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, id FROM roster_person")
        return dict(cursor.fetchall())


def numbered_rows(
    tables, result: ImportResult, progress, total
) -> Iterator[tuple[Table, int, list]]:
    """Every data row of every table, counted into ``result.rows_read`` with progress."""
    for table in tables:
        for number, cells in table.rows:
            result.rows_read += 1
            if result.rows_read % 5000 == 0:
                progress(result.rows_read, total, f"已读取 {result.rows_read} 行")
            yield table, number, cells


def cells_getter(columns: dict[str, int], names: tuple[str, ...]) -> Callable[[list], tuple]:
    """A function giving the named cells of a row at once; absent columns read as "".

    The rows it reads must end with one extra "" (absent columns point at it) and be as
    wide as the header, see ``padded``. One C-level call per row instead of one per cell:
    this runs a million times per list.
    """
    positions = [columns.get(name, -1) for name in names]
    return itemgetter(*positions) if len(positions) > 1 else lambda cells: (cells[positions[0]],)


def padded(cells: list, width: int) -> list:
    """The row as ``cells_getter`` reads it: short CSV rows filled up, then one extra ""."""
    if len(cells) < width:
        cells.extend([""] * (width - len(cells)))
    cells.append("")
    return cells


def _texts(values: tuple) -> list[str]:
    try:
        return list(map(str.strip, values))
    except TypeError:  # a number or date cell among them: the rare, slow way
        return list(map(cell_text, values))


def _named_rows(
    tables, raw_names: tuple[str, ...], text_names: tuple[str, ...], result, progress, total
) -> Iterator[tuple[str, int, tuple, list]]:
    """Every data row as (sheet, row number, the raw_names cells, the text_names cells as
    text), counted by ``numbered_rows``.

    Each table's layout is worked out once, and each group of cells is read with one
    C-level call: the million-row loops of the list and card-export imports run on this.
    """
    layout = None
    for table, number, cells in numbered_rows(tables, result, progress, total):
        if layout is None or layout[0] is not table:
            columns = table.columns
            layout = (
                table,
                table.sheet[:100],
                max(columns.values()) + 1,
                cells_getter(columns, raw_names),
                cells_getter(columns, text_names),
            )
        _, sheet, width, raw, text = layout
        cells = padded(cells, width)
        yield sheet, number, raw(cells), _texts(text(cells))


def _new_person_rows(tables, write: _PersonListWrite, progress, total) -> Iterator[tuple]:
    """Check every row; yield the new persons, collect list entries and known persons."""
    result, known, villages = write.result, write.known, write.villages
    entry_of, known_rows = write.entries.append, write.known_rows
    source_list_id = write.source_list.pk
    normalize = id_number_normalizer()
    seen: set[str] = set()
    village_names: dict[str, str] = {}  # as written → canonical; a few hundred names
    rows = _named_rows(tables, ("id_number",), PERSON_CELLS, result, progress, total)
    for sheet, number, (raw_id,), texts in rows:
        name, town, village, ethnicity, phone, address, group, category, amount = texts
        name = name[:50]
        township_id = township_resolve_id(town)  # remembered per spelling (lru_cache)
        if township_id is None:  # an absent address column reads as "": no township
            township_id = township_resolve_id(address.split("大姚县", 1)[-1])
        id_number, reason = normalize(raw_id)
        problem = None
        if id_number is None:
            problem = RowProblem(
                sheet,
                number,
                name,
                cell_text(raw_id)[:100],
                f"身份证号码{reason}",
                township_id,
            )
        elif not name:
            problem = RowProblem(sheet, number, name, id_number, "缺少姓名", township_id)
        elif township_id is None:
            problem = RowProblem(
                sheet, number, name, id_number, f"无法识别所属乡镇：{town or '（空）'}", None
            )
        elif id_number in seen:
            result.duplicates += 1
            result.duplicate_rows.append(
                RowProblem(
                    sheet,
                    number,
                    name,
                    id_number,
                    "同一人在本文件中重复出现，已按第一次出现的行导入",
                    township_id,
                    id_unusable=False,
                )
            )
            continue
        if problem is not None:
            problem.id_unusable = id_number is None
            result.problems.append(problem)
            continue
        seen.add(id_number)
        canonical = village_names.get(village)
        if canonical is None:
            canonical = village_names[village] = village_normalize_name(village)[:50]
        # "" is NULL to bulk_insert, and keeps its CSV fast path (None would not).
        village_id = villages.ids.get((township_id, canonical), "") if canonical else ""
        if village_id == "" and canonical:
            village_id = villages.add(township_id, canonical)
        category = category[:50]
        if category:
            result.has_categories = True
        # Digits only, as nearly all are: what normalize_phone would leave of them.
        phone = (phone.removeprefix("86") if phone.isdigit() else normalize_phone(phone))[:20]
        person_id = known.get(id_number)
        is_new = person_id is None
        if is_new:
            person_id = next(write.person_ids)
        entry_of((source_list_id, person_id, sheet, number, category, amount[:30]))
        if not is_new:
            known_rows.append(
                (person_id, phone, ethnicity[:20], address[:200], village_id, group[:50])
            )
            continue
        yield (
            person_id,
            id_number,
            name,
            "male" if id_number[16] in "13579" else "female",
            # The number is valid, so its birth date is a real date: ISO text is enough.
            f"{id_number[6:10]}-{id_number[10:12]}-{id_number[12:14]}",
            ethnicity[:20],
            phone,
            address[:200],
            township_id,
            village_id,
            group[:50],
        )


def _new_person_defaults(now) -> dict[str, object]:
    """The columns of a new person that no list supplies and the database cannot fill.

    Columns with a database default or NULL are left to the database; what remains (the
    timestamps, and any field added later without a database default) gets the model's
    default here. Built from the model so that such a field cannot be forgotten.
    """
    defaults = {}
    for model_field in Person._meta.concrete_fields:
        if (
            model_field.column in LISTED_PERSON_COLUMNS
            or model_field.has_db_default()
            or (model_field.null and not model_field.has_default())
        ):
            continue
        if getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
            value = now
        elif model_field.has_default():
            value = model_field.get_default()
        else:
            value = ""
        defaults[model_field.column] = model_field.get_db_prep_save(value, connection)
    return defaults


def _add_categories(source_list) -> None:
    with connection.cursor() as cursor:
        for category, condition in _category_conditions(source_list):
            cursor.execute(
                "INSERT INTO roster_personcategory (person_id, category, source) "
                "SELECT e.person_id, %s, %s FROM roster_listentry e "
                f"WHERE e.source_list_id = %s AND {condition} "
                "ON CONFLICT (person_id, category) DO NOTHING",
                [category, source_list.source[:100], source_list.pk],
            )


def _category_conditions(source_list) -> list[tuple[str, str]]:
    if source_list.kind == ListKind.SUBSIDY:
        return [(Category.SUBSIDY_RECIPIENT.value, "1 = 1")]
    return [(category.value, f"e.category LIKE '%%{word}%%'") for word, category in _CATEGORY_WORDS]


def _fill_blank_fields(source_list, known_rows: list[tuple]) -> int:
    """Complete blanks of people already known from this list; never overwrite a value."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS import_known")
        # No key or index: one row per person already, and the join below reads it once.
        cursor.execute(
            "CREATE TEMPORARY TABLE import_known (person_id bigint, phone varchar(20), "
            "ethnicity varchar(20), address varchar(200), village_id bigint, "
            "group_name varchar(50))"
        )
        bulk_insert("import_known", KNOWN_STAGE_COLUMNS, known_rows)
        analyse("import_known")
        cursor.execute(
            "SELECT p.id, "
            + ", ".join(f"p.{f}, s.{f}" for f in FILLABLE)
            + " FROM import_known s JOIN roster_person p ON p.id = s.person_id WHERE "
            + " OR ".join(
                f"(p.{f} IS NULL AND s.{f} IS NOT NULL)"
                if f == "village_id"
                else f"(p.{f} = '' AND s.{f} <> '')"
                for f in FILLABLE
            )
        )
        rows = cursor.fetchall()
        cursor.execute("DROP TABLE import_known")
    updates: dict[int, tuple[dict, dict]] = {}
    for row in rows:
        before, after = {}, {}
        for index, name in enumerate(FILLABLE):
            old, new = row[1 + 2 * index], row[2 + 2 * index]
            if old in ("", None) and new not in ("", None):
                before[name], after[name] = old, new
        updates[row[0]] = (before, after)
    if not updates:
        return 0
    persons = Person.objects.in_bulk(list(updates))
    changes = []
    for pk, (before, after) in updates.items():
        person = persons[pk]
        for name, value in after.items():
            setattr(person, name, value)
        changes.append((person, before, after))
    Person.objects.bulk_update([p for p, _, _ in changes], list(FILLABLE), batch_size=1000)
    audit_record_many(
        actor=source_list.imported_by,
        action="roster.person.updated",
        changes=changes,
        note=f"由名单补全：{source_list.source}",
    )
    return len(changes)


def _write_problems(source_list, problems: list[RowProblem]) -> None:
    InvalidListRow.objects.bulk_create(
        [
            InvalidListRow(
                source_list=source_list,
                sheet=p.sheet[:100],
                row_number=p.row_number,
                name=p.name[:50],
                raw_id_number=p.raw_id_number[:100],
                reason=p.reason[:200],
                id_unusable=p.id_unusable,
                township_id=p.township_id,
            )
            for p in problems
        ],
        batch_size=2000,
    )


# ---- card-system export -----------------------------------------------------------------

RECORD_COLUMNS = (
    "row_number",
    "id_number",
    "name",
    "card_number",
    "bank_name",
    "production_type",
    "production_status",
    "failure_reason",
    "card_status",
    "made_on",
)


def _write_card_export(tables, source_list, result: ImportResult, progress, total) -> None:
    result.records = bulk_insert(
        CardSystemRecord._meta.db_table,
        RECORD_COLUMNS,
        _record_rows(tables, result, progress, total),
        constants={"snapshot_id": source_list.pk},
    )


RECORD_CELLS = (
    "name",
    "card_number",
    "bank",
    "production_type",
    "production_status",
    "failure_reason",
    "card_status",
)


# Distinct 制卡日期 values kept parsed; an export repeats a few thousand days.
DATE_CACHE_SIZE = 100_000


def _record_rows(tables, result: ImportResult, progress, total) -> Iterator[tuple]:
    normalize = id_number_normalizer()
    dates: dict[object, str] = {}  # cell value → ISO date, or "" (NULL) when it is none
    rows = _named_rows(tables, ("id_number", "made_on"), RECORD_CELLS, result, progress, total)
    for sheet, number, (raw_id, raw_date), texts in rows:
        name, card_number, bank, kind, status, reason, card_status = texts
        id_number, problem = normalize(raw_id)
        if id_number is None:
            result.problems.append(
                RowProblem(
                    sheet,
                    number,
                    name[:50],
                    cell_text(raw_id)[:100],
                    f"社会保障号码{problem}",
                )
            )
            continue
        made_on = dates.get(raw_date)
        if made_on is None:
            if len(dates) >= DATE_CACHE_SIZE:
                dates.clear()
            parsed = cell_date(raw_date)
            made_on = dates[raw_date] = parsed.isoformat() if parsed else ""
        yield (
            number,
            id_number,
            name[:50],
            card_number[:30],
            bank[:100],
            kind[:20],
            status[:20],
            reason[:200],
            card_status[:20],
            made_on,  # "" is NULL, see bulk_insert
        )
