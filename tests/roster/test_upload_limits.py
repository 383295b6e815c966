"""Uploaded lists are checked before they are read: unpacked size, cell length, NUL."""

import random
import resource
import string
import struct
import zipfile
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from roster.imports import ListImportError, list_import
from roster.imports.tables import TableError, open_tables
from roster.models import Person
from roster.services import list_import_start
from tests.factories import make_id_number
from tests.roster.listfiles import write_csv, write_xlsx, write_xlsx_with_long_cell

HEADER = ["姓名", "身份证号码", "乡镇"]


def read_all(path):
    tables = open_tables(path, original_name=path.name, required=("id_number",))
    return [row for table in tables for row in table.rows]


def random_text(chars: int) -> str:
    # Random letters compress about 1.6 times, like real data and unlike a bomb.
    rng = random.Random(chars)
    return "".join(rng.choices(string.ascii_letters, k=chars))


class TestUnpackedSize:
    def test_the_probe_bomb_is_refused_before_it_is_read(self, tmp_path):
        # The probe's file, scaled down: one cell of repeated text, a thousand times packed.
        bomb = write_xlsx_with_long_cell(
            tmp_path / "bomb.xlsx", [HEADER, ["张三", make_id_number(), "金碧"]], chars=120 << 20
        )
        assert bomb.stat().st_size < 1 << 20
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with pytest.raises(TableError, match="是压缩后大小的 [0-9,]+ 倍"):
            read_all(bomb)
        assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024

    def test_a_file_unpacking_to_more_than_the_limit_is_refused(self, tmp_path, settings):
        settings.UPLOAD_MAX_UNPACKED_MB = 1
        rows = [HEADER] + [[random_text(20), make_id_number(), "金碧"] for _ in range(20_000)]
        path = write_xlsx(tmp_path / "big.xlsx", rows)
        with pytest.raises(TableError, match="超过了 1 MB 的上限"):
            read_all(path)
        settings.UPLOAD_MAX_UNPACKED_MB = 1024
        assert len(read_all(path)) == 20_000

    def test_a_zip_that_understates_a_part_is_not_read(self, tmp_path):
        # The directory says 2 KB; the reader must not believe the data instead.
        real = write_xlsx_with_long_cell(
            tmp_path / "real.xlsx", [HEADER, ["张三", make_id_number(), "金碧"]], chars=8 << 20
        )
        liar = understated(real, tmp_path / "liar.xlsx", "xl/worksheets/sheet1.xml", 2048)
        with pytest.raises(TableError, match="无法读取"):
            read_all(liar)

    def test_an_ordinary_workbook_passes(self, tmp_path):
        rows = [HEADER] + [["张三", make_id_number(), "金碧"] for _ in range(100)]
        assert len(read_all(write_xlsx(tmp_path / "ok.xlsx", rows))) == 100


class TestCellLength:
    def test_an_xlsx_cell_longer_than_excel_allows_stops_the_import(self, tmp_path):
        path = write_xlsx_with_long_cell(
            tmp_path / "long.xlsx",
            [HEADER, ["张三", make_id_number(), "金碧"]],
            chars=40_000,
            text=random_text(40_000),
        )
        with pytest.raises(TableError, match="名单”第 3 行有一个单元格有 40,000 个字符"):
            read_all(path)

    def test_the_limit_is_a_setting(self, tmp_path, settings):
        settings.UPLOAD_MAX_CELL_CHARS = 10
        path = write_csv(tmp_path / "l.csv", [HEADER, ["张三" * 6, make_id_number(), "金碧"]])
        with pytest.raises(TableError, match="第 2 行有一个单元格过长，超过了 10 个字符的上限"):
            read_all(path)

    @pytest.mark.parametrize("chars", [40_000, 200_000])
    def test_a_long_csv_field_is_named_by_its_line(self, tmp_path, chars):
        rows = [HEADER, ["张三", make_id_number(), "金碧"], ["x" * chars, "1", "金碧"]]
        with pytest.raises(TableError, match="第 3 行有一个单元格过长，超过了 32,767 个字符"):
            read_all(write_csv(tmp_path / "l.csv", rows))


@pytest.mark.django_db
class TestNul:
    def test_a_nul_in_a_csv_row_is_dropped_and_the_list_imported(self, tmp_path):
        ids = [make_id_number() for _ in range(300)]
        rows = [HEADER] + [[f"人{n}", ids[n], "金碧"] for n in range(300)]
        rows[3][0] = "李\x00四"  # within the first 4 KB
        rows[250][0] = "王\x00五"
        list_import(
            kind="unissued",
            path=write_csv(tmp_path / "l.csv", rows),
            original_name="l.csv",
            source="x",
        )
        assert Person.objects.get(id_number=ids[2]).name == "李四"
        assert Person.objects.get(id_number=ids[249]).name == "王五"
        assert Person.objects.count() == 300

    def test_a_nul_escaped_in_an_xlsx_cell_is_dropped(self, tmp_path):
        person = make_id_number()
        path = write_xlsx(tmp_path / "l.xlsx", [HEADER, ["张三", person, "金碧"]])
        escaped = tmp_path / "nul.xlsx"
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(escaped, "w") as out:
            for info in source.infolist():
                data = source.read(info.filename)
                out.writestr(info, data.replace("张三".encode(), "张_x0000_三".encode()))
        list_import(kind="unissued", path=escaped, original_name="nul.xlsx", source="x")
        assert Person.objects.get(id_number=person).name == "张三"

    def test_a_file_full_of_nuls_is_still_refused_as_not_text(self, tmp_path):
        path = tmp_path / "l.csv"
        text = "\r\n".join(f"{n},{make_id_number()}" for n in range(50))
        path.write_bytes(text.encode("utf-16-le"))  # UTF-16 without its byte-order mark
        with pytest.raises(ListImportError, match="不是文本格式"):
            list_import(kind="unissued", path=path, original_name="l.csv", source="x")

    def test_excel_unicode_text_is_read(self, tmp_path):
        person = make_id_number()
        path = tmp_path / "unicode.txt"
        text = "\r\n".join("\t".join(row) for row in [HEADER, ["张三", person, "金碧"]])
        path.write_bytes(text.encode("utf-16"))  # with its byte-order mark, as Excel writes
        list_import(kind="unissued", path=path, original_name="unicode.txt", source="x")
        assert Person.objects.get(id_number=person).name == "张三"


@pytest.mark.django_db
def test_the_import_job_fails_with_the_reason(
    county_admin, tmp_path, django_capture_on_commit_callbacks
):
    bomb = write_xlsx_with_long_cell(
        tmp_path / "bomb.xlsx", [HEADER, ["张三", make_id_number(), "金碧"]], chars=20 << 20
    )
    upload = SimpleUploadedFile("名单.xlsx", bomb.read_bytes())
    with django_capture_on_commit_callbacks(execute=True):
        job = list_import_start(
            acting_user=county_admin, kind="unissued", source="省第一批", uploaded_file=upload
        )
    job.refresh_from_db()
    assert job.status == "failed"
    assert "文件内容异常" in job.error and "本次未导入任何数据" in job.error
    assert not Person.objects.exists()


def understated(source, target, name: str, size: int):
    """A copy of the zip whose directory and local header give ``name`` a false size."""
    out, central = bytearray(), []
    with zipfile.ZipFile(source) as archive:
        for info in archive.infolist():
            data = archive.read(info.filename)
            packer = zlib.compressobj(6, zlib.DEFLATED, -15)
            packed = packer.compress(data) + packer.flush()
            crc, stated = zlib.crc32(data), size if info.filename == name else len(data)
            encoded = info.filename.encode()
            offset = len(out)
            fields = (20, 0, 8, 0, 0x21, crc, len(packed), stated, len(encoded), 0)
            out += struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields) + encoded + packed
            entry = (20, *fields, 0, 0, 0, 0, offset)
            central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, *entry) + encoded)
    directory = b"".join(central)
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), len(directory), len(out), 0
    )
    target.write_bytes(bytes(out) + directory + end)
    return target
