"""At the bank counter: one visit takes a person from no card to an activated card and a
signed electronic card; activation without the face-to-face check is refused."""

from playwright.sync_api import expect

from activation.models import Activation, ElectronicCardSigning
from issuance.models import Card, CardStatus
from tests.activation.counter import card_of, ready_person

from .conftest import login, menu


def scan(page, text: str, *, into: str = "身份证号码或社保卡卡号") -> None:
    """What a card reader does: type the number into the focused input ``into``, then Enter
    — once the page has put the cursor there (typed before, on a busy machine, the keys
    were lost)."""
    expect(page.get_by_label(into)).to_be_focused()
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def test_instant_card_issue_activate_and_ecard_in_one_visit(
    live_server, banker_a, village_a, page, ledger_flushable
):
    person = ready_person(village_a, name="李秀兰")
    login(page, live_server, banker_a)
    menu(page).get_by_role("link", name="网点柜面").click()
    expect(page.get_by_label("身份证号码或社保卡卡号")).to_be_focused()

    scan(page, person.id_number)

    expect(page.get_by_test_id("person-name")).to_have_text("李秀兰")
    expect(page.get_by_test_id("counter-status")).to_have_text("尚无社保卡")
    expect(page.get_by_test_id("id-number")).to_have_text(person.masked_id_number)
    # The new card's number goes straight into the focused box, from the reader.
    scan(page, "M20261129", into="新卡卡号")

    expect(page.get_by_test_id("counter-status")).to_have_text("已制卡（库存）")
    issue = page.get_by_test_id("issue-form")
    expect(issue.get_by_label("签收人", exact=True)).to_have_value("李秀兰")
    issue.get_by_label("已核验签收人身份证件").check()
    issue.get_by_role("button", name="确认发放").click()

    expect(page.get_by_test_id("counter-status")).to_have_text("已发放")
    activate = page.get_by_test_id("activate-form")
    activate.get_by_label("持卡人本人在场（面签）").check()
    activate.get_by_label("已核验本人身份证件").check()
    activate.get_by_role("button", name="确认激活").click()

    expect(page.get_by_test_id("counter-status")).to_have_text("已激活")
    ecard = page.get_by_test_id("ecard-form")
    ecard.get_by_label("签发渠道").select_option("网点柜台")
    ecard.get_by_role("button", name="登记签发").click()

    expect(page.get_by_test_id("counter-status")).to_have_text("已激活")
    expect(page.get_by_test_id("ecard-status")).to_have_text("电子社保卡已签发")
    expect(page.get_by_test_id("nothing-left")).to_be_visible()
    expect(page.get_by_test_id("step-ecard")).to_contain_text("已签发")

    card = Card.objects.get(person=person)
    assert card.status == CardStatus.ACTIVATED and card.card_number == "M20261129"
    assert Activation.objects.filter(card=card).count() == 1
    assert ElectronicCardSigning.objects.filter(person=person).count() == 1

    page.get_by_role("link", name="今日办理").click()
    expect(page.get_by_test_id("today-table")).to_contain_text("激活金融功能")


def test_activation_without_the_face_to_face_box_is_refused(
    live_server, banker_a, branch_a, person_a, page, ledger_flushable
):
    card = card_of(branch_a, person_a, CardStatus.ISSUED, number="M00000100")
    login(page, live_server, banker_a)
    page.goto(f"{live_server.url}/counter/")
    scan(page, "M00000100")

    activate = page.get_by_test_id("activate-form")
    activate.get_by_label("已核验本人身份证件").check()
    activate.get_by_role("button", name="确认激活").click()

    expect(page.get_by_test_id("activate-error")).to_have_text(
        "金融功能激活只能当面办理（面签），不得非面签激活。"
    )
    expect(page.get_by_test_id("counter-status")).to_have_text("已发放")
    # What was ticked stays ticked: the clerk adds the missing check, nothing else.
    expect(page.get_by_test_id("activate-form").get_by_label("已核验本人身份证件")).to_be_checked()
    card.refresh_from_db()
    assert card.status == CardStatus.ISSUED
    assert not Activation.objects.exists()
