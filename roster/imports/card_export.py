"""The card-system export (卡务系统导出): every record kept as it is, as one snapshot.

Records are checked in Python and streamed by COPY (on PostgreSQL) into their table;
``matching`` then classifies every person against the latest snapshot.
"""

from collections.abc import Iterator

from dayao_sscard.bulk import bulk_insert

from ..id_numbers import id_number_normalizer
from ..models import CardSystemRecord
from .base import ImportResult, RowProblem, named_rows
from .tables import cell_date, cell_text

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


def card_export_write(tables, source_list, result: ImportResult, progress, total) -> None:
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
    rows = named_rows(tables, ("id_number", "made_on"), RECORD_CELLS, result, progress, total)
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
