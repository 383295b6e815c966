"""Build the kinds of spreadsheets the county receives, for import tests."""

from pathlib import Path

import openpyxl
import xlwt

UNISSUED_HEADER = ["序号", "姓名", "性别", "民族", "公民身份号码", "联系电话", "乡镇", "村（社区）"]
EXPORT_HEADER = [
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
]


def write_xlsx(path: Path, rows: list[list], *, title_rows=(), merges=(), footer=True) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "名单"
    for title in title_rows:
        sheet.append([title])
    for row in rows:
        sheet.append(row)
    if footer:
        sheet.append([])
        sheet.append(["合计", f"{len(rows) - 1}人"])
        sheet.append(["填表人：", "", "", "审核人："])
    for merge in merges:
        sheet.merge_cells(merge)
    workbook.save(path)
    return path


def write_xls(path: Path, rows: list[list], *, title_rows=()) -> Path:
    workbook = xlwt.Workbook(encoding="utf-8")
    sheet = workbook.add_sheet("名单")
    all_rows = [[t] for t in title_rows] + rows
    for r, row in enumerate(all_rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    workbook.save(str(path))
    return path


def write_csv(path: Path, rows: list[list], *, encoding="utf-8", delimiter=",") -> Path:
    text = "\r\n".join(delimiter.join(str(v) for v in row) for row in rows) + "\r\n"
    path.write_bytes(text.encode(encoding))
    return path
