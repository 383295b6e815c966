"""发放台账: the rows, the signed PDF (text, fonts, signature), Excel, the job, the page
and ``manage.py ledger pdf``."""

import io
import stat
import subprocess
import sys
import types

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import execute_from_command_line
from django.urls import reverse
from django.utils import timezone

from dayao_sscard.jobs import job_run
from dayao_sscard.models import AuditEvent, Job, JobKind, JobStatus
from dayao_sscard.roles import Role
from issuance.chain import chain_head
from issuance.ledger_exports import (
    EXCEL,
    PDF,
    ledger_export_start,
    ledger_pdf_bytes,
    ledger_xlsx_write,
)
from issuance.ledger_report import ledger_place, ledger_report
from issuance.signing import SIGNER_NAME
from tests.factories import BankBranchFactory, UserFactory, VillageFactory, township
from tests.issuance.ledgerdata import ledger_cards

TOWNSHIP_A, TOWNSHIP_B = "532326101", "532326102"  # 金碧镇, 石羊镇


@pytest.fixture(autouse=True)
def _signing_in_tmp(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.LEDGER_SIGNING_KEY = settings.LEDGER_SIGNING_CERT = ""
    settings.LEDGER_PDF_WORKERS = 1


@pytest.fixture
def world(db):
    admin = UserFactory(username="l_admin", role=Role.COUNTY_ADMIN, township=None)
    jinbi, shiyang = township(TOWNSHIP_A), township(TOWNSHIP_B)
    dahe = VillageFactory(township=jinbi, name="大河社区")
    xiaohe = VillageFactory(township=jinbi, name="小河村")
    elsewhere = VillageFactory(township=shiyang, name="石羊社区")
    ledger_cards(dahe, count=4, acting_user=admin, issued=2, names=["张桂芬", "李秀英", "王建国"])
    ledger_cards(xiaohe, count=3, acting_user=admin, names=["赵春梅"])
    ledger_cards(elsewhere, count=2, acting_user=admin, names=["杨外乡"])
    return types.SimpleNamespace(
        admin=admin,
        jinbi=jinbi,
        dahe=dahe,
        xiaohe=xiaohe,
        clerk=UserFactory(role=Role.TOWNSHIP_STAFF, township=jinbi),
        clerk_b=UserFactory(role=Role.TOWNSHIP_STAFF, township=shiyang),
        collector=UserFactory(role=Role.VILLAGE_COLLECTOR, township=jinbi, village=dahe),
        supervisor=UserFactory(role=Role.COUNTY_SUPERVISOR, township=None),
    )


def pdftotext(data: bytes, tmp_path) -> str:
    path = tmp_path / "ledger.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def pdfsig(path) -> str:
    return subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout


class TestTheRows:
    def test_every_card_of_the_township_village_by_village(self, world):
        report = ledger_report(user=world.clerk, township=world.jinbi)
        assert [v.name for v in report.villages] == ["大河社区", "小河村"]
        assert report.card_count == 7
        zhang = next(r for r in report.villages[0].rows if r.holder == "张桂芬")
        assert zhang.masked_id_number.startswith("532326") and "*" in zhang.masked_id_number
        assert (zhang.signee, zhang.method, zhang.status) == ("张桂芬", "集中发放", "已发放")
        steps = [str(step) for step in zhang.handovers]
        assert len(steps) == 3
        assert steps[1].endswith("杨丽华→金碧镇社保中心（已接收）")
        assert steps[2].endswith("李建华→大河社区村委会")
        assert dict(report.status_counts) == {"在途": 5, "已发放": 2}

    def test_a_few_queries_however_many_cards(self, world, django_assert_max_num_queries):
        with django_assert_max_num_queries(3):
            ledger_report(user=world.admin, township=world.jinbi)

    def test_a_collector_reads_their_village_only(self, world):
        with pytest.raises(PermissionDenied):
            ledger_place(user=world.collector, township_code=TOWNSHIP_A)
        township, village = ledger_place(
            user=world.collector, township_code=TOWNSHIP_A, village_name="大河社区"
        )
        assert (
            ledger_report(user=world.collector, township=township, village=village).card_count == 4
        )

    def test_another_township_is_refused(self, world):
        with pytest.raises(PermissionDenied):
            ledger_place(user=world.clerk_b, township_code=TOWNSHIP_A)
        # Before its villages are looked up: a refusal tells nothing about them.
        with pytest.raises(PermissionDenied):
            ledger_place(user=world.clerk_b, township_code=TOWNSHIP_A, village_name="无此村")

    def test_unknown_places_are_named_in_chinese(self, world):
        with pytest.raises(ValidationError, match="没有区划代码或名称为“999”的乡镇"):
            ledger_place(user=world.admin, township_code="999")
        with pytest.raises(ValidationError, match="金碧镇没有名为“无此村”的村（社区）"):
            ledger_place(user=world.admin, township_code=TOWNSHIP_A, village_name="无此村")

    def test_bank_staff_may_not(self, world):
        banker = UserFactory(role=Role.BANK_STAFF, township=None, bank_branch=BankBranchFactory())
        with pytest.raises(PermissionDenied):
            ledger_report(user=banker, township=world.jinbi)


class TestThePdf:
    def test_its_text_holds_the_names_the_counts_and_the_signature_lines(self, world, tmp_path):
        pdf = ledger_pdf_bytes(ledger_report(user=world.admin, township=world.jinbi))
        text = pdftotext(pdf, tmp_path)
        for expected in ("社会保障卡发放台账", "金碧镇", "大河社区（4 张）", "小河村（3 张）"):
            assert expected in text
        for name in ("张桂芬", "李秀英", "王建国", "赵春梅"):
            assert name in text
        assert "杨外乡" not in text
        assert "乡镇负责人（签字）" in text and "经办人（签字）" in text
        assert "生成时间：" in text
        pages, compact = text.count("\f"), text.replace(" ", "")
        assert pages > 1
        assert f"第1页/共{pages}页" in compact and f"第{pages}页/共{pages}页" in compact
        summary = text.split("汇总", 1)[1]
        assert "在途" in summary and "已发放" in summary and "合计" in summary

    def test_the_days_chain_head_is_printed(self, world, tmp_path):
        report = ledger_report(user=world.admin, township=world.jinbi, village=world.dahe)
        text = pdftotext(ledger_pdf_bytes(report), tmp_path)
        head = chain_head(timezone.localdate(report.generated_at))
        assert len(head) == 64
        # pdftotext may break the 64 characters over lines: compare without white space.
        assert "台账链头（截至" in text and head in "".join(text.split())

    def test_its_fonts_are_embedded(self, world, tmp_path):
        path = tmp_path / "ledger.pdf"
        path.write_bytes(ledger_pdf_bytes(ledger_report(user=world.admin, township=world.jinbi)))
        fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
        rows = fonts.splitlines()[2:]
        assert rows and all("Noto" in row for row in rows), fonts
        assert all(row.split()[-5] == "yes" for row in rows), fonts  # the emb column

    def test_its_signature_verifies_until_one_byte_changes(self, world, tmp_path):
        path = tmp_path / "ledger.pdf"
        data = ledger_pdf_bytes(ledger_report(user=world.admin, township=world.jinbi))
        path.write_bytes(data)
        report = pdfsig(path)
        assert "Signature is Valid" in report and SIGNER_NAME in report
        assert "Total document signed" in report
        changed = bytearray(data)
        at = data.index(b"stream") + 200  # in the first page's content: the first signed range
        changed[at] ^= 0x01
        path.write_bytes(bytes(changed))
        assert "Signature is Valid" not in pdfsig(path)
        assert "Signature is Invalid" in pdfsig(path) or "Digest Mismatch" in pdfsig(path)

    def test_the_generated_key_is_private(self, world, settings):
        ledger_pdf_bytes(
            ledger_report(user=world.admin, township=world.jinbi, village=world.xiaohe)
        )
        key = settings.DATA_DIR / "ledger_signing" / "key.pem"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        before = key.read_bytes()
        ledger_pdf_bytes(
            ledger_report(user=world.admin, township=world.jinbi, village=world.xiaohe)
        )
        assert key.read_bytes() == before  # made once, then reused

    def test_villages_printed_in_worker_processes_make_the_same_ledger(
        self, world, tmp_path, settings, monkeypatch
    ):
        settings.LEDGER_PDF_WORKERS = 2
        monkeypatch.setattr("issuance.ledger_exports.PARALLEL_FROM_CARDS", 1)
        spawned = []
        real_popen = subprocess.Popen

        def popen(args, **kwargs):
            spawned.append(args[1:])
            return real_popen(args, **kwargs)

        monkeypatch.setattr("dayao_sscard.pdf.subprocess.Popen", popen)
        pdf = ledger_pdf_bytes(ledger_report(user=world.admin, township=world.jinbi))
        text = pdftotext(pdf, tmp_path)
        assert text.index("大河社区（4 张）") < text.index("小河村（3 张）") < text.index("汇总")
        assert "赵春梅" in text
        assert spawned.count(["-m", "dayao_sscard.pdf_worker"]) == 2


def test_the_excel_file_has_the_same_rows(world):
    stream = io.BytesIO()
    report = ledger_report(user=world.supervisor, township=world.jinbi)
    assert ledger_xlsx_write(report, stream) == 7
    rows = list(openpyxl.load_workbook(stream).active.iter_rows(values_only=True))
    assert rows[0][:6] == ("序号", "村（社区）", "卡号", "持卡人", "身份证号（脱敏）", "发卡银行")
    zhang = next(r for r in rows if r[3] == "张桂芬")
    assert zhang[1] == "大河社区" and "*" in zhang[4]
    assert "李建华→大河社区村委会" in zhang[6]
    assert zhang[10:] == ("张桂芬", "集中发放", "已发放")
    assert len(rows) == 8


class TestTheJob:
    @pytest.mark.parametrize("fmt", [PDF, EXCEL])
    def test_a_clerk_starts_it_and_gets_the_file(self, world, fmt, tmp_path):
        job = ledger_export_start(
            acting_user=world.clerk, township_code=TOWNSHIP_A, village_name="小河村", fmt=fmt
        )
        assert job.kind == JobKind.LEDGER and job.status == JobStatus.QUEUED
        job_run(job.pk)
        job = Job.objects.get(pk=job.pk)
        assert job.status == JobStatus.SUCCEEDED, job.error
        assert job.counts == {"卡数": 3, "村（社区）数": 1}
        assert job.result_name.startswith("发放台账_金碧镇小河村_") and job.result_name.endswith(
            fmt
        )
        data = job.result_file.read()
        if fmt == PDF:
            assert "赵春梅" in pdftotext(data, tmp_path)
        else:
            assert openpyxl.load_workbook(io.BytesIO(data)).active.max_row == 4
        assert AuditEvent.objects.filter(
            action="issuance.ledger.exported", actor=world.clerk
        ).exists()

    def test_another_townships_clerk_asks_for_their_own_township_only(self, world, client):
        client.force_login(world.clerk_b)
        client.post(reverse("issuance:ledger"), {"township": TOWNSHIP_A, "format": "pdf"})
        assert Job.objects.get().params["township"] == TOWNSHIP_B

    def test_another_townships_clerk_cannot_start_it(self, world):
        with pytest.raises(PermissionDenied):
            ledger_export_start(
                acting_user=world.clerk_b, township_code=TOWNSHIP_A, village_name="", fmt=PDF
            )
        assert not Job.objects.exists()


class TestThePage:
    def test_a_clerk_starts_a_village_ledger(self, world, client):
        client.force_login(world.clerk)
        page = client.get(reverse("issuance:ledger"))
        assert page.status_code == 200 and "小河村" in page.content.decode()
        answer = client.post(reverse("issuance:ledger"), {"village": "小河村", "format": "xlsx"})
        job = Job.objects.get()
        assert answer.status_code == 302 and answer.url == reverse("job-detail", args=[job.pk])
        assert job.params == {"township": TOWNSHIP_A, "village": "小河村", "format": "xlsx"}

    def test_the_county_chooses_the_township(self, world, client):
        client.force_login(world.supervisor)
        page = client.get(reverse("issuance:ledger"), {"township": TOWNSHIP_A})
        assert "大河社区" in page.content.decode()
        client.post(reverse("issuance:ledger"), {"township": TOWNSHIP_A, "format": "pdf"})
        assert Job.objects.get().params["village"] == ""

    def test_a_collector_gets_their_own_village_whatever_they_send(self, world, client):
        client.force_login(world.collector)
        client.post(reverse("issuance:ledger"), {"village": "小河村", "format": "pdf"})
        assert Job.objects.get().params["village"] == "大河社区"

    def test_an_unknown_village_is_refused_on_the_page(self, world, client):
        client.force_login(world.clerk)
        answer = client.post(reverse("issuance:ledger"), {"village": "无此村", "format": "pdf"})
        assert answer.status_code == 400
        assert "金碧镇没有名为“无此村”的村（社区）" in answer.content.decode()
        assert not Job.objects.exists()

    def test_bank_staff_may_not_open_it(self, world, client):
        client.force_login(
            UserFactory(role=Role.BANK_STAFF, township=None, bank_branch=BankBranchFactory())
        )
        assert client.get(reverse("issuance:ledger")).status_code == 403


class TestTheCommand:
    def test_it_writes_the_signed_pdf(self, world, tmp_path, capsys):
        out = tmp_path / "台账.pdf"
        execute_from_command_line(
            [
                "manage.py",
                "ledger",
                "pdf",
                "--township",
                "金碧镇",  # its name serves as well as its code
                "--village",
                "大河社区",
                "--out",
                str(out),
            ]
        )
        assert "Signature is Valid" in pdfsig(out)
        text = pdftotext(out.read_bytes(), tmp_path)
        assert "张桂芬" in text and "赵春梅" not in text
        assert "4 张社保卡" in capsys.readouterr().out

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--township", "999"], "没有区划代码或名称为“999”的乡镇"),
            (
                ["--township", TOWNSHIP_A, "--village", "无此村"],
                "金碧镇没有名为“无此村”的村（社区）",
            ),
        ],
    )
    def test_unknown_places_exit_non_zero_in_chinese(self, world, tmp_path, capsys, args, message):
        out = tmp_path / "台账.pdf"
        with pytest.raises(SystemExit) as exited:
            execute_from_command_line(["manage.py", "ledger", "pdf", *args, "--out", str(out)])
        assert exited.value.code != 0
        assert message in capsys.readouterr().err
        assert not out.exists() and not list(tmp_path.glob(".*partial"))


class TestTheCountyCertificate:
    def test_a_configured_certificate_signs_with_its_passphrase(self, world, settings, tmp_path):
        import datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "楚雄州测试证书")])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(1)
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(key, hashes.SHA256())
        )
        (tmp_path / "county.key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(b"secret-pass"),
            )
        )
        (tmp_path / "county.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        settings.LEDGER_SIGNING_KEY = str(tmp_path / "county.key")
        settings.LEDGER_SIGNING_CERT = str(tmp_path / "county.crt")
        settings.LEDGER_SIGNING_KEY_PASSPHRASE = "secret-pass"
        path = tmp_path / "ledger.pdf"
        path.write_bytes(
            ledger_pdf_bytes(
                ledger_report(user=world.admin, township=world.jinbi, village=world.xiaohe)
            )
        )
        report = pdfsig(path)
        assert "Signature is Valid" in report and "楚雄州测试证书" in report
        assert not (settings.DATA_DIR / "ledger_signing").exists()

    def test_a_key_without_its_certificate_is_a_configuration_error(self, world, settings):
        from django.core.exceptions import ImproperlyConfigured

        settings.LEDGER_SIGNING_KEY = "/nowhere/county.key"
        with pytest.raises(ImproperlyConfigured, match="须同时配置"):
            ledger_pdf_bytes(
                ledger_report(user=world.admin, township=world.jinbi, village=world.xiaohe)
            )


def test_a_worker_that_dies_fails_the_whole_pdf(monkeypatch):
    from dayao_sscard.pdf import pdf_from_parts

    monkeypatch.setattr(
        "dayao_sscard.pdf.WORKER_COMMAND", [sys.executable, "-c", "import sys; sys.exit(3)"]
    )
    with pytest.raises(RuntimeError, match="PDF worker process ended"):
        pdf_from_parts(["<p>一</p>", "<p>二</p>"], workers=2)
