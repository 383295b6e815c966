"""Excel exports of person lists and import reports, written row by row.

Through the core's spreadsheet writer, so that no text from a list becomes a formula.
"""

from collections.abc import Callable, Iterable
from typing import BinaryIO

from dayao_sscard.spreadsheets import XlsxWorkbook

from .id_numbers import mask_id_number, mask_phone
from .models import Person
from .selectors import card_class_label

PERSON_COLUMNS = (
    "序号",
    "乡镇",
    "村（社区）",
    "村民小组",
    "姓名",
    "性别",
    "民族",
    "公民身份号码",
    "联系电话",
    "比对结果",
    "制卡失败原因",
    "生存状态",
    "核查状态",
    "所在名单",
)
MEMBERSHIP_COLUMN = "所在名单"


def persons_write_xlsx(
    persons: Iterable[Person],
    stream: BinaryIO,
    *,
    full_values: bool,
    with_categories: bool = True,
    total: int,
    progress: Callable[[int, int, str], None] | None = None,
    title: str = "人员名单",
) -> int:
    columns = [c for c in PERSON_COLUMNS if with_categories or c != MEMBERSHIP_COLUMN]
    workbook = XlsxWorkbook()
    sheet = workbook.sheet(title, header=columns, widths={"H": 22})
    written = 0
    for written, person in enumerate(persons, start=1):
        row = [
            written,
            person.township.name,
            person.village.name if person.village_id else "",
            person.group_name,
            person.name,
            person.get_gender_display(),
            person.ethnicity,
            # Text, so Excel never turns the number into 5.32326E+17.
            person.id_number if full_values else mask_id_number(person.id_number),
            person.phone if full_values else mask_phone(person.phone),
            card_class_label(person),
            person.card_failure_reason,
            person.get_vital_status_display(),
            person.get_verification_status_display(),
        ]
        if with_categories:
            row.append("、".join(sorted({e.source_list.source for e in person.list_entries.all()})))
        sheet.append(row)
        if progress and written % 500 == 0:
            progress(written, total, f"已写入 {written} / {total} 人")
    workbook.save(stream)
    return written


def problems_write_xlsx(result, stream: BinaryIO) -> int:
    """The import's error report: every unusable or duplicate row with its original row number."""
    workbook = XlsxWorkbook()
    sheet = workbook.sheet(
        "问题行",
        header=("文件", "工作表", "行号", "姓名", "身份证号码（原文）", "问题", "处理"),
        widths={"E": 24, "F": 50},
    )
    rows = [(p, p.handling) for p in result.problems] + [
        (p, "已忽略") for p in result.duplicate_rows
    ]
    for problem, handling in rows:
        sheet.append(
            [
                result.file_name,
                problem.sheet,
                problem.row_number,
                problem.name,
                problem.raw_id_number,
                problem.reason,
                handling,
            ]
        )
    workbook.save(stream)
    return len(rows)
