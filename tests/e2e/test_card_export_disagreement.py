"""The sample card-system export imported into the demo county, as the administrator does it.

The export (494 records) covers far fewer cards than the demo county's ledger knows: it
stops at a preview, the administrator takes it as complete, and every holder of an
activated card whom the export lacks stays 已制卡, shown as a disagreement, never sent
back to verification.
"""

import shutil
from pathlib import Path

from playwright.sync_api import expect

from dashboard.demo import demo_seed
from issuance.models import CardStatus
from roster.models import Person
from roster.selectors import work_queue

from .conftest import login
from .jobs import JOB_TIMEOUT_MS, open_import_form, submit_import

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "samples" / "card_export.xlsx"


def test_a_short_export_leaves_activated_holders_made_and_shows_the_disagreement(
    live_server, county_admin, new_page, tmp_path, ledger_flushable
):
    demo_seed(persons=1500, seed=2026)
    activated = list(Person.objects.filter(cards__status=CardStatus.ACTIVATED).order_by("pk")[:400])
    upload = tmp_path / "卡务系统导出.xlsx"
    shutil.copyfile(SAMPLE, upload)

    page = login(new_page(), live_server, county_admin)
    open_import_form(page)
    submit_import(page, kind="卡务系统导出", file=upload)

    # ---- the preview: nothing written yet, two ways on ---------------------------------
    expect(page.get_by_test_id("job-status")).to_have_text("待确认", timeout=JOB_TIMEOUT_MS)
    expect(page.get_by_test_id("job-confirm")).to_contain_text("明显少于")
    expect(page.get_by_test_id("job-preview")).to_contain_text("其中将变为无制卡信息的人数")
    assert not Person.objects.filter(classification__snapshot__isnull=False).exists()
    page.get_by_test_id("confirm-complete").click()
    expect(page.get_by_test_id("job-status")).to_have_text("已完成", timeout=JOB_TIMEOUT_MS)

    # ---- the comparison page leads to the disagreement ---------------------------------
    page.locator("header.top nav").get_by_role("link", name="数据比对").click()
    page.get_by_role("link", name="两方记录不一致的人员").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("两方记录不一致")
    count = int(page.get_by_test_id("disagreement-count").inner_text())
    assert count >= len(activated) > 0
    table = page.get_by_test_id("disagreement-table")
    expect(table).to_contain_text("已激活")
    expect(table).to_contain_text("无制卡信息")

    # ---- one activated holder: both witnesses, what to do, class unchanged -------------
    holder = activated[0]
    page.goto(f"{live_server.url}/roster/persons/{holder.pk}/")
    expect(page.get_by_test_id("export-class")).to_contain_text("无制卡信息")
    expect(page.get_by_test_id("ledger-status")).to_contain_text("已激活")
    expect(page.get_by_test_id("disagreement")).to_contain_text("处理建议")
    page.goto(f"{live_server.url}/roster/persons/?card_class=card_made&q={holder.id_number}")
    expect(page.get_by_test_id("person-table")).to_contain_text(holder.name)

    # ---- no activated holder went back to verification ---------------------------------
    queue = set(work_queue(user=county_admin).values_list("pk", flat=True))
    assert not queue & {p.pk for p in activated}
