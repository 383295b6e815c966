"""The county supervisor makes the 进度通报 of a past day: the job runs on a real worker,
the page follows it with its progress bar, and both files download; the PDF carries the
figures of that day's snapshot in embedded Chinese fonts."""

import datetime
import re
import subprocess

import openpyxl
from django.utils import timezone
from playwright.sync_api import expect

from roster.progress import figures_rebuild, figures_snapshot, progress_by_township
from tests.factories import CampaignFactory, PersonFactory, put_on_list

from .conftest import login, menu
from .jobs import JOB_TIMEOUT_MS, wait_until_succeeded


def test_a_supervisor_makes_the_report_of_a_past_day(
    live_server, live_worker, supervisor, village_a, village_b, new_page, tmp_path
):
    CampaignFactory()
    put_on_list(*[PersonFactory(township=village_a.township, village=village_a) for _ in range(3)])
    put_on_list(*[PersonFactory(township=village_b.township, village=village_b) for _ in range(2)])
    figures_rebuild()
    day = timezone.localdate() - datetime.timedelta(days=2)
    figures_snapshot(day)
    # Listed after the snapshot: today's figures, not the report's.
    put_on_list(PersonFactory(township=village_b.township, village=village_b))
    figures_rebuild()
    then = {t["name"]: t for t in progress_by_township(day=day)["townships"]}
    assert (then["金碧镇"]["listed"], then["石羊镇"]["listed"]) == (3, 2)

    page = login(new_page(), live_server, supervisor)
    menu(page).get_by_role("link", name="进度通报").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("进度通报")
    form = page.get_by_test_id("report-form")
    form.get_by_label("通报日期").fill(day.isoformat())
    live_worker.hold()  # the page shows the job waiting before the worker takes it
    form.get_by_test_id("report-submit").dblclick()

    label = f"{day.year}年{day.month}月{day.day}日"
    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server.url)}/dashboard/report/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"进度通报（{label}）")
    expect(page.get_by_role("progressbar")).to_be_visible()
    live_worker.release()
    expect(page.get_by_test_id("job-status")).to_have_text("已完成", timeout=JOB_TIMEOUT_MS)
    wait_until_succeeded(page)
    expect(page.get_by_test_id("job-counts")).to_contain_text(f"{label}的每日进度快照")
    page.screenshot(path=tmp_path / "progress-report-done.png", full_page=True)

    with page.expect_download() as download_info:
        page.get_by_test_id("report-pdf").click()
    download = download_info.value
    assert download.suggested_filename == f"进度通报_{label}.pdf"
    path = tmp_path / "report.pdf"
    download.save_as(path)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "大姚县社会保障卡应发尽发工作进度通报" in text
    assert f"数据来源：{label}的每日进度快照" in text
    listed = {}  # the first table naming the townships is 各乡镇进度, 名单人数 first
    for line in text.splitlines():
        words = line.split()
        if words and words[0] in ("金碧镇", "石羊镇"):
            listed.setdefault(words[0], words[1])
    assert listed == {"金碧镇": "3", "石羊镇": "2"}
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    assert all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:])

    with page.expect_download() as download_info:
        page.get_by_test_id("report-xlsx").click()
    download = download_info.value
    assert download.suggested_filename == f"进度通报_{label}.xlsx"
    book_path = tmp_path / "report.xlsx"
    download.save_as(book_path)
    sheet = openpyxl.load_workbook(book_path)["各乡镇"]
    listed = {row[1]: row[3] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert (listed["金碧镇"], listed["石羊镇"]) == (3, 2)

    # The double click queued one report.
    page.get_by_role("link", name="返回进度通报").click()
    expect(page.get_by_test_id("report-list").locator("tbody tr")).to_have_count(1)


def test_the_source_line_follows_the_chosen_day(live_server, supervisor, new_page):
    """Seen on the demo: after picking a past day the form still said 按实时数据生成 (it
    described today, the default), though the report of that day reads its snapshot."""
    CampaignFactory()
    page = login(new_page(viewport={"width": 375, "height": 800}), live_server, supervisor)
    page.goto(f"{live_server.url}/dashboard/report/")
    form = page.get_by_test_id("report-form")
    source = page.get_by_test_id("report-source")
    expect(source).to_have_text("按实时数据生成")

    past = timezone.localdate() - datetime.timedelta(days=3)
    form.get_by_label("通报日期").fill(past.isoformat())
    expect(source).to_contain_text("每日进度快照")
    expect(source).not_to_contain_text("实时")

    form.get_by_label("通报日期").fill(timezone.localdate().isoformat())
    expect(source).to_have_text("按实时数据生成")
