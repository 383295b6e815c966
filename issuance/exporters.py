"""Excel lists of cards, written row by row through the core's formula-safe writer."""

from collections.abc import Iterable
from typing import BinaryIO

from django.utils import timezone

from dayao_sscard.spreadsheets import XlsxWorkbook
from roster.id_numbers import mask_id_number

from .models import LedgerEntry

RECOVERY_COLUMNS = (
    "序号",
    "乡镇",
    "村（社区）",
    "社会保障卡卡号",
    "姓名",
    "公民身份号码",
    "发卡银行",
    "回收原因",
    "回收日期",
    "回收后保管单位",
    "登记人",
)


def recoveries_write_xlsx(
    entries: Iterable[LedgerEntry], stream: BinaryIO, *, full_ids: bool
) -> int:
    """The recovery list (回收清单) for the provincial card system; returns the row count."""
    workbook = XlsxWorkbook()
    sheet = workbook.sheet("回收清单", header=RECOVERY_COLUMNS, widths={"D": 22, "F": 22, "H": 40})
    written = 0
    for written, entry in enumerate(entries, start=1):
        card, person = entry.card, entry.card.person
        recorder = entry.recorded_by
        sheet.append(
            [
                written,
                person.township.name,
                person.village.name if person.village_id else "",
                card.card_number or "",
                person.name,
                person.id_number if full_ids else mask_id_number(person.id_number),
                card.bank.name,
                entry.note,
                f"{timezone.localtime(entry.occurred_at):%Y-%m-%d}",
                entry.to_party,
                (recorder.display_name or recorder.username) if recorder else "系统导入",
            ]
        )
    workbook.save(stream)
    return written
