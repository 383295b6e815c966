"""A person's page offers only what the signed-in user may do to that person."""

from playwright.sync_api import expect

from issuance.models import Card, CardStatus

from .conftest import login

WRITE_ACTIONS = ("核查/采集信息", "修改联系信息")


def holder_page(page, live_server, person):
    page.goto(f"{live_server.url}/roster/persons/{person.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(person.name)


def test_a_bank_clerk_sees_the_holder_but_no_edit_verify_or_death(
    live_server, banker_a, branch_a, person_a, page
):
    Card.objects.create(person=person_a, bank=branch_a.bank, status=CardStatus.ISSUED)
    login(page, live_server, banker_a)

    holder_page(page, live_server, person_a)

    for name in WRITE_ACTIONS:
        expect(page.get_by_role("link", name=name)).to_have_count(0)
    expect(page.get_by_text("登记死亡", exact=True)).to_have_count(0)
    expect(page.get_by_text("人员类别", exact=True)).to_have_count(0)
    # What the counter needs: the full number, each look recorded.
    expect(page.get_by_role("button", name="显示完整号码")).to_be_visible()

    response = page.goto(f"{live_server.url}/roster/persons/{person_a.pk}/edit/")
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("无权访问")
    expect(page.locator("main")).to_contain_text("合作银行网点工作人员不能修改人员联系信息")


def test_a_township_clerk_is_offered_edit_verify_and_death(live_server, clerk_a, person_a, page):
    login(page, live_server, clerk_a)

    holder_page(page, live_server, person_a)

    for name in WRITE_ACTIONS:
        expect(page.get_by_role("link", name=name)).to_be_visible()
    page.get_by_text("登记死亡", exact=True).click()
    expect(page.get_by_role("button", name="确认登记死亡")).to_be_visible()
