"""The card-system export (卡务系统导出): every record kept as it is, as one snapshot.

Records are checked in Python and streamed by COPY (on PostgreSQL) into their table;
``matching`` then classifies every person against the latest snapshot.
"""

from collections.abc import Iterator

from django.conf import settings

from dayao_sscard.bulk import bulk_insert

from ..id_numbers import id_number_normalizer
from ..models import CardClass, CardSystemRecord, ClassificationChange
from .base import ImportResult, ListImportError, RowProblem, named_rows
from .matching import (
    classify_all,
    disagreement_count,
    latest_snapshot,
    persons_known_with_card,
)
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


class ExportCoverage:
    """How an administrator says a card-system export is to be taken."""

    UNSAID = ""
    COMPLETE = "complete"  # the whole county: everyone is compared with it
    PARTIAL = "partial"  # some persons only: only they are compared with it
    CHOICES = (COMPLETE, PARTIAL)


class ExportShrinks(ListImportError):
    """The export covers clearly fewer cards than the county knows; nothing was written.

    ``preview`` (Chinese labels → figures) says what importing it each way would change.
    """

    def __init__(self, message: str, preview: dict):
        super().__init__(message)
        self.preview = preview


def export_coverage_check(source_list, result: ImportResult, *, acting_user=None) -> None:
    """Refuse, with a preview, an export that covers clearly fewer cards than the county knows.

    Called inside the import's transaction, after the records are written: the preview
    runs the match and counts what it changed, and the raise rolls all of it back.
    """
    previous = latest_snapshot(excluding=source_list)
    previous_records = CardSystemRecord.objects.filter(snapshot=previous).count() if previous else 0
    known_holders = persons_known_with_card()
    baseline = max(previous_records, known_holders)
    if not baseline or result.records >= settings.CARD_EXPORT_SHRINK_RATIO * baseline:
        return
    persons_in_file = (
        CardSystemRecord.objects.filter(snapshot=source_list).values("id_number").distinct().count()
    )
    disagreements_before = disagreement_count()
    classify_all(acting_user=acting_user, recount=False)
    changes = ClassificationChange.objects.filter(snapshot=source_list)
    preview = {
        "本次导出记录数": result.records,
        "本次导出涉及人数": persons_in_file,
        **({"上次完整导出记录数": previous_records} if previous else {}),
        "系统已知已制卡人数": known_holders,
        "按全县完整导出导入：比对结果将改变的人数": changes.count(),
        "其中将变为无制卡信息的人数": changes.filter(new_class=CardClass.NO_CARD_INFO).count(),
        "按全县完整导出导入：将新增的两方记录不一致人数": max(
            0, disagreement_count() - disagreements_before
        ),
        "按部分导出导入：只重新比对的人数": persons_in_file,
    }
    raise ExportShrinks(
        f"本次卡务系统导出只有 {result.records} 条记录，明显少于"
        + (f"上一次完整导出的 {previous_records} 条" if previous_records >= known_holders else "")
        + (f"系统已知的已制卡人数 {known_holders} 人" if known_holders > previous_records else "")
        + "，可能只导出了部分乡镇或部分人员。为免把已制卡人员错当无制卡信息，本次未写入任何数据。",
        preview,
    )
