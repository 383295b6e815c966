"""Import the lists the county receives, in two steps: read and check every row, then
write everything in one transaction through a staging table (COPY on PostgreSQL).

Re-importing the same file changes nothing; a file that fails half-way leaves nothing.
"""

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from dayao_sscard.audit import audit_record, audit_record_many
from dayao_sscard.bulk import analyse, bulk_insert

from .id_numbers import try_normalize_id_number
from .matching import classify_all
from .models import (
    CardSystemRecord,
    Category,
    InvalidListRow,
    ListKind,
    Person,
    SourceList,
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

STAGE_COLUMNS = (
    "id_number",
    "name",
    "gender",
    "birth_date",
    "ethnicity",
    "phone",
    "address",
    "township_id",
    "village_name",
    "group_name",
    "sheet",
    "row_number",
    "category",
    "amount",
)


def _write_person_list(tables, source_list, result: ImportResult, progress, total) -> None:
    # The row stream runs while COPY holds the connection: it must not query the database.
    township_index_load()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS import_stage")
        # No key or index: rows are unique already, and each join below reads it once.
        cursor.execute(
            "CREATE TEMPORARY TABLE import_stage (id_number varchar(18), "
            "name varchar(50), gender varchar(8), birth_date date, ethnicity varchar(20), "
            "phone varchar(20), address varchar(200), township_id bigint, "
            "village_name varchar(50), group_name varchar(50), "
            "sheet varchar(100), row_number integer, category varchar(50), amount varchar(30))"
        )
    staged = bulk_insert(
        "import_stage", STAGE_COLUMNS, _person_rows(tables, result, progress, total)
    )
    progress(total, total, "正在写入人员名单", force=True)
    analyse("import_stage")
    _create_new_villages()
    _merge_stage_into_persons(source_list, result, staged)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE import_stage")


def _create_new_villages() -> None:
    """Villages arrive with the lists: create the ones not seen before."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO roster_village (township_id, name, code) "
            "SELECT DISTINCT s.township_id, s.village_name, '' FROM import_stage s "
            "WHERE s.village_name <> '' AND NOT EXISTS (SELECT 1 FROM roster_village v "
            "WHERE v.township_id = s.township_id AND v.name = s.village_name)"
        )


# The staged rows with their village's id, joined once per statement.
STAGE_WITH_VILLAGE = (
    "import_stage s LEFT JOIN roster_village v "
    "ON v.township_id = s.township_id AND v.name = s.village_name"
)


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


def _person_rows(tables, result: ImportResult, progress, total) -> Iterator[tuple]:
    seen: set[str] = set()
    villages: dict[str, str] = {}  # as written → canonical; lists repeat a few hundred names
    for table, number, cells in numbered_rows(tables, result, progress, total):
        c = table.columns
        raw_id = cell_value(cells, c, "id_number")
        name = cell_text(cell_value(cells, c, "name"))[:50]
        township_id = _township_of(cells, c)
        id_number, reason = try_normalize_id_number(raw_id)
        if id_number is None:
            result.problems.append(
                RowProblem(
                    table.sheet,
                    number,
                    name,
                    cell_text(raw_id)[:100],
                    f"身份证号码{reason}",
                    township_id,
                )
            )
            continue
        if not name:
            result.problems.append(
                RowProblem(
                    table.sheet,
                    number,
                    name,
                    id_number,
                    "缺少姓名",
                    township_id,
                    id_unusable=False,
                )
            )
            continue
        if township_id is None:
            written = cell_text(cell_value(cells, c, "township")) or "（空）"
            result.problems.append(
                RowProblem(
                    table.sheet,
                    number,
                    name,
                    id_number,
                    f"无法识别所属乡镇：{written}",
                    None,
                    id_unusable=False,
                )
            )
            continue
        if id_number in seen:
            result.duplicates += 1
            result.duplicate_rows.append(
                RowProblem(
                    table.sheet,
                    number,
                    name,
                    id_number,
                    "同一人在本文件中重复出现，已按第一次出现的行导入",
                    township_id,
                    id_unusable=False,
                )
            )
            continue
        seen.add(id_number)
        village = cell_text(cell_value(cells, c, "village"))
        if village not in villages:
            villages[village] = village_normalize_name(village)[:50]
        category = cell_text(cell_value(cells, c, "category"))[:50]
        if category:
            result.has_categories = True
        yield (
            id_number,
            name,
            "male" if int(id_number[16]) % 2 else "female",
            # The number is valid, so its birth date is a real date: ISO text is enough.
            f"{id_number[6:10]}-{id_number[10:12]}-{id_number[12:14]}",
            cell_text(cell_value(cells, c, "ethnicity"))[:20],
            normalize_phone(cell_text(cell_value(cells, c, "phone")))[:20],
            cell_text(cell_value(cells, c, "address"))[:200],
            township_id,
            villages[village],
            cell_text(cell_value(cells, c, "group_name"))[:50],
            table.sheet[:100],
            number,
            category,
            cell_text(cell_value(cells, c, "amount"))[:30],
        )


def _township_of(cells: list, columns: dict[str, int]) -> int | None:
    township_id = township_resolve_id(cell_text(cell_value(cells, columns, "township")))
    if township_id is None and "address" in columns:
        address = cell_text(cell_value(cells, columns, "address"))
        township_id = township_resolve_id(address.split("大姚县", 1)[-1])
    return township_id


def _merge_stage_into_persons(source_list, result: ImportResult, staged: int) -> None:
    now = timezone.now()
    with connection.cursor() as cursor:
        columns, values, params = _new_person_columns(now)
        cursor.execute(
            f"INSERT INTO roster_person ({', '.join(columns)}) SELECT {', '.join(values)} "
            # ON CONFLICT probes the unique index row by row; an anti-join (NOT EXISTS) would
            # be planned from statistics and turns quadratic when they say the table is empty.
            f"FROM {STAGE_WITH_VILLAGE} WHERE TRUE ON CONFLICT (id_number) DO NOTHING",
            params,
        )
        result.persons_new = cursor.rowcount
        result.persons_existing = staged - result.persons_new
        if result.persons_existing:
            # New persons already hold the list's values, so only known ones can have blanks.
            result.persons_filled = _fill_blank_fields(cursor, source_list)
        cursor.execute(
            "INSERT INTO roster_listentry (source_list_id, person_id, sheet, row_number, category, "
            "amount) SELECT %s, p.id, s.sheet, s.row_number, s.category, s.amount "
            "FROM import_stage s JOIN roster_person p ON p.id_number = s.id_number",
            [source_list.pk],
        )
        if result.has_categories or source_list.kind == ListKind.SUBSIDY:
            _add_categories(cursor, source_list)


def _add_categories(cursor, source_list) -> None:
    for category, condition in _category_conditions(source_list):
        cursor.execute(
            "INSERT INTO roster_personcategory (person_id, category, source) "
            "SELECT p.id, %s, %s FROM import_stage s JOIN roster_person p "
            f"ON p.id_number = s.id_number WHERE {condition} AND NOT EXISTS ("
            "SELECT 1 FROM roster_personcategory c WHERE c.person_id = p.id AND c.category = %s)",
            [category, source_list.source[:100], category],
        )


STAGED_PERSON_FIELDS = (
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


def _new_person_columns(now) -> tuple[list[str], list[str], list]:
    """Columns of a new person: staged values, else each field's model default.

    Built from the model so that a field added later cannot be forgotten here.
    """
    columns, values, params = [], [], []
    for model_field in Person._meta.concrete_fields:
        if model_field.primary_key:
            continue
        columns.append(connection.ops.quote_name(model_field.column))
        if model_field.column in STAGED_PERSON_FIELDS:
            values.append(
                "v.id" if model_field.column == "village_id" else f"s.{model_field.column}"
            )
            continue
        values.append("%s")
        if getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
            params.append(now)
        elif model_field.has_default():
            params.append(model_field.get_db_prep_save(model_field.get_default(), connection))
        elif model_field.null:
            params.append(None)
        else:
            params.append(model_field.get_db_prep_save("", connection))
    return columns, values, params


def _category_conditions(source_list) -> list[tuple[str, str]]:
    if source_list.kind == ListKind.SUBSIDY:
        return [(Category.SUBSIDY_RECIPIENT.value, "1 = 1")]
    return [(category.value, f"s.category LIKE '%%{word}%%'") for word, category in _CATEGORY_WORDS]


FILLABLE = ("phone", "ethnicity", "address", "village_id", "group_name")


def _fill_blank_fields(cursor, source_list) -> int:
    """Complete blanks of people already known from this list; never overwrite a value."""
    staged = {f: ("v.id" if f == "village_id" else f"s.{f}") for f in FILLABLE}
    cursor.execute(
        "SELECT p.id, "
        + ", ".join(f"p.{f}, {staged[f]}" for f in FILLABLE)
        + f" FROM {STAGE_WITH_VILLAGE} JOIN roster_person p ON p.id_number = s.id_number WHERE "
        + " OR ".join(
            f"(p.{f} IS NULL AND {staged[f]} IS NOT NULL)"
            if f == "village_id"
            else f"(p.{f} = '' AND {staged[f]} <> '')"
            for f in FILLABLE
        )
    )
    updates: dict[int, tuple[dict, dict]] = {}
    for row in cursor.fetchall():
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
    "snapshot_id",
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
        _record_rows(tables, source_list.pk, result, progress, total),
    )


def _record_rows(
    tables, snapshot_id: int, result: ImportResult, progress, total
) -> Iterator[tuple]:
    for table, number, cells in numbered_rows(tables, result, progress, total):
        c = table.columns
        raw_id = cell_value(cells, c, "id_number")
        name = cell_text(cell_value(cells, c, "name"))[:50]
        id_number, reason = try_normalize_id_number(raw_id)
        if id_number is None:
            result.problems.append(
                RowProblem(
                    table.sheet, number, name, cell_text(raw_id)[:100], f"社会保障号码{reason}"
                )
            )
            continue
        yield (
            snapshot_id,
            number,
            id_number,
            name,
            cell_text(cell_value(cells, c, "card_number"))[:30],
            cell_text(cell_value(cells, c, "bank"))[:100],
            cell_text(cell_value(cells, c, "production_type"))[:20],
            cell_text(cell_value(cells, c, "production_status"))[:20],
            cell_text(cell_value(cells, c, "failure_reason"))[:200],
            cell_text(cell_value(cells, c, "card_status"))[:20],
            cell_date(cell_value(cells, c, "made_on")),
        )
