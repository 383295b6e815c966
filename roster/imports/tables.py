"""Read the spreadsheets government offices send: xlsx, xls, csv (UTF-8, BOM, GBK, GB18030).

Finds the header row under title rows, maps loosely named columns to fields, fills
merged cells down, stops at footer rows, and streams rows so a 1,000,000-row file
never sits in memory as Python objects all at once.

Uploads are checked before they are read: an xlsx is a zip, and a 1 MB file can unpack
to gigabytes (settings ``UPLOAD_MAX_UNPACKED_MB`` and ``UPLOAD_MAX_COMPRESSION_RATIO``);
no cell may be longer than ``UPLOAD_MAX_CELL_CHARS``; NUL characters, which no database
column can hold, are dropped.
"""

import codecs
import csv
import datetime
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain, count
from pathlib import Path

from django.conf import settings
from python_calamine import CalamineError, CalamineWorkbook


class TableError(Exception):
    """The file cannot be imported at all; the message (Chinese) says why."""


# Field → header spellings seen on real lists, already passed through _header_key.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "id_number": (
        "公民身份号码",
        "身份证号码",
        "身份证号",
        "证件号码",
        "社会保障号码",
        "社会保障号",
        "身份证",
        "公民身份证号码",
        "居民身份证号码",
        "身份号码",
        "证件号",
    ),
    "name": ("姓名", "人员姓名", "户主姓名", "补贴对象姓名", "持卡人姓名", "名字"),
    "gender": ("性别",),
    "ethnicity": ("民族",),
    "phone": ("联系电话", "联系方式", "手机号码", "手机号", "电话", "电话号码"),
    "township": ("乡镇", "所属乡镇", "乡(镇)", "乡镇(街道)", "镇", "乡镇名称"),
    "village": ("村(社区)", "村委会", "村", "社区", "所属村", "村(居)委会", "村名", "行政村"),
    "group_name": ("村民小组", "组", "小组"),
    "address": ("户籍地址", "住址", "地址", "家庭住址", "户籍所在地", "居住地址"),
    "category": ("人员类别", "类别", "人员类型"),
    "card_number": ("社会保障卡卡号", "社保卡卡号", "卡号"),
    "bank": ("发卡银行", "银行", "合作银行", "开户银行"),
    "production_type": ("制卡类型",),
    "production_status": ("制卡状态",),
    "failure_reason": ("失败原因", "制卡失败原因"),
    "card_status": ("卡状态", "卡片状态"),
    "made_on": ("制卡日期", "制卡时间"),
    "project": ("补贴项目", "项目名称", "补贴名称"),
    "amount": ("补贴金额", "金额"),
    "nationality": ("国籍",),
    "occupation": ("职业",),
    "id_valid_from": (
        "证件有效期起始",
        "证件有效期起始日期",
        "证件有效期起",
        "证件有效期开始日期",
        "有效期起始日期",
        "有效期起始",
    ),
    "id_valid_until": (
        "证件有效期截止",
        "证件有效期截止日期",
        "证件有效期止",
        "证件有效期结束日期",
        "有效期截止日期",
        "有效期截止",
        "证件失效日期",
    ),
    "id_validity": ("证件有效期限", "证件有效期", "身份证有效期限", "身份证有效期", "有效期限"),
    "photo_status": ("照片状态", "照片", "照片采集状态", "是否采集照片"),
    "collected_at": ("采集时间", "采集日期"),
    "death_date": ("死亡日期", "死亡时间", "火化日期", "火化时间", "注销日期", "注销时间"),
    "death_source": ("来源", "信息来源", "死亡信息来源", "数据来源"),
}
COLUMN_LABELS = {
    "id_number": "公民身份号码（或身份证号码、证件号码、社会保障号码）",
    "name": "姓名",
    "production_status": "制卡状态",
    "death_date": "死亡日期（或死亡时间、火化日期、注销日期）",
}
_FOOTER = re.compile(
    r"^(合计|总计|小计|填表人|填报人|审核人|制表人|负责人|单位负责人|注[:：]|说明[:：])"
)
_HEADER_NOISE = str.maketrans({"（": "(", "）": ")", " ": "", "\u3000": "", "\n": "", "*": ""})
HEADER_SEARCH_ROWS = 30


def _header_key(value) -> str:
    return str(value or "").translate(_HEADER_NOISE).strip()


_ALIAS_INDEX = {_header_key(alias): f for f, aliases in COLUMN_ALIASES.items() for alias in aliases}


@dataclass
class Table:
    """One sheet with a recognised header: its column map and a row stream."""

    sheet: str
    header_row: int  # 1-based, as Excel shows it
    columns: dict[str, int]
    rows: Iterator[tuple[int, list]] = field(repr=False)  # (1-based row number, cells)
    total_rows: int = 0  # for progress only


def open_tables(
    path: Path,
    *,
    original_name: str,
    required: tuple[str, ...],
    aliases: dict[str, tuple[str, ...]] | None = None,
    labels: dict[str, str] | None = None,
) -> list[Table]:
    """Every sheet of the file whose header names all required columns.

    ``aliases`` adds header spellings of one kind of file (a bank's result file says
    制卡结果) to the shared ones, for this reading only; ``labels`` names its columns.
    Raises TableError (in Chinese) for an unreadable file or when no sheet has
    the required columns — naming the ones missing, so nothing is imported.
    """
    alias_index = _ALIAS_INDEX
    if aliases:
        extra = {_header_key(a): f for f, names in aliases.items() for a in names}
        alias_index = {**alias_index, **extra}
    labels = {**COLUMN_LABELS, **(labels or {})}
    sheets = list(_read_sheets(path, original_name))
    tables, best_missing = [], None
    for sheet_name, rows, merged, total_rows, checked in sheets:
        head: list[tuple[int, list]] = []
        for item in rows:
            head.append(item)
            if len(head) >= HEADER_SEARCH_ROWS:
                break
        found = _find_header(head, alias_index)
        if found is None:
            best_missing = best_missing or list(required)
            continue
        index, columns = found
        missing = [f for f in required if f not in columns]
        if missing:
            if best_missing is None or len(missing) < len(best_missing):
                best_missing = missing
            continue
        header_row = head[index][0]
        body = chain(head[index + 1 :], rows)
        tables.append(
            Table(
                sheet=sheet_name,
                header_row=header_row,
                columns=columns,
                rows=_data_rows(body, merged, header_row, sheet_name, checked=checked),
                total_rows=max(total_rows - header_row, 0),
            )
        )
    if not tables:
        names = "、".join(
            labels.get(f) or _first_alias(f, aliases) for f in best_missing or required
        )
        raise TableError(
            f"文件中找不到必需的列：{names}。请检查表头后重新上传，本次未导入任何数据。"
        )
    return tables


def _first_alias(field_name: str, aliases: dict[str, tuple[str, ...]] | None) -> str:
    return (COLUMN_ALIASES.get(field_name) or (aliases or {})[field_name])[0]


def _find_header(
    head: list[tuple[int, list]], alias_index: dict[str, str]
) -> tuple[int, dict[str, int]] | None:
    best = None
    for index, (_, cells) in enumerate(head):
        columns: dict[str, int] = {}
        for position, cell in enumerate(cells):
            field_name = alias_index.get(_header_key(cell))
            if field_name and field_name not in columns:
                columns[field_name] = position
        if len(columns) >= 2 and (best is None or len(columns) > len(best[1])):
            best = (index, columns)
    return best


def _data_rows(
    rows: Iterator[tuple[int, list]], merged, header_row: int, sheet: str, *, checked: bool
):
    """Skip blank and footer rows; fill vertically merged cells with their top value.

    Unless the reader has ``checked`` them, cells are checked for their length and NUL here.
    """
    fill = _merged_fill_map(merged, header_row)
    anchors: dict[int, object] = {}
    max_chars = settings.UPLOAD_MAX_CELL_CHARS
    for number, cells in rows:
        if fill and (spans := fill.get(number)):
            for column, top in spans.items():
                if number == top:
                    anchors[column] = cells[column] if column < len(cells) else ""
                elif column < len(cells) and cells[column] in ("", None):
                    cells[column] = anchors.get(column, "")
        # Data rows start with a filled cell (序号 or 姓名): look further only when blank.
        first = cells[0] if cells else None
        if first is None or first == "":
            first = next((c for c in cells if c is not None and c != ""), None)
            if first is None:
                continue
        # A row number (序号) is never a footer: no regex for nearly every row of a CSV.
        if isinstance(first, str) and not first[:1].isdigit() and _FOOTER.match(first.strip()):
            continue
        if not checked:
            for value in cells:
                if value.__class__ is str and (len(value) > max_chars or "\x00" in value):
                    cells = _checked_cells(cells, number, sheet, max_chars)
                    break
        yield number, cells


def _checked_cells(cells: list, number: int, sheet: str, max_chars: int) -> list:
    """The row without NUL characters; a TableError when a cell is longer than any real one."""
    for value in cells:
        if value.__class__ is str and len(value) > max_chars:
            raise TableError(_cell_too_long(number, sheet, len(value), max_chars))
    return [v.replace("\x00", "") if v.__class__ is str else v for v in cells]


def _cell_too_long(number: int, sheet: str, length: int | None, max_chars: int) -> str:
    where = f"工作表“{sheet}”第 {number} 行" if sheet else f"第 {number} 行"
    found = f"有 {length:,} 个字符" if length else "过长"
    return (
        f"{where}有一个单元格{found}，超过了 {max_chars:,} 个字符的上限，"
        "文件可能已损坏。请检查该行后重新上传，本次未导入任何数据。"
    )


def _merged_fill_map(merged, header_row: int) -> dict[int, dict[int, int]]:
    """Row number → {column: top row of its merged range}, for ranges below the header."""
    fill: dict[int, dict[int, int]] = {}
    for (top, left), (bottom, right) in merged or ():
        if bottom == top or top + 1 <= header_row:
            continue
        for column in range(left, right + 1):
            for row in range(top + 1, bottom + 2):
                fill.setdefault(row, {})[column] = top + 1
    return fill


def _read_sheets(path: Path, original_name: str):
    kind = _file_kind(path, original_name)
    if kind == "csv":
        text = _csv_text(path)
        # An upper bound on the rows, which the import reserves keys by: the last line may
        # lack its newline, and old Mac files end lines with CR alone.
        lines = max(text.count("\n"), text.count("\r")) + 1
        yield original_name, _csv_rows(text), (), lines, True
        return
    if kind == "zip":
        _check_unpacked_size(path)
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except CalamineError as exc:
        raise TableError(_NOT_EXCEL) from exc
    except Exception as exc:
        raise TableError("文件无法打开：文件已损坏或格式不受支持。") from exc
    for name in workbook.sheet_names:
        try:
            sheet = workbook.get_sheet_by_name(name)
            merged = sheet.merged_cell_ranges or ()
        except Exception as exc:
            raise TableError(f"工作表“{name}”无法读取，文件可能已损坏。") from exc
        yield name, _sheet_rows(sheet), merged, sheet.height, False


def _sheet_rows(sheet) -> Iterator[tuple[int, list]]:
    # calamine starts the grid at the first used cell; keep Excel's row numbers.
    first_row = sheet.start[0] if sheet.start else 0
    first_col = sheet.start[1] if sheet.start else 0
    try:
        if first_col:
            pad = [""] * first_col
            yield from zip(count(first_row + 1), (pad + cells for cells in sheet.iter_rows()))
        else:
            yield from zip(count(first_row + 1), sheet.iter_rows())
    except Exception as exc:
        raise TableError("读取工作表时出错，文件可能已损坏。") from exc


_NOT_EXCEL = (
    "文件无法打开：不是有效的 Excel 文件，或文件已损坏、被加密。"
    "请在 Excel 中另存为 .xlsx 后重新上传。"
)
# A workbook is a few dozen parts; far more is not a workbook.
ZIP_MAX_MEMBERS = 10_000
# Small parts (styles, an empty sheet) may compress well beyond the ratio allowed.
_RATIO_FROM_BYTES = 1 << 20


def _check_unpacked_size(path: Path) -> None:
    """Refuse an xlsx (a zip) that would unpack to too much, from its directory alone.

    The reader (calamine) stops at a part whose data runs longer than the directory
    says, so these sizes bound what reading it can take.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise TableError(_NOT_EXCEL) from exc
    if len(parts) > ZIP_MAX_MEMBERS:
        raise TableError(_NOT_EXCEL)
    unpacked = sum(part.file_size for part in parts)
    limit_mb = settings.UPLOAD_MAX_UNPACKED_MB
    if unpacked > limit_mb << 20:
        raise TableError(
            f"文件解压后约 {unpacked >> 20:,} MB，超过了 {limit_mb:,} MB 的上限。"
            "请删除多余的工作表、行列和图片后另存为 .xlsx，或拆分成几个文件后重新上传。"
            "本次未导入任何数据。"
        )
    ratio = settings.UPLOAD_MAX_COMPRESSION_RATIO
    for part in parts:
        if part.file_size > _RATIO_FROM_BYTES and part.file_size > ratio * part.compress_size:
            times = part.file_size // max(part.compress_size, 1)
            raise TableError(
                f"文件内容异常：其中一部分解压后约 {part.file_size >> 20:,} MB，"
                f"是压缩后大小的 {times:,} 倍（正常的 Excel 文件远低于 {ratio} 倍），"
                "可能已损坏或含有异常内容。本次未导入任何数据，请向报送单位索取原始文件。"
            )


def _file_kind(path: Path, original_name: str) -> str:
    with open(path, "rb") as handle:
        magic = handle.read(8)
    if magic.startswith(b"PK\x03\x04"):
        return "zip"
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        return "excel"
    suffix = Path(original_name).suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods") and magic:
        raise TableError("文件扩展名是 Excel，但内容不是有效的 Excel 文件，可能已损坏。")
    if not magic:
        raise TableError("文件是空的。")
    return "csv"


ENCODINGS = ("utf-8-sig", "gb18030")


def decode_text(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode 文本" (tab-separated).
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    else:
        for encoding in ENCODINGS:
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                continue
    raise TableError(
        "无法识别文件的文字编码（支持 UTF-8、GBK、GB18030），请另存为 UTF-8 或 Excel 格式。"
    )


def _csv_text(path: Path) -> str:
    """The file's text; a stray NUL (no database column can hold one) is dropped."""
    text = decode_text(path.read_bytes())
    if "\x00" in text:
        if text[:4096].count("\x00") > 8:
            raise TableError("文件不是文本格式的 CSV，可能已损坏。")
        text = text.replace("\x00", "")
    return text


def _csv_rows(text: str) -> Iterator[tuple[int, list]]:
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    # The reader checks the length of every field itself; the limit is the whole
    # process's, and this is the process's only CSV reader of uploads.
    csv.field_size_limit(settings.UPLOAD_MAX_CELL_CHARS)
    # Universal newlines: old Mac exports end lines with CR alone.
    reader = csv.reader(io.StringIO(text, newline=None), delimiter=delimiter)
    try:
        yield from enumerate(reader, start=1)
    except csv.Error as exc:
        line = reader.line_num
        if "field larger than field limit" in str(exc):
            limit = settings.UPLOAD_MAX_CELL_CHARS
            raise TableError(_cell_too_long(line, "", None, limit)) from exc
        raise TableError(f"CSV 文件格式错误（第 {line} 行）：{exc}") from exc


def cell_text(value) -> str:
    """A cell as clean text: whole floats lose their '.0', blanks become ''."""
    if value.__class__ is str:  # nearly every cell: the fast path for million-row files
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value).strip()


_DATE_TEXT = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")


def cell_date(value) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and 20000 < value < 80000:
        return datetime.date(1899, 12, 30) + datetime.timedelta(days=int(value))
    text = cell_text(value)
    match = _DATE_TEXT.match(text)
    if match:
        try:
            return datetime.date(*map(int, match.groups()))
        except ValueError:
            return None
    if len(text) == 8 and text.isdigit():
        try:
            return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            return None
    return None
