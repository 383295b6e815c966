"""库存卡 in the browser: a township clerk works a stock card from the work list (a failed
second issuance, 回收登记), finds it on the recovery list, exports it and marks it entered
into the provincial system; then carries out the 注销 of a deceased holder's card."""

import datetime

import openpyxl
from playwright.sync_api import expect

from issuance.models import CancellationRequest, CardStatus, LedgerEvent, ProvincialEntry
from roster.services import person_mark_deceased
from tests.factories import PersonFactory
from tests.issuance.stockdata import old_card

from .conftest import login, menu


def test_failed_second_issuance_recovery_provincial_entry_and_cancellation(
    live_server,
    clerk_a,
    collector_a,
    branch_a,
    person_a,
    village_a,
    page,
    tmp_path,
    ledger_flushable,
):
    card = old_card(branch_a, person_a, number="M20250001")
    deceased = PersonFactory(township=village_a.township, village=village_a, name="王德明")
    dead_card = old_card(branch_a, deceased, number="M20250002")
    person_mark_deceased(
        person=deceased,
        acting_user=collector_a,
        death_date=datetime.date(2026, 10, 3),
        source="村委会死亡证明",
    )

    login(page, live_server, clerk_a)
    menu(page).get_by_role("link", name="库存/睡眠卡").click()
    row = page.get_by_test_id("stock-row").filter(has_text="张桂芬")
    expect(row).to_contain_text(person_a.masked_id_number)
    expect(row).to_contain_text("尚未联系")
    row.get_by_test_id("open-card").click()

    form = page.get_by_test_id("attempt-form")
    form.get_by_label("联系方式").select_option(label="电话联系")
    form.get_by_label("联系对象").fill("本人")
    form.get_by_label("联系结果").select_option(label="联系不上")
    form.get_by_test_id("attempt-submit").click()
    expect(page.locator(".errorlist")).to_contain_text("必须写明原因")

    form = page.get_by_test_id("attempt-form")
    form.get_by_label("原因/备注").fill("电话三次无人接听，村小组长说已外出务工")
    form.get_by_test_id("attempt-submit").click()
    expect(page.locator(".messages li.success")).to_contain_text("已登记联系记录：联系不上")
    expect(page.get_by_test_id("attempt-row")).to_have_count(1)

    recover = page.get_by_test_id("recover-form")
    expect(recover.get_by_label("回收原因")).to_have_value(
        "二次发放未成功（联系不上）：电话三次无人接听，村小组长说已外出务工"
    )
    recover.get_by_label("保管地点").fill("金碧镇社保中心档案柜")
    recover.get_by_test_id("recover-submit").click()
    expect(page.locator(".messages li.success")).to_contain_text("已办理回收登记")
    expect(page.get_by_test_id("card-status")).to_have_text("已回收")
    expect(page.get_by_test_id("card-custody")).to_contain_text("乡镇社保中心")
    card.refresh_from_db()
    assert card.status == CardStatus.RECOVERED

    menu(page).get_by_role("link", name="回收清单").click()
    rows = page.get_by_test_id("recovery-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("M20250001")
    expect(rows.first).to_contain_text("电话三次无人接听")
    expect(rows.first).not_to_contain_text(person_a.id_number)

    with page.expect_download() as download_info:
        page.get_by_test_id("recovery-export").click()
    saved = tmp_path / "recoveries.xlsx"
    download_info.value.save_as(saved)
    assert download_info.value.suggested_filename.startswith("回收清单_")
    sheet = list(openpyxl.load_workbook(saved).active.iter_rows(values_only=True))
    assert len(sheet) == 2 and sheet[1][3:6] == ("M20250001", "张桂芬", person_a.id_number)

    rows.first.get_by_role("checkbox").check()
    page.get_by_test_id("mark-entered").click()
    expect(page.locator(".messages li.success")).to_contain_text("已登记 1 条")
    expect(page.get_by_test_id("recovery-empty")).to_be_visible()
    assert ProvincialEntry.objects.get().entered_by == clerk_a

    menu(page).get_by_role("link", name="待注销").click()
    pending = page.get_by_test_id("cancellation-row")
    expect(pending).to_have_count(1)
    expect(pending.first).to_contain_text("王德明")
    expect(pending.first).to_contain_text("持卡人已死亡")
    pending.first.get_by_test_id("carry-out").click()
    expect(page.locator(".messages li.success")).to_contain_text("已注销王德明的社保卡M20250002")
    expect(page.get_by_test_id("cancellation-row")).to_have_count(0)

    dead_card.refresh_from_db()
    assert dead_card.status == CardStatus.CANCELLED
    assert dead_card.ledger_entries.latest("sequence").event == LedgerEvent.CANCELLED
    request = CancellationRequest.objects.get(card=dead_card)
    assert request.status == CancellationRequest.Status.DONE and request.closed_at is not None
