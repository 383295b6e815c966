"""Custody risks and the reconciliation in the browser: the county supervisor opens the
risk page, clicks a township's count and reads the names; after the administrator imports
a card-system export, the reconciliation shows the disagreement with what to do."""

from playwright.sync_api import expect

from issuance.models import Card, CardStatus, CustodyKind
from issuance.reconciliation import Kind
from tests.factories import PersonFactory
from tests.issuance.test_opening import export, import_export
from tests.issuance.test_reconciliation import issue_to_holder
from tests.issuance.test_risks import card_with, legacy_issue

from .conftest import login, menu
from .jobs import open_import_form, submit_import, wait_until_succeeded


def test_supervisor_follows_a_townships_risk_count_to_the_names(
    live_server, supervisor, village_a, village_b, page, ledger_flushable
):
    held = [card_with(village_a, kind=CustodyKind.VILLAGE, days=90) for _ in range(2)]
    for card in held:
        legacy_issue(card, signee="李村长", days=60)
    card_with(village_b, kind=CustodyKind.TOWNSHIP, days=90, name="石羊人")
    card_with(village_a, kind=CustodyKind.VILLAGE, days=3, name="刚送到")
    code = village_a.township.code

    login(page, live_server, supervisor)
    menu(page).get_by_role("link", name="代管风险").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("代管风险")
    row = page.get_by_test_id("risk-counts").locator(f"tr[data-township='{code}']")
    expect(row).to_contain_text(village_a.township.name)
    row.get_by_test_id(f"risk-total-{code}").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(village_a.township.name)
    table = page.get_by_test_id("risk-cards")
    expect(table.locator("tbody tr")).to_have_count(2)
    for card in held:
        expect(table).to_contain_text(card.person.name)
        expect(table).to_contain_text(card.person.masked_id_number)
    expect(table).to_contain_text("李村长")
    expect(table).not_to_contain_text("石羊人")
    expect(table).not_to_contain_text("刚送到")

    page.go_back()
    page.get_by_test_id(f"risk-several-{code}").click()
    expect(page.get_by_test_id("holder-name")).to_have_text("李村长")
    expect(page.get_by_test_id("holder")).to_contain_text("仍在其手中 2 张")


def test_after_an_export_the_reconciliation_shows_a_disagreement_with_advice(
    live_server, county_admin, supervisor, village_a, new_page, tmp_path, ledger_flushable
):
    holder = PersonFactory(township=village_a.township, village=village_a, name="张桂芬")
    import_export(
        export(tmp_path, (holder.id_number, "Y20000001", "制卡成功", "正常", "2020-01-01"))
    )
    issue_to_holder(Card.objects.get(card_number="Y20000001"), county_admin)
    cancelled = export(
        tmp_path,
        (holder.id_number, "Y20000001", "制卡成功", "注销", "2020-01-01"),
        name="卡务系统导出第二次.xlsx",
    )

    admin_page = login(new_page(), live_server, county_admin)
    open_import_form(admin_page)
    submit_import(admin_page, kind="卡务系统导出", file=cancelled)
    confirm = admin_page.get_by_test_id("confirm-complete")
    status = admin_page.get_by_test_id("job-status")
    expect(status.or_(confirm).first).to_be_visible(timeout=60_000)
    if confirm.is_visible():
        confirm.click()
    wait_until_succeeded(admin_page)

    page = login(new_page(), live_server, supervisor)
    menu(page).get_by_role("link", name="卡务对账").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("与卡务系统对账")
    page.get_by_test_id(f"recon-kind-{Kind.CANCELLED_THERE}").click()
    items = page.get_by_test_id("recon-items")
    expect(items.locator("tbody tr")).to_have_count(1)
    expect(items).to_contain_text("张桂芬")
    expect(items).to_contain_text("卡务系统已注销、本系统仍有效")
    expect(page.get_by_test_id("recon-advice")).to_contain_text("在本系统登记注销")
    # Shown, not resolved: the holder's card is still issued in our ledger.
    assert Card.objects.get(card_number="Y20000001").status == CardStatus.ISSUED
