"""批量制卡 in the browser: a township clerk makes a batch, downloads the bank's zip, marks
it sent, imports the bank's result and finds the failed persons back in the queue."""

import io
import zipfile

import openpyxl
import pytest
from playwright.sync_api import expect

from issuance.models import ApplicationBatch, BatchStatus, Card, CardStatus
from tests.factories import BankFactory
from tests.issuance.batchdata import RESULT_XLSX, fixture_persons, ready_person

from .conftest import login, menu


@pytest.fixture
def ready_a(village_a, village_b):
    """The five persons the sample result names, with photos; one of another township."""
    BankFactory()
    ready_person(village_b, name="外乡人")
    return {p.name: p for p in fixture_persons(village_a, photo=True)}


def test_clerk_makes_a_batch_and_brings_back_the_banks_result(
    live_server, clerk_a, ready_a, page, tmp_path, ledger_flushable
):
    login(page, live_server, clerk_a)
    menu(page).get_by_role("link", name="批量制卡").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("批量制卡（申领批次）")
    page.get_by_test_id("batch-new").click()

    candidates = page.get_by_test_id("candidate-table")
    expect(candidates.locator("tbody tr")).to_have_count(5)
    expect(candidates).not_to_contain_text("外乡人")
    expect(candidates).to_contain_text("532326********001X")
    expect(candidates).not_to_contain_text("53232619800517001X")
    page.get_by_label("合作银行").select_option(label="农信社")
    page.get_by_test_id("select-page").check()
    expect(candidates.locator("input[name=person]:checked")).to_have_count(5)
    page.get_by_test_id("batch-submit").click()

    batch = ApplicationBatch.objects.get()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"申领批次 {batch.number}")
    expect(page.locator(".messages li.success")).to_contain_text("共 5 人，已登记申领")
    expect(page.get_by_test_id("batch-status")).to_have_text("草稿")
    expect(page.get_by_test_id("member-row")).to_have_count(5)
    expect(page.get_by_test_id("member-table")).to_contain_text("已申领")

    with page.expect_download() as download_info:
        page.get_by_test_id("batch-download").click()
    download = download_info.value
    assert download.suggested_filename == f"申领批次{batch.number}（农信社）.zip"
    saved = tmp_path / "batch.zip"
    download.save_as(saved)
    archive = zipfile.ZipFile(saved)
    photos = sorted(n for n in archive.namelist() if n.startswith("照片/"))
    assert photos == sorted(f"照片/{p.id_number}.jpg" for p in ready_a.values())
    sheet = openpyxl.load_workbook(io.BytesIO(archive.read(f"申领批次{batch.number}.xlsx"))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("序号", "姓名", "性别") and "照片文件名" in rows[0]
    assert sorted(r[7] for r in rows[1:]) == sorted(p.id_number for p in ready_a.values())

    page.get_by_test_id("batch-send").click()
    expect(page.locator(".messages li.success")).to_contain_text("已标记为已报送")
    expect(page.get_by_test_id("batch-status")).to_have_text("已报送")
    expect(page.get_by_test_id("member-table")).to_contain_text("制卡中")
    expect(page.get_by_test_id("batch-send")).to_have_count(0)

    page.get_by_test_id("batch-result").click()
    page.get_by_label("银行回盘文件").set_input_files(RESULT_XLSX)
    page.get_by_role("button", name="上传并导入").click()

    summary = page.get_by_test_id("result-summary")
    expect(summary).to_contain_text("制卡成功")
    problems = page.get_by_test_id("result-problems")
    expect(problems.locator("tbody tr")).to_have_count(2)
    expect(problems.locator("tr", has_text="第 7 行")).to_contain_text("不在本批次中")
    expect(problems.locator("tr", has_text="第 8 行")).to_contain_text("科学计数法")
    made = Card.objects.get(card_number="J00012341")
    assert made.status == CardStatus.IN_STOCK and made.person == ready_a["陈建国"]
    assert ApplicationBatch.objects.get().status == BatchStatus.SENT  # 李文军 still out

    menu(page).get_by_role("link", name="核查队列").click()
    queue = page.get_by_test_id("queue-table")
    expect(queue.locator("tbody tr")).to_have_count(2)
    expect(queue.locator("tr", has_text="杜秀英")).to_contain_text("照片不合格：背景不是白色")
    expect(queue.locator("tr", has_text="王秀兰")).to_contain_text("证件已过期，请更新证件有效期")
    expect(queue).not_to_contain_text("陈建国")

    queue.locator("tr", has_text="杜秀英").get_by_role("link", name="核查").click()
    expect(page.get_by_test_id("card-failure")).to_contain_text("照片不合格：背景不是白色")
