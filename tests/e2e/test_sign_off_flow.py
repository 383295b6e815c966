"""集中发放 in the browser: a village collector prints the sign-off sheet of their village,
records the day (some holders signed, the rest stay in stock), finds the issue on a card's
page, and a 代领 without an approval is refused there with its reason."""

import subprocess

from playwright.sync_api import expect

from issuance.models import Card, CardStatus, LedgerEntry, LedgerEvent, SignOffSheet
from tests.factories import BankBranchFactory, UserFactory
from tests.issuance.issuing import village_with_cards

from .conftest import login, menu

NAMES = ["张桂芬", "李文军", "王秀兰", "杨春梅", "赵志华"]


def test_collector_prints_the_sheet_and_records_the_day(
    live_server, collector_a, village_a, village_b, page, tmp_path, ledger_flushable
):
    admin = UserFactory(username="e2e_admin", role="county_admin", township=None)
    branch = BankBranchFactory(name="金碧信用社", township=village_a.township)
    cards = {c.person.name: c for c in village_with_cards(village_a, branch, admin, NAMES)}
    village_with_cards(
        village_b,
        BankBranchFactory(name="石羊信用社", township=village_b.township),
        admin,
        ["外乡人"],
        first=9,
    )

    login(page, live_server, collector_a)
    menu(page).get_by_role("link", name="集中发放").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("集中发放签收表")
    page.get_by_test_id("sign-off-new").click()
    form = page.get_by_test_id("sign-off-form")
    form.get_by_label("村（社区）").select_option(label="金碧镇 大河社区（待发放 5 张）")
    expect(form.get_by_label("村（社区）").locator("option")).to_have_count(2)  # 请选择 + own
    form.get_by_label("发放地点").fill("大河社区居委会会议室")
    form.get_by_role("button", name="生成签收表").click()

    sheet = SignOffSheet.objects.get()
    expect(page.locator(".messages li.success")).to_contain_text("共 5 张社保卡")
    expect(page.get_by_test_id("sheet-status")).to_have_text("未登记")
    rows = page.get_by_test_id("sheet-rows")
    expect(rows.locator("tbody tr")).to_have_count(5)
    expect(rows).not_to_contain_text("外乡人")

    href = page.get_by_test_id("sheet-pdf").get_attribute("href")
    pdf = page.request.get(f"{live_server.url}{href}")
    assert pdf.headers["content-type"] == "application/pdf"
    (tmp_path / "sheet.pdf").write_bytes(pdf.body())
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "sheet.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "社会保障卡集中发放签收表" in text and "大河社区" in text
    assert all(name in text for name in NAMES) and "外乡人" not in text
    assert "本表共列社会保障卡 5 张" in text

    page.get_by_test_id("sheet-record").click()
    record = page.get_by_test_id("record-form")
    for name in ("张桂芬", "王秀兰", "赵志华"):
        record.get_by_label(f"{name}已签收").check()
    record.get_by_label("已核验每位签收人的身份证件").check()
    record.get_by_role("button", name="登记发放结果").click()

    expect(page.locator(".messages li.success")).to_contain_text(
        "本人签收 3 人，代领 0 人，未领取 2 人（仍在库存）"
    )
    expect(page.get_by_test_id("sheet-status")).to_have_text("已登记")
    expect(page.get_by_test_id("sheet-record")).to_have_count(0)
    status = dict(Card.objects.values_list("person__name", "status"))
    assert [n for n in NAMES if status[n] == CardStatus.ISSUED] == ["张桂芬", "王秀兰", "赵志华"]
    assert status["李文军"] == status["杨春梅"] == CardStatus.IN_STOCK
    assert SignOffSheet.objects.get().recorded_by == collector_a

    page.get_by_test_id("sheet-rows").get_by_role("link", name="王秀兰").click()
    expect(page.get_by_test_id("card-status")).to_have_text("已发放")
    issued = page.get_by_test_id("ledger-entry").last
    expect(issued).to_contain_text("发放")
    expect(issued.get_by_test_id("entry-method")).to_have_text("集中发放")
    expect(issued.get_by_test_id("entry-signee")).to_have_text("王秀兰")
    expect(issued).to_contain_text("大河社区居委会会议室")
    expect(issued).to_contain_text(sheet.number)
    expect(page.get_by_test_id("issue-form")).to_have_count(0)

    # 李文军 did not come: someone else asks for his card, without an approval on record.
    page.goto(f"{live_server.url}/issuance/issue/cards/{cards['李文军'].pk}/")
    issue = page.get_by_test_id("issue-form")
    expect(issue.get_by_label("签收人")).to_have_value("李文军")
    expect(issue.get_by_label("代领人姓名")).to_be_hidden()
    issue.get_by_label("发放方式").select_option(label="经批准代领")
    expect(issue.get_by_label("签收人")).to_be_hidden()
    issue.get_by_label("代领人姓名").fill("李大军")
    issue.get_by_label("代领人身份证号码").fill("53232619800517001X")
    issue.get_by_label("已核验身份证件").check()
    issue.get_by_role("button", name="确认发放").click()

    expect(page.get_by_test_id("issue-error")).to_contain_text(
        "系统中没有持卡人李文军的代管（代领）审批，不能发放给代领人李大军"
    )
    expect(page.get_by_test_id("issue-form").get_by_label("代领人姓名")).to_have_value("李大军")
    assert Card.objects.get(pk=cards["李文军"].pk).status == CardStatus.IN_STOCK
    assert not LedgerEntry.objects.filter(card=cards["李文军"], event=LedgerEvent.ISSUED).exists()
