"""交接 in the browser (issue 10's acceptance): the county hands a box of 50 cards to a
township, which confirms 49 by scanning them and records the missing one with a reason;
a card not on the sheet turns up in the box and is recorded as an extra."""

from playwright.sync_api import expect

from issuance.models import Card, CardStatus, CustodyKind, Handover, HandoverStatus
from issuance.services import card_status_from_ledger
from tests.issuance.handoverdata import stock_box

from .conftest import login, menu


def test_county_hands_50_cards_to_a_township_which_confirms_49_and_one_missing(
    live_server, county_admin, clerk_a, village_a, new_page, ledger_flushable
):
    box = stock_box(village_a, 50)
    stray = stock_box(village_a, 1, prefix="S")[0]

    county = login(new_page(), live_server, county_admin)
    menu(county).get_by_role("link", name="交接").click()
    expect(county.get_by_role("heading", level=1)).to_have_text("社保卡交接")
    county.get_by_test_id("handover-new").click()
    candidates = county.get_by_test_id("candidate-table")
    expect(candidates.locator("tbody tr")).to_have_count(51)
    expect(candidates).to_contain_text(box[0].person.masked_id_number)
    expect(candidates).not_to_contain_text(box[0].person.id_number)
    county.get_by_role("combobox", name="接收方").select_option(label="金碧镇社保中心")
    county.get_by_label("接收方责任人").fill("李接收")
    county.get_by_label("保管地点").fill("金碧镇社保中心档案室")
    # The box goes over by the reader: each scan lands on the list, Enter does not submit.
    scan = county.get_by_test_id("scan-input")
    for card in box:
        scan.fill(card.card_number)
        scan.press("Enter")
    expect(county.get_by_test_id("scan-count")).to_have_text("已录入 50 张")
    county.get_by_test_id("handover-submit").click()

    handover = Handover.objects.get()
    expect(county.get_by_role("heading", level=1)).to_contain_text(f"交接单 {handover.number}")
    expect(county.locator(".messages li.success")).to_contain_text("共 50 张卡")
    expect(county.get_by_test_id("handover-status")).to_have_text("待接收")
    assert handover.card_count == 50 and handover.receiver_name == "金碧镇社保中心"
    sheet = county.request.get(f"{live_server.url}/issuance/handovers/{handover.pk}/sheet.pdf")
    assert sheet.ok and sheet.headers["content-type"] == "application/pdf"
    assert Card.objects.get(pk=stray.pk).status == CardStatus.IN_STOCK

    township = login(new_page(), live_server, clerk_a)
    menu(township).get_by_role("link", name="交接").click()
    tabs = township.get_by_test_id("handover-tabs")
    tabs.get_by_role("link", name="待我接收（1）").click()
    township.get_by_role("link", name=handover.number).click()
    township.get_by_test_id("handover-receive").click()

    expected = township.get_by_test_id("expected-table")
    expect(township.get_by_test_id("expected-row")).to_have_count(50)
    missing = box[17]
    scan = township.get_by_test_id("scan-input")
    for card in box:
        if card != missing:
            scan.fill(card.card_number)
            scan.press("Enter")
    expect(expected.locator("tr.scanned")).to_have_count(49)
    expect(expected.locator(f"tr[data-card-number='{missing.card_number}']")).to_contain_text(
        "未扫描"
    )
    scan.fill(stray.card_number)
    scan.press("Enter")
    expect(township.get_by_test_id("scan-count")).to_have_text(
        "应到 50 张，已扫描到 49 张，未扫描 1 张，多出 1 张"
    )
    township.get_by_label(f"卡号{stray.card_number}多出的原因").fill("混装在本箱内，待退回县局")

    # Submitting without the missing card's reason is refused, and nothing is lost.
    township.get_by_test_id("receive-scanned").click()
    expect(township.get_by_test_id("receive-errors")).to_contain_text(missing.card_number)
    expect(township.get_by_test_id("receive-errors")).to_contain_text("请逐张填写未到卡原因")
    expect(expected.locator("tr.scanned")).to_have_count(49)
    assert Handover.objects.get().status == HandoverStatus.PENDING

    township.get_by_label(f"{missing.card_number}未到卡原因").fill("箱内无此卡，已电话告知县局")
    township.get_by_test_id("receive-scanned").click()

    expect(township.get_by_test_id("handover-status")).to_have_text("已接收（有差异）")
    expect(township.locator(".messages li.warning")).to_contain_text("已接收 49 张；未到卡 1 张")
    differences = township.get_by_test_id("handover-differences")
    expect(differences).to_contain_text(f"{missing.card_number} {missing.person.name}")
    expect(differences).to_contain_text("箱内无此卡，已电话告知县局")
    expect(differences).to_contain_text("混装在本箱内，待退回县局")
    expect(township.get_by_test_id("handover-counts")).to_contain_text("已接收 49，未到卡 1")
    row = township.get_by_test_id("item-row").filter(has_text=missing.card_number)
    expect(row).to_contain_text("未到卡")
    expect(row).to_contain_text("在途")

    cards = {c.pk: c for c in Card.objects.filter(pk__in=[c.pk for c in box])}
    assert cards[missing.pk].status == CardStatus.IN_TRANSIT
    received = [c for pk, c in cards.items() if pk != missing.pk]
    assert {c.status for c in received} == {CardStatus.IN_STOCK}
    assert {c.custody_kind for c in received} == {CustodyKind.TOWNSHIP}
    assert all(c.status == card_status_from_ledger(c) for c in cards.values())
