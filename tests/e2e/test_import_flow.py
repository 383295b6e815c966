"""The comparison stage as users click it: the county imports the lists, a township works them.

Imports run on a real Celery worker (fixture ``live_worker``), so the job page genuinely
follows the job: progress bar while it is queued or running, then the result.
"""

import json
import re
import shutil
from pathlib import Path

from playwright.sync_api import expect

from roster.reports import REPORT_KEYS, REPORT_LABELS
from tests.samples import SAMPLES

from .conftest import login
from .jobs import (
    download_result,
    job_counts,
    open_import_form,
    submit_import,
    wait_until_succeeded,
)

JINBI = "532326101"  # 金碧镇, clerk_a's township


def sample_copy(tmp_path: Path, name: str) -> Path:
    """A copy of a sample file, so nothing the app does can touch the original."""
    target = tmp_path / "upload" / name
    target.parent.mkdir(exist_ok=True)
    shutil.copyfile(SAMPLES / name, target)
    return target


def job_url(live_server) -> re.Pattern:
    return re.compile(rf"^{re.escape(live_server.url)}/jobs/\d+/$")


def test_county_imports_lists_and_township_works_its_comparison(
    live_server, live_worker, county_admin, clerk_a, new_page, tmp_path
):
    expected = json.loads((SAMPLES / "expected.json").read_text(encoding="utf-8"))
    jinbi_expected = expected["townships"][JINBI]

    # ---- the county administrator imports the province's first batch -------------------
    page = login(new_page(), live_server, county_admin)
    open_import_form(page)
    live_worker.hold()  # keep the task queued until the page has shown its progress bar
    submit_import(
        page,
        kind="未制卡人员名单",
        source="省第一批",
        file=sample_copy(tmp_path, "province_batch1.xlsx"),
    )

    expect(page).to_have_url(job_url(live_server))
    expect(page.get_by_role("heading", level=1)).to_have_text("导入未制卡人员名单：省第一批")
    expect(page.get_by_test_id("job-status")).to_have_text("排队中")
    expect(page.get_by_role("progressbar")).to_be_visible()
    expect(page.locator("#job-message")).to_contain_text("排队中")
    live_worker.release()

    wait_until_succeeded(page)  # the page's script polled, saw the end and reloaded
    counts = job_counts(page)
    assert counts["读取行数"] == str(expected["list_rows"]["province_batch1.xlsx"])
    assert counts["新增人员"] == "240"
    assert counts["问题行"] == "4"
    assert counts["重复行"] == "2"

    header, *rows = download_result(page, tmp_path)
    assert list(header) == ["文件", "工作表", "行号", "姓名", "身份证号码（原文）", "问题", "处理"]
    assert all(row[0] == "province_batch1.xlsx" for row in rows)
    not_imported = [row for row in rows if row[6] == "未导入"]
    ignored = [row for row in rows if row[6] == "已忽略"]
    assert len(rows) == 6
    assert sorted(row[2] for row in not_imported) == [47, 144, 170, 197]
    assert all("身份证号码" in row[5] for row in not_imported)
    assert len(ignored) == 2
    assert all("重复" in row[5] for row in ignored)

    # ---- the other sample lists, so the figures can be held against expected.json ------
    # expected.json describes all four sample files together; 金碧镇's figures differ
    # when only the province batch and the card export are imported (制卡失败 8, not 10).
    for kind, name, source in (
        ("未制卡人员名单", "prefecture_batch2.csv", "州第二批"),
        ("补贴对象名单", "subsidy_gdlb.csv", "耕地地力保护补贴"),
    ):
        open_import_form(page)
        submit_import(page, kind=kind, source=source, file=sample_copy(tmp_path, name))
        expect(page).to_have_url(job_url(live_server))
        wait_until_succeeded(page)
        assert job_counts(page)["读取行数"] != "0"

    # ---- the card system's export: no batch name needed --------------------------------
    open_import_form(page)
    submit_import(page, kind="卡务系统导出", file=sample_copy(tmp_path, "card_export.xlsx"))
    expect(page).to_have_url(job_url(live_server))
    expect(page.get_by_role("heading", level=1)).to_contain_text("导入卡务系统导出")
    wait_until_succeeded(page)
    counts = job_counts(page)
    assert counts["卡务记录"] == counts["读取行数"] != "0"
    assert counts["问题行"] == "0"

    page.get_by_role("button", name="退出").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")

    # ---- the 金碧镇 clerk looks at the comparison ----------------------------------------
    login(page, live_server, clerk_a)
    nav = page.locator("header.top nav")
    nav.get_by_role("link", name="数据比对").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("数据比对结果")

    comparison = page.get_by_test_id("comparison-table")
    township_rows = comparison.locator("tbody tr")
    expect(township_rows).to_have_count(1)  # their own township only, and no 合计 row
    row = township_rows.first
    expect(row.locator('td[data-label="乡镇"]')).to_have_text("金碧镇")
    expect(comparison).not_to_contain_text("石羊镇")
    shown = {
        key: int(row.locator(f'td[data-label="{REPORT_LABELS[key]}"]').inner_text())
        for key in REPORT_KEYS
    }
    assert shown == jinbi_expected

    villages = page.get_by_test_id("village-table")
    expect(villages).to_be_visible()
    expect(page.get_by_role("heading", level=2, name="按村（社区）：金碧镇")).to_be_visible()
    expect(villages.locator("tbody tr").first).not_to_contain_text("本乡镇暂无名单人员")
    village_rows = villages.locator("tbody tr:not(.total)")
    village_listed = sum(
        int(text) for text in village_rows.locator('td[data-label="名单人数"]').all_inner_texts()
    )
    village_failed = sum(
        int(text) for text in village_rows.locator('td[data-label="制卡失败"]').all_inner_texts()
    )
    assert village_listed == jinbi_expected["listed"]
    assert village_failed == jinbi_expected["card_failed"]
    total = villages.get_by_test_id("village-total")
    expect(total.locator('td[data-label="名单人数"]')).to_have_text(str(village_listed))
    expect(total.locator('td[data-label="制卡失败"]')).to_have_text(str(village_failed))

    # ---- the clerk opens the 制卡失败 list and exports it --------------------------------
    class_links = page.locator("p", has_text="下载本乡镇名单")
    class_links.get_by_role("link", name="制卡失败", exact=True).click()
    expect(page).to_have_url(
        f"{live_server.url}/roster/persons/?township={JINBI}&on_list=unissued&card_class=card_failed"
    )
    failed = jinbi_expected["card_failed"]
    expect(page.locator("main")).to_contain_text(f"共 {failed} 人")
    table = page.get_by_test_id("person-table")
    expect(table.locator("tbody tr")).to_have_count(failed)
    assert set(table.locator('td[data-label="乡镇"]').all_inner_texts()) == {"金碧镇"}
    assert set(table.locator('td[data-label="比对结果"]').all_inner_texts()) == {"制卡失败"}

    page.get_by_role("button", name="导出当前结果为 Excel").click()
    expect(page).to_have_url(job_url(live_server))
    wait_until_succeeded(page)

    header, *rows = download_result(page, tmp_path)
    assert header[1] == "乡镇"
    assert header[9] == "比对结果"
    assert len(rows) == failed
    assert {row[1] for row in rows} == {"金碧镇"}
    assert {row[9] for row in rows} == {"制卡失败"}


def test_township_clerk_may_only_upload_12333_results(live_server, clerk_a, collector_a, page):
    login(page, live_server, clerk_a)
    page.goto(f"{live_server.url}/roster/imports/new/")
    options = page.locator("select[name=kind] option")
    expect(options).to_have_count(1)
    expect(options).to_have_text(["12333采集结果"])
    page.get_by_role("button", name="退出").click()

    login(page, live_server, collector_a)
    response = page.goto(f"{live_server.url}/roster/imports/new/")
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("无权访问")
    expect(page.get_by_test_id("import-form")).to_have_count(0)
