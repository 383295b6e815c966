"""Build the kinds of spreadsheets the county receives, for import tests."""

import zipfile
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


def write_xlsx_with_long_cell(path: Path, rows: list[list], *, chars: int, text="A") -> Path:
    """An xlsx whose last row holds one cell of ``chars`` characters, streamed into the zip.

    ``text`` repeated compresses a thousand times over, as the bombs do; a random text
    compresses like real data.
    """
    small = path.with_suffix(".small.xlsx")
    write_xlsx(small, rows, footer=False)
    last = len(rows) + 1
    with zipfile.ZipFile(small) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename != "xl/worksheets/sheet1.xml":
                out.writestr(info, data)
                continue
            head, tail = data.split(b"</sheetData>")
            with out.open(info.filename, "w", force_zip64=True) as part:
                part.write(head)
                part.write(f'<row r="{last}"><c r="A{last}" t="inlineStr"><is><t>'.encode())
                block = (text * ((1 << 16) // len(text) + 1))[: 1 << 16]
                for start in range(0, chars, len(block)):
                    part.write(block[: chars - start].encode())
                part.write(b"</t></is></c></row></sheetData>" + tail)
    small.unlink()
    return path
