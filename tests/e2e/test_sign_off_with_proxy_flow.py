"""Issue 10's acceptance, as a village clerk clicks it: the collector prints the village's
sign-off sheet and records a 集中发放 day — two holders sign themselves, one card goes to a
proxy under a valid approval, the rest stay in stock; a record whose 代领 row names a proxy
without an approval is refused as a whole with the row named. On the card pages, 代领 to
an unapproved proxy, 代领 to a cadre (a Cadre row, or a township account's display name)
the approval does not name as one, and a holder's card signed for by someone else are each
refused with their reason."""

import datetime
import subprocess

from playwright.sync_api import expect

from dayao_sscard.roles import Role
from issuance.forms import approval_label
from issuance.models import (
    Cadre,
    Card,
    CardStatus,
    CustodyKind,
    LedgerEntry,
    LedgerEvent,
    SignOffOutcome,
    SignOffSheet,
)
from tests.factories import BankBranchFactory, UserFactory, make_id_number
from tests.issuance.issuing import village_with_cards
from tests.issuance.proxydata import approved, in_group

from .conftest import login, menu

NAMES = ["张桂芬", "李文军", "王秀兰", "杨春梅", "赵志华", "罗志华"]
DAUGHTER_ID = make_id_number(birth=datetime.date(1985, 1, 9))
STRANGER_ID = make_id_number(birth=datetime.date(1990, 6, 1))
CADRE_ID = make_id_number(birth=datetime.date(1970, 7, 7))
ACCOUNTANT_ID = make_id_number(birth=datetime.date(1978, 4, 12))


def issued_entries(card):
    return LedgerEntry.objects.filter(card=card, event=LedgerEvent.ISSUED)


def test_sign_off_day_with_a_proxy_and_the_refusals(
    live_server, collector_a, clerk_a, county_admin, village_a, page, tmp_path, ledger_flushable
):
    branch = BankBranchFactory(name="金碧信用社", township=village_a.township)
    cards = {c.person.name: c for c in village_with_cards(village_a, branch, county_admin, NAMES)}
    # 杨春梅's daughter keeps her card under an approval; 赵志华's and 罗志华's approvals
    # name custodians who turn out to be cadres after they were approved.
    for name in ("杨春梅", "赵志华", "罗志华"):
        in_group(cards[name].person)
    daughter = approved(
        cards["杨春梅"].person,
        clerk_a,
        county_admin,
        custodian_name="杨小红",
        custodian_id_number=DAUGHTER_ID,
        custodian_relationship="女儿",
    )
    approved(
        cards["赵志华"].person,
        clerk_a,
        county_admin,
        custodian_name="王支书",
        custodian_id_number=CADRE_ID,
        custodian_relationship="邻居",
    )
    approved(
        cards["罗志华"].person,
        clerk_a,
        county_admin,
        custodian_name="刘会计",
        custodian_id_number=ACCOUNTANT_ID,
        custodian_relationship="侄子",
    )

    # The collector makes and prints the sheet of their village.
    login(page, live_server, collector_a)
    menu(page).get_by_role("link", name="集中发放").click()
    page.get_by_test_id("sign-off-new").click()
    form = page.get_by_test_id("sign-off-form")
    form.get_by_label("村（社区）").select_option(label="金碧镇 大河社区（待发放 6 张）")
    form.get_by_label("发放地点").fill("大河社区居委会会议室")
    form.get_by_role("button", name="生成签收表").click()
    expect(page.locator(".messages li.success")).to_contain_text("共 6 张社保卡")
    sheet = SignOffSheet.objects.get()
    position = dict(sheet.rows.values_list("card__person__name", "position"))

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
    assert "社会保障卡集中发放签收表" in text and sheet.number in text
    for name, card in cards.items():
        assert name in text and card.card_number in text
    # The remarks column wraps: 经批准代领 / 人：杨小红 / （女儿） on three lines.
    assert "经批准代领" in text and "杨小红" in text and DAUGHTER_ID not in text
    assert "本表共列社会保障卡 6 张" in text

    # The day: 张桂芬 and 王秀兰 sign themselves; someone without an approval comes for
    # 杨春梅's card — the whole record is refused, the row named, nothing kept.
    page.get_by_test_id("sheet-record").click()
    record = page.get_by_test_id("record-form")
    for name in ("张桂芬", "王秀兰", "杨春梅"):
        record.get_by_label(f"{name}已签收").check()
    record.get_by_label("杨春梅的签收方式").select_option(label="代领")
    # Her approved proxy is offered and preselected; someone else is typed in.
    expect(record.get_by_label("杨春梅的代领审批")).to_have_value(str(daughter.pk))
    expect(record.get_by_label("张桂芬的代领审批")).to_have_count(0)
    record.get_by_label("杨春梅的代领审批").select_option(label="其他代领人（手工填写）")
    record.get_by_label("杨春梅的代领人姓名").fill("杨大伟")
    record.get_by_label("杨春梅的代领人身份证号码").fill(STRANGER_ID)
    record.get_by_label("已核验每位签收人的身份证件").check()
    record.get_by_role("button", name="登记发放结果").click()

    error = page.get_by_test_id("record-error")
    expect(error).to_contain_text(f"第{position['杨春梅']}行 杨春梅（代领）")
    expect(error).to_contain_text("代管审批指定的代管人是杨小红")
    expect(error).to_contain_text("不能发放给杨大伟")
    assert not LedgerEntry.objects.filter(event=LedgerEvent.ISSUED).exists()
    assert set(Card.objects.values_list("status", flat=True)) == {CardStatus.IN_STOCK}
    sheet.refresh_from_db()
    assert sheet.recorded_at is None
    assert set(sheet.rows.values_list("outcome", flat=True)) == {SignOffOutcome.PENDING}

    # The form kept what was ticked; the clerk corrects the proxy to the approved one.
    record = page.get_by_test_id("record-form")
    expect(record.get_by_label("张桂芬已签收")).to_be_checked()
    expect(record.get_by_label("杨春梅的签收方式")).to_have_value("proxy")
    expect(record.get_by_label("杨春梅的代领人姓名")).to_have_value("杨大伟")
    record.get_by_label("杨春梅的代领审批").select_option(label=approval_label(daughter))
    record.get_by_label("杨春梅的代领人姓名").fill("")
    record.get_by_label("杨春梅的代领人身份证号码").fill("")
    expect(record.get_by_label("已核验每位签收人的身份证件")).to_be_checked()
    record.get_by_role("button", name="登记发放结果").click()

    expect(page.locator(".messages li.success")).to_contain_text(
        "本人签收 2 人，代领 1 人，未领取 3 人（仍在库存）"
    )
    expect(page.get_by_test_id("sheet-status")).to_have_text("已登记")
    proxy_row = page.get_by_test_id("sheet-rows").locator("tbody tr", has_text="杨春梅")
    expect(proxy_row.locator("td[data-label='结果']")).to_have_text("代领 杨小红")
    status = dict(Card.objects.values_list("person__name", "status"))
    assert [n for n in NAMES if status[n] == CardStatus.ISSUED] == ["张桂芬", "王秀兰", "杨春梅"]
    assert {status[n] for n in ("李文军", "赵志华", "罗志华")} == {CardStatus.IN_STOCK}

    # The proxy's card page: 经批准代领, the daughter signed and keeps it.
    page.get_by_test_id("sheet-rows").get_by_role("link", name="杨春梅").click()
    expect(page.get_by_test_id("card-status")).to_have_text("已发放")
    expect(page.get_by_test_id("custody")).to_contain_text("杨小红")
    issued = page.get_by_test_id("ledger-entry").last
    expect(issued.get_by_test_id("entry-method")).to_have_text("经批准代领")
    expect(issued.get_by_test_id("entry-signee")).to_have_text("杨小红")
    expect(issued).to_contain_text(sheet.number)
    proxy_card = Card.objects.get(pk=cards["杨春梅"].pk)
    assert (proxy_card.custody_kind, proxy_card.custodian) == (CustodyKind.PROXY, "杨小红")
    entry = issued_entries(proxy_card).get()
    assert (entry.method, entry.signee, entry.recorded_by) == ("proxy", "杨小红", collector_a)

    page.goto(f"{live_server.url}/issuance/issue/cards/{cards['张桂芬'].pk}/")
    issued = page.get_by_test_id("ledger-entry").last
    expect(issued.get_by_test_id("entry-method")).to_have_text("集中发放")
    expect(issued.get_by_test_id("entry-signee")).to_have_text("张桂芬")

    # Those who did not come stay in stock, their card pages still offer 发放.
    for name in ("李文军", "赵志华", "罗志华"):
        page.goto(f"{live_server.url}/issuance/issue/cards/{cards[name].pk}/")
        expect(page.get_by_test_id("card-status")).to_have_text("已制卡（库存）")
        expect(page.get_by_test_id("issue-form")).to_be_visible()

    def issue(card, *, method, fill):
        page.goto(f"{live_server.url}/issuance/issue/cards/{card.pk}/")
        form = page.get_by_test_id("issue-form")
        form.get_by_label("发放方式").select_option(label=method)
        for label, value in fill.items():
            form.get_by_label(label).fill(value)
        form.get_by_label("已核验身份证件").check()
        form.get_by_role("button", name="确认发放").click()
        return page.get_by_test_id("issue-error")

    # 代领 to someone no approval names.
    error = issue(
        cards["李文军"],
        method="经批准代领",
        fill={"代领人姓名": "李大军", "代领人身份证号码": STRANGER_ID},
    )
    expect(error).to_contain_text(
        "系统中没有持卡人李文军的代管（代领）审批，不能发放给代领人李大军"
    )

    # The holder's card, signed for by another person, not as 代领.
    error = issue(cards["李文军"], method="窗口发放", fill={"签收人": "李大军"})
    expect(error).to_contain_text("签收人李大军不是持卡人李文军")
    expect(page.get_by_test_id("issue-form").get_by_label("签收人")).to_have_value("李大军")

    # The county marks 王支书 as a village cadre after the approval was given.
    Cadre.objects.create(
        name="王支书",
        id_number=CADRE_ID,
        township=village_a.township,
        village=village_a,
        post="村党总支书记",
    )
    error = issue(
        cards["赵志华"],
        method="经批准代领",
        fill={"代领人姓名": "王支书", "代领人身份证号码": CADRE_ID},
    )
    expect(error).to_contain_text(
        "代领人王支书是县人社局登记的乡镇村干部（金碧镇大河社区村党总支书记）"
    )
    expect(error).to_contain_text("审批未注明其干部身份及理由")

    # 刘会计 is the display name of a township account made after the approval.
    UserFactory(
        username="liu_kj",
        display_name="刘会计",
        role=Role.TOWNSHIP_STAFF,
        township=village_a.township,
    )
    error = issue(
        cards["罗志华"],
        method="经批准代领",
        fill={"代领人姓名": "刘会计", "代领人身份证号码": ACCOUNTANT_ID},
    )
    expect(error).to_contain_text("代领人刘会计是本乡镇工作人员")
    expect(error).to_contain_text("乡镇、村干部不得代领群众的社保卡")

    for name in ("李文军", "赵志华", "罗志华"):
        card = Card.objects.get(pk=cards[name].pk)
        assert card.status == CardStatus.IN_STOCK
        assert not issued_entries(card).exists()
