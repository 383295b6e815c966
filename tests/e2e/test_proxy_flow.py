"""代管（代领）: a township clerk registers an approval with its document, another approves
it, the card goes to the proxy; issuing to a proxy whose approval was revoked, or to a cadre
the approval does not name as one, is refused with the reason on the page."""

import datetime
import json

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from dayao_sscard.roles import Role
from issuance.models import Card, CardStatus, CustodyKind, LedgerEntry, ProxyApproval
from tests.factories import PersonFactory, UserFactory, make_id_number
from tests.issuance.proxydata import GUARDIAN_ID, approved, in_group, pdf_bytes

from .conftest import login, menu

CADRE_ID = make_id_number(birth=datetime.date(1970, 7, 7))
RELATIVE_ID = make_id_number(birth=datetime.date(1985, 1, 9))


@pytest.fixture
def clerk_a2(township_a):
    return UserFactory(
        username="clerk_a2", display_name="李会计", role=Role.TOWNSHIP_STAFF, township=township_a
    )


def card_in_township(person, branch, number: str) -> Card:
    return Card.objects.create(
        person=person,
        bank=branch.bank,
        card_number=number,
        status=CardStatus.IN_STOCK,
        custody_kind=CustodyKind.TOWNSHIP,
        custodian="金碧镇社保中心",
    )


def test_registered_approved_and_issued_to_the_proxy(
    live_server, page, new_page, clerk_a, clerk_a2, person_a, branch_a, tmp_path, ledger_flushable
):
    holder = in_group(person_a)
    card = card_in_township(holder, branch_a, "M50000001")
    document = tmp_path / "委托书.pdf"
    document.write_bytes(pdf_bytes())
    today = timezone.localdate()

    login(page, live_server, clerk_a)
    page.goto(f"{live_server.url}/roster/persons/{holder.pk}/")
    page.get_by_test_id("person-proxy-register").click()
    expect(page.get_by_test_id("proxy-holder")).to_contain_text("张桂芬")
    form = page.get_by_test_id("proxy-form")
    form.get_by_label("代管依据").select_option(label="低保")
    form.get_by_label("申请人").fill("张小明")
    form.get_by_label("申请理由").fill("持卡人长期卧床，委托儿子代领代管")
    form.get_by_label("书面委托书或监护证明").set_input_files(str(document))
    form.get_by_label("代管人姓名").fill("张小明")
    form.get_by_label("代管人身份证号码").fill(GUARDIAN_ID)
    form.get_by_label("与持卡人关系").fill("儿子")
    form.get_by_label("有效期起").fill(f"{today:%Y-%m-%d}")
    form.get_by_label("有效期止").fill(f"{today + datetime.timedelta(days=365):%Y-%m-%d}")
    page.get_by_test_id("proxy-submit").click()

    expect(page.get_by_test_id("proxy-status")).to_have_text("待审批")
    expect(page.get_by_test_id("proxy-approve-other")).to_be_visible()
    approval = ProxyApproval.objects.get()
    assert approval.document.read().startswith(b"%PDF-")

    other = new_page()
    login(other, live_server, clerk_a2)
    menu(other).get_by_role("link", name="代管审批").click()
    other.get_by_test_id("proxy-tabs").get_by_role("link", name="待审批（1）").click()
    other.get_by_test_id("proxy-table").get_by_role("link", name="张桂芬").click()
    expect(other.get_by_test_id("proxy-document")).to_have_text("委托书.pdf")
    other.get_by_test_id("proxy-approve").click()
    expect(other.get_by_test_id("proxy-status")).to_have_text("有效")

    issue = other.get_by_test_id("proxy-issue-form")
    issue.get_by_label("发放地点").fill("金碧镇社保中心")
    issue.get_by_label("已核验代领人的身份证件").check()
    other.get_by_test_id("proxy-issue").click()
    expect(other.locator(".messages")).to_contain_text("已发放给代领人张小明（经批准代领）")

    card.refresh_from_db()
    assert (card.status, card.custody_kind, card.custodian) == ("issued", "proxy", "张小明")
    entry = LedgerEntry.objects.get(card=card)
    assert (entry.method, entry.signee, entry.recorded_by) == ("proxy", "张小明", clerk_a2)


def test_a_revoked_approval_and_a_cadre_are_refused_with_their_reasons(
    live_server,
    page,
    new_page,
    clerk_a,
    clerk_a2,
    county_admin,
    village_a,
    branch_a,
    township_a,
    ledger_flushable,
):
    revoked_holder = in_group(PersonFactory(village=village_a, name="杨学军"))
    cadre_holder = in_group(PersonFactory(village=village_a, name="罗志华"))
    revoked_card = card_in_township(revoked_holder, branch_a, "M50000002")
    cadre_card = card_in_township(cadre_holder, branch_a, "M50000003")
    to_revoke = approved(
        revoked_holder,
        clerk_a,
        county_admin,
        custodian_name="杨小红",
        custodian_id_number=RELATIVE_ID,
        custodian_relationship="女儿",
    )
    to_cadre = approved(
        cadre_holder,
        clerk_a,
        county_admin,
        custodian_name="王支书",
        custodian_id_number=CADRE_ID,
        custodian_relationship="邻居",
    )

    # The second clerk has the revoked approval's page open, ready to issue…
    issuer = new_page()
    login(issuer, live_server, clerk_a2)
    issuer.goto(f"{live_server.url}/issuance/proxies/{to_revoke.pk}/")
    expect(issuer.get_by_test_id("proxy-status")).to_have_text("有效")

    # …while the first revokes it.
    login(page, live_server, clerk_a)
    page.goto(f"{live_server.url}/issuance/proxies/{to_revoke.pk}/")
    page.get_by_text("撤销审批").click()
    page.get_by_label("撤销原因").fill("女儿外出务工，已不能代管")
    page.get_by_test_id("proxy-revoke").click()
    expect(page.get_by_test_id("proxy-status")).to_have_text("已撤销")

    issue = issuer.get_by_test_id("proxy-issue-form")
    issue.get_by_label("发放地点").fill("金碧镇社保中心")
    issue.get_by_label("已核验代领人的身份证件").check()
    issuer.get_by_test_id("proxy-issue").click()
    expect(issuer.get_by_test_id("proxy-issue-refusal")).to_contain_text(
        "该代管审批已于", timeout=10_000
    )
    expect(issuer.get_by_test_id("proxy-issue-refusal")).to_contain_text(
        "撤销（女儿外出务工，已不能代管），不能凭其发放。"
    )

    # The county marks the second custodian as a village cadre, in the admin.
    admin = new_page()
    login(admin, live_server, county_admin)
    admin.goto(f"{live_server.url}/admin/issuance/cadre/add/")
    admin.get_by_label("姓名").fill("王支书")
    admin.get_by_label("身份证号码").fill(CADRE_ID)
    admin.get_by_label("乡镇").select_option(label=township_a.name)
    admin.get_by_label("职务").fill("村党总支书记")
    admin.get_by_role("button", name="保存", exact=True).click()
    expect(admin.locator(".messagelist")).to_be_visible()

    issuer.goto(f"{live_server.url}/issuance/proxies/{to_cadre.pk}/")
    expect(issuer.get_by_test_id("proxy-cadre")).to_contain_text("审批未注明其干部身份")
    issue = issuer.get_by_test_id("proxy-issue-form")
    issue.get_by_label("发放地点").fill("金碧镇社保中心")
    issue.get_by_label("已核验代领人的身份证件").check()
    issuer.get_by_test_id("proxy-issue").click()
    expect(issuer.get_by_test_id("proxy-issue-refusal")).to_have_text(
        "未发放：代领人王支书是县人社局登记的乡镇村干部（金碧镇村党总支书记），审批未注明其干部身份及理由；"
        "乡镇、村干部不得代领群众的社保卡，不能发放。"
    )

    # The counter system's API gives the same answer for a proxy without any approval.
    stranger = in_group(PersonFactory(village=village_a, name="李国华"))
    card_in_township(stranger, branch_a, "M50000004")
    api = f"{live_server.url}/api/cards/M50000004/"
    assert issuer.request.get(api).status == 200
    token = next(c["value"] for c in issuer.context.cookies() if c["name"] == "csrftoken")
    response = issuer.request.post(
        api + "events/",
        data=json.dumps(
            {
                "event": "issued",
                "method": "proxy",
                "signee": "张小明",
                "signee_id_number": GUARDIAN_ID,
                "identity_checked": True,
            },
            ensure_ascii=False,
        ),
        headers={
            "Content-Type": "application/json",
            "X-CSRFToken": token,
            "Referer": f"{live_server.url}/",
        },
    )
    assert response.status == 409
    assert "系统中没有持卡人李国华的代管（代领）审批" in response.json()["detail"]

    for card in (revoked_card, cadre_card):
        card.refresh_from_db()
        assert card.status == CardStatus.IN_STOCK
    assert not LedgerEntry.objects.exists()
