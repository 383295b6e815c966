"""What every import shares: its result and row problems, and reading a table's rows.

Nothing here knows a kind of list; the modules beside it (one per kind) build on it.
"""

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

from django.db import connection
from django.utils import timezone

from ..models import InvalidListRow, ListKind, SourceList
from .tables import Table, cell_text

# Kinds whose import is followed by the match: an export re-compares everyone, a person
# list compares the persons it added (see matching).
CLASSIFIED_KINDS = (ListKind.UNISSUED, ListKind.SUBSIDY, ListKind.CARD_EXPORT)

REQUIRED_COLUMNS = {
    ListKind.UNISSUED: ("id_number", "name"),
    ListKind.SUBSIDY: ("id_number", "name"),
    ListKind.CARD_EXPORT: ("id_number", "production_status"),
    ListKind.DEATHS: ("id_number", "death_date"),
    ListKind.COLLECTION_12333: ("id_number",),
}

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
    first_new_person_id: int = 0
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
    cards: dict = field(default_factory=dict)  # the card ledger's opening, Chinese labels
    partial_export: bool = False

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
            if self.partial_export:
                data["导出范围"] = "部分导出，只重新比对文件中的人员"
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
        if self.cards:
            data.update({f"社保卡台账：{k}": v for k, v in self.cards.items()})
        return data


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def mark_if_already_imported(result: ImportResult, kind: str, sha: str) -> bool:
    previous = SourceList.objects.filter(kind=kind, file_sha256=sha).first()
    if previous is None:
        return False
    result.source_list_id = previous.pk
    result.source = previous.source
    result.already_imported_at = f"{timezone.localtime(previous.imported_at):%Y-%m-%d %H:%M}"
    return True


def serialise_imports() -> None:
    """One import at a time: two clerks uploading at once must not interleave writes."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(532326)")


def default_source(kind: str, tables: list[Table]) -> str:
    if kind == ListKind.CARD_EXPORT:
        return f"卡务系统导出 {timezone.localdate():%Y-%m-%d}"
    return tables[0].sheet


def write_problems(source_list, problems: list[RowProblem]) -> None:
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


# ---- reading rows -----------------------------------------------------------------------


def cell_value(cells: list, columns: dict[str, int], name: str):
    """The raw value of a named column in a row; blank when the row is short or the column absent."""
    position = columns.get(name, -1)
    if 0 <= position < len(cells):
        value = cells[position]
        return "" if value is None else value
    return ""


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
    wide as the header, see ``named_rows``. One C-level call per row instead of one per cell:
    this runs a million times per list.
    """
    positions = [columns.get(name, -1) for name in names]
    return itemgetter(*positions) if len(positions) > 1 else lambda cells: (cells[positions[0]],)


def named_rows(
    tables, raw_names: tuple[str, ...], text_names: tuple[str, ...], result, progress, total
) -> Iterator[tuple[str, int, tuple, list]]:
    """Every data row as (sheet, row number, the raw_names cells, the text_names cells as
    text), counted into ``result.rows_read`` with progress as ``numbered_rows`` does.

    Each table's layout is worked out once, and each group of cells is read with one
    C-level call; no function call per row beyond those. The million-row loops of the
    list and card-export imports run on this.
    """
    strip = str.strip
    for table in tables:
        columns = table.columns
        sheet = table.sheet[:100]
        width = max(columns.values()) + 1
        raw, text = cells_getter(columns, raw_names), cells_getter(columns, text_names)
        for number, cells in table.rows:
            result.rows_read += 1
            if result.rows_read % 5000 == 0:
                progress(result.rows_read, total, f"已读取 {result.rows_read} 行")
            # As cells_getter reads them: short CSV rows filled up, then one extra "".
            if len(cells) < width:
                cells.extend([""] * (width - len(cells)))
            cells.append("")
            values = text(cells)
            try:
                texts = list(map(strip, values))
            except TypeError:  # a number or date cell among them: the rare, slow way
                texts = list(map(cell_text, values))
            yield sheet, number, raw(cells), texts
