"""The card API for counter systems (issue 9 §4): every status for GET and POST, by persona."""

import datetime
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from activation.models import Activation
from dayao_sscard.models import AuditEvent
from dayao_sscard.roles import Role
from issuance.models import Card, CardStatus, CustodyKind, LedgerEntry
from tests.factories import BankBranchFactory, BankFactory, UserFactory, township
from tests.issuance.proxydata import GUARDIAN_ID, approved, in_group

NUMBER = "M20000001"


@pytest.fixture
def card(branch_a, person_a) -> Card:
    """A card of branch A's bank for a holder of township A, at the bank, not yet issued."""
    return Card.objects.create(
        person=person_a,
        bank=branch_a.bank,
        card_number=NUMBER,
        status=CardStatus.IN_STOCK,
        custody_kind=CustodyKind.BANK,
        custodian=str(branch_a),
    )


@pytest.fixture
def issued_card(card) -> Card:
    Card.objects.filter(pk=card.pk).update(
        status=CardStatus.ISSUED, custody_kind=CustodyKind.HOLDER
    )
    card.refresh_from_db()
    return card


@pytest.fixture
def banker_other_bank(township_a):
    """A clerk of another bank whose branch serves the same township."""
    other = BankFactory(name="中国邮政储蓄银行大姚县支行", short_name="邮储银行")
    branch = BankBranchFactory(bank=other, name="金碧邮储网点", township=township_a)
    return UserFactory(
        username="banker_post", role=Role.BANK_STAFF, township=None, bank_branch=branch
    )


@pytest.fixture
def banker_other_branch(branch_a, township_b):
    """A clerk of the same bank, at its branch serving another township."""
    branch = BankBranchFactory(bank=branch_a.bank, name="石羊信用社", township=township_b)
    return UserFactory(username="banker_b", role=Role.BANK_STAFF, township=None, bank_branch=branch)


def detail_url(number: str = NUMBER) -> str:
    return reverse("api:card-detail", args=[number])


def events_url(number: str = NUMBER) -> str:
    return reverse("api:card-events", args=[number])


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, body, number: str = NUMBER):
    raw = body if isinstance(body, (str, bytes)) else json.dumps(body, ensure_ascii=False)
    return client.post(events_url(number), data=raw, content_type="application/json")


ISSUE = {
    "event": "issued",
    "signee": "张桂芬",
    "identity_checked": True,
    "location": "金碧信用社柜台",
}
PROXY_ISSUE = {
    **ISSUE,
    "method": "proxy",
    "signee": "张小明",
    "signee_id_number": GUARDIAN_ID,
    "location": "金碧镇社保中心",
}
ACTIVATE = {"event": "activated", "face_to_face": True, "identity_checked": True}


def nothing_recorded(card: Card, status: str = CardStatus.IN_STOCK) -> bool:
    return (
        Card.objects.get(pk=card.pk).status == status
        and not LedgerEntry.objects.filter(card=card).exists()
        and not Activation.objects.filter(card=card).exists()
        and not AuditEvent.objects.exists()
    )


@pytest.mark.django_db
class TestReadingACard:
    def test_the_branchs_clerk_gets_the_card_as_pinned(self, banker_a, card, person_a):
        response = signed_in(banker_a).get(detail_url())
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert response.json() == {
            "card_number": NUMBER,
            "status": "in_stock",
            "status_display": "已制卡（库存）",
            "bank": "农信社",
            "custody_kind": "bank",
            "custodian": "农信社金碧信用社",
            "person": {
                "name": "张桂芬",
                "id_number": person_a.masked_id_number,
                "township": "金碧镇",
            },
            "activated": False,
        }
        assert person_a.id_number not in response.content.decode()
        assert "********" in response.json()["person"]["id_number"]

    def test_spaces_and_lowercase_in_the_number_do_not_matter(self, banker_a, card):
        assert signed_in(banker_a).get(detail_url(" m20000001 ")).status_code == 200

    @pytest.mark.parametrize("typed", ["Ｍ２００００００１", "M2000 0001", "m2000\u3000 0001"])
    def test_the_number_as_the_counter_finds_it(self, banker_a, card, typed):
        """Full-width digits and a number split by spaces, as a reader or an input method
        sends them: the same card as at the counter (``card_number_clean``)."""
        client = signed_in(banker_a)
        assert client.get(detail_url(typed)).json()["card_number"] == NUMBER
        assert post(client, ISSUE, number=typed).status_code == 201

    def test_the_answer_sets_the_csrf_cookie_a_post_needs(self, banker_a, card):
        response = signed_in(banker_a).get(detail_url())
        assert response.cookies["csrftoken"].value

    def test_an_unknown_number_is_404_in_json(self, banker_a, card):
        response = signed_in(banker_a).get(detail_url("M99999999"))
        assert response.status_code == 404
        assert response.json() == {"detail": "未找到该卡号的社保卡，或该卡不在您的管辖范围内。"}

    @pytest.mark.parametrize(
        "persona", ["banker_other_bank", "banker_other_branch", "clerk_b", "collector_b"]
    )
    def test_outside_the_callers_scope_is_the_same_404(self, request, persona, card, village_b):
        if persona == "collector_b":
            user = UserFactory(
                username="collector_b",
                role=Role.VILLAGE_COLLECTOR,
                township=township("532326102"),
                village=village_b,
            )
        else:
            user = request.getfixturevalue(persona)
        response = signed_in(user).get(detail_url())
        assert response.status_code == 404
        assert response.json()["detail"] == "未找到该卡号的社保卡，或该卡不在您的管辖范围内。"

    @pytest.mark.parametrize("persona", ["supervisor", "county_admin", "clerk_a", "collector_a"])
    def test_county_and_township_roles_read_their_cards(self, request, persona, card):
        client = signed_in(request.getfixturevalue(persona))
        assert client.get(detail_url()).json()["card_number"] == NUMBER

    def test_anonymous_gets_401_in_json(self, client, card):
        response = client.get(detail_url())
        assert response.status_code == 401
        assert response.json() == {"detail": "请先登录（会话已过期或尚未登录）。"}
        assert response["WWW-Authenticate"].startswith("Session")

    def test_control_characters_in_the_number_are_400_in_json(self, banker_a, card):
        response = signed_in(banker_a).get("/api/cards/M2000%000001/")
        assert response.status_code == 400
        assert "无法识别的字符" in response.json()["detail"]

    def test_post_to_the_card_itself_is_405_in_json(self, banker_a, card):
        response = signed_in(banker_a).post(detail_url())
        assert response.status_code == 405
        assert response["Allow"] == "GET"
        assert "GET" in response.json()["detail"]


@pytest.mark.django_db
class TestRecordingEvents:
    def test_the_branchs_clerk_issues_then_activates_at_the_counter(self, banker_a, card):
        client = signed_in(banker_a)
        issued = post(client, ISSUE)
        assert issued.status_code == 201
        assert issued.json()["status"] == "issued"
        assert issued.json()["custody_kind"] == "holder"
        assert issued.json()["custodian"] == "张桂芬"
        entry = LedgerEntry.objects.get(card=card)
        assert (entry.event, entry.method, entry.signee) == ("issued", "counter", "张桂芬")
        assert entry.identity_checked is True

        activated = post(client, {**ACTIVATE, "note": "本人持身份证到柜面办理"})
        assert activated.status_code == 201
        data = activated.json()
        assert (data["status"], data["status_display"], data["activated"]) == (
            "activated",
            "已激活",
            True,
        )
        activation = Activation.objects.get(card=card)
        assert activation.branch == banker_a.bank_branch
        assert activation.note == "本人持身份证到柜面办理"
        assert signed_in(banker_a).get(detail_url()).json() == data

    def test_a_second_activation_is_409_and_records_nothing(self, banker_a, issued_card):
        client = signed_in(banker_a)
        assert post(client, ACTIVATE).status_code == 201
        again = post(client, ACTIVATE)
        assert again.status_code == 409
        assert again.json()["detail"] == "当前状态为“已激活”，不能办理“激活金融功能”。"
        assert Activation.objects.filter(card=issued_card).count() == 1
        assert LedgerEntry.objects.filter(card=issued_card).count() == 1

    def test_the_township_clerk_records_distribution(self, banker_a, clerk_a, card):
        to_township = {
            "event": "handed_over",
            "custody_kind": "township",
            "to_party": "金碧镇社保中心",
            "responsible_person": "王主任",
        }
        assert post(signed_in(banker_a), to_township).status_code == 201
        client = signed_in(clerk_a)
        assert post(client, {"event": "received"}).json()["custody_kind"] == "township"
        handed = post(
            client,
            {
                "event": "handed_over",
                "custody_kind": "village",
                "to_party": "大河社区",
                "responsible_person": "李村长",
                "location": "在途：金碧镇社保中心→大河社区",
            },
        )
        assert handed.status_code == 201
        assert (handed.json()["status"], handed.json()["custody_kind"]) == ("in_transit", "village")
        received = post(client, {"event": "received", "location": "金碧镇社保中心卡片保管柜"})
        assert received.status_code == 201
        assert received.json()["custody_kind"] == "township"
        assert received.json()["custodian"] == clerk_a.username
        entry = LedgerEntry.objects.filter(card=card).last()
        assert (entry.to_party, entry.responsible_person) == ("金碧镇社保中心", clerk_a.username)

    def test_only_the_unit_keeping_a_card_hands_it_over(self, clerk_a, card):
        response = post(
            signed_in(clerk_a),
            {
                "event": "handed_over",
                "custody_kind": "village",
                "to_party": "大河社区",
                "responsible_person": "李村长",
            },
        )
        assert response.status_code == 409
        assert "不在金碧镇社保中心，不能由本单位交出" in response.json()["detail"]
        assert nothing_recorded(card, CardStatus.IN_STOCK)

    def test_the_township_clerk_may_not_activate(self, clerk_a, issued_card):
        response = post(signed_in(clerk_a), ACTIVATE)
        assert response.status_code == 403
        assert response.json()["detail"] == "乡镇社保中心工作人员不能办理金融功能激活。"
        assert nothing_recorded(issued_card, CardStatus.ISSUED)

    def test_the_supervisor_reads_but_may_not_write(self, supervisor, card):
        response = post(signed_in(supervisor), ISSUE)
        assert response.status_code == 403
        assert response.json()["detail"] == "当前账号为只读权限，不能登记社保卡流转。"
        assert nothing_recorded(card)

    def test_the_supervisor_is_refused_before_the_body_is_read(self, supervisor, card):
        assert post(signed_in(supervisor), "not json").status_code == 403

    def test_a_village_collector_may_not_cancel(self, collector_a, card):
        response = post(signed_in(collector_a), {"event": "cancelled", "note": "持卡人已死亡"})
        assert response.status_code == 403
        assert "不能办理社保卡注销" in response.json()["detail"]
        assert nothing_recorded(card)

    def test_anonymous_gets_401(self, client, card):
        response = post(client, ISSUE)
        assert response.status_code == 401
        assert "请先登录" in response.json()["detail"]
        assert nothing_recorded(card)

    @pytest.mark.parametrize("persona", ["banker_other_bank", "banker_other_branch", "clerk_b"])
    def test_outside_the_callers_scope_is_404(self, request, persona, card):
        response = post(signed_in(request.getfixturevalue(persona)), ISSUE)
        assert response.status_code == 404
        assert response.json()["detail"] == "未找到该卡号的社保卡，或该卡不在您的管辖范围内。"
        assert nothing_recorded(card)

    def test_an_unknown_card_is_404_before_the_body_is_read(self, banker_a, card):
        assert post(signed_in(banker_a), "not json", number="M99999999").status_code == 404

    def test_get_on_the_events_is_405(self, banker_a, card):
        response = signed_in(banker_a).get(events_url())
        assert response.status_code == 405
        assert response["Allow"] == "POST"

    def test_occurred_at_is_kept(self, banker_a, card):
        body = {**ISSUE, "occurred_at": "2026-11-28T09:30:00+08:00"}
        assert post(signed_in(banker_a), body).status_code == 201
        entry = LedgerEntry.objects.get(card=card)
        assert entry.occurred_at == datetime.datetime(2026, 11, 28, 1, 30, tzinfo=datetime.UTC)

    def test_a_proxy_issue_is_refused_without_an_approval_on_record(self, banker_a, card):
        body = {**PROXY_ISSUE, "note": "监护人代领"}
        response = post(signed_in(banker_a), body)
        assert response.status_code == 409
        assert response.json()["detail"] == (
            "系统中没有持卡人张桂芬的代管（代领）审批，不能发放给代领人张小明；"
            "请先登记并经审批，或由持卡人本人签收。"
        )
        assert not LedgerEntry.objects.filter(card=card, event="issued").exists()

    def test_a_proxy_issue_under_a_valid_approval_is_recorded(
        self, banker_a, card, person_a, clerk_a, county_admin
    ):
        approved(in_group(person_a), clerk_a, county_admin)
        response = post(signed_in(banker_a), PROXY_ISSUE)
        assert response.status_code == 201, response.json()
        assert (response.json()["custody_kind"], response.json()["custodian"]) == (
            "proxy",
            "张小明",
        )
        entry = LedgerEntry.objects.get(card=card, event="issued")
        assert (entry.method, entry.signee, entry.custody_kind) == ("proxy", "张小明", "proxy")

    def test_a_proxy_issue_without_the_proxys_id_number_is_refused(self, banker_a, card):
        body = {k: v for k, v in PROXY_ISSUE.items() if k != "signee_id_number"}
        response = post(signed_in(banker_a), body)
        assert response.status_code == 409
        assert response.json()["detail"] == "代领须登记代领人的身份证号码，以便核对代管审批。"

    def test_a_malformed_signee_id_number_is_a_bad_request(self, banker_a, card):
        body = {**PROXY_ISSUE, "signee_id_number": "53232619750302001"}
        response = post(signed_in(banker_a), body)
        assert response.status_code == 400
        assert response.json()["detail"].startswith(
            "字段“signee_id_number”（签收人身份证号码）无效："
        )

    def test_someone_else_signing_for_the_holder_is_refused(self, banker_a, card):
        response = post(signed_in(banker_a), {**ISSUE, "signee": "张小明"})
        assert response.status_code == 409
        assert "发放到本人须由持卡人本人签收" in response.json()["detail"]
        assert nothing_recorded(card)


@pytest.mark.django_db
class TestTheLedgerRefuses:
    """409: the body is well formed, the ledger's rules say no; nothing is written."""

    @pytest.mark.parametrize(
        "body, detail",
        [
            (ACTIVATE, "当前状态为“已制卡（库存）”，不能办理“激活金融功能”。"),
            ({**ISSUE, "signee": "  "}, "发放必须登记签收人。"),
            ({**ISSUE, "identity_checked": False}, "发放前必须核验签收人的身份证件。"),
            (
                {"event": "handed_over", "to_party": "大河社区"},
                "交接必须登记接收方和责任人。",
            ),
            (
                {"event": "handed_over", "to_party": "大河社区", "responsible_person": "李村长"},
                "交接必须登记接收方类型（银行网点、县人社局、乡镇、村委会等）。",
            ),
            ({"event": "received"}, "当前状态为“已制卡（库存）”，不能办理“接收入库”。"),
            ({"event": "cancelled"}, "办理“注销”必须在备注中写明原因。"),
            ({"event": "recovered"}, "办理“回收登记”必须在备注中写明原因。"),
        ],
    )
    def test_in_stock(self, banker_a, card, body, detail):
        response = post(signed_in(banker_a), body)
        assert response.status_code == 409
        assert list(response.json()) == ["detail"]
        assert response.json()["detail"].startswith(detail)
        assert nothing_recorded(card)

    @pytest.mark.parametrize(
        "body, detail",
        [
            (
                {"event": "activated", "identity_checked": True},
                "金融功能激活只能当面办理（面签），不得非面签激活。",
            ),
            (
                {**ACTIVATE, "face_to_face": False},
                "金融功能激活只能当面办理（面签），不得非面签激活。",
            ),
            (
                {**ACTIVATE, "identity_checked": False},
                "金融功能激活必须当面核验持卡人本人的身份证件。",
            ),
            ({"event": "activated"}, "金融功能激活只能当面办理（面签），不得非面签激活。"),
        ],
    )
    def test_activation_without_the_face_to_face_check(self, banker_a, issued_card, body, detail):
        response = post(signed_in(banker_a), body)
        assert response.status_code == 409
        assert response.json() == {"detail": detail}
        assert nothing_recorded(issued_card, CardStatus.ISSUED)


@pytest.mark.django_db
class TestMalformedBodies:
    """400: the request itself is wrong, and says which field; nothing is written."""

    @pytest.mark.parametrize(
        "body, says",
        [
            ("", "请求内容为空"),
            ("{event: issued}", "不是有效的JSON"),
            (b"\xff\xfe{", "不是有效的JSON"),
            ("[1, 2]", "必须是一个JSON对象"),
            ('"issued"', "必须是一个JSON对象"),
            ({}, "请填写字段“event”"),
            ({"event": 3}, "请填写字段“event”"),
            ({"event": "launched"}, "字段“event”（流转环节）的值无法识别"),
            ({"event": "produced"}, "“制卡完成”由批量制卡及其结果文件或柜面即时制卡登记"),
            ({"event": "applied"}, "不能通过本接口登记"),
            (
                {**ACTIVATE, "face_to_face": "true"},
                "字段“face_to_face”（当面办理（面签））必须是JSON布尔值",
            ),
            ({**ACTIVATE, "face_to_face": 1}, "字段“face_to_face”"),
            ({**ISSUE, "identity_checked": "是"}, "字段“identity_checked”（已核验身份证件）"),
            ({**ISSUE, "signee": 42}, "字段“signee”（签收人）必须是字符串"),
            ({**ISSUE, "signee": "张" * 51}, "字段“signee”（签收人）过长：最多50个字符，收到51个"),
            ({**ISSUE, "location": "柜" * 201}, "字段“location”（保管地点）过长"),
            ({**ISSUE, "note": "备" * 501}, "字段“note”（备注）过长：最多500个字符"),
            ({**ACTIVATE, "note": "备" * 301}, "字段“note”（备注）过长：最多300个字符"),
            ({**ISSUE, "note": "a\x00b"}, "字段“note”（备注）含有无法识别的控制字符"),
            ({**ISSUE, "method": "post"}, "字段“method”（发放方式）的值无法识别"),
            ({**ISSUE, "custody_kind": "holder"}, "字段“custody_kind”（接收方类型）的值无法识别"),
            ({**ISSUE, "face_to_fase": True}, "无法识别的字段：face_to_fase"),
            ({**ISSUE, "occurred_at": "2026-11-28 09:30"}, "须为带时区的ISO 8601时间"),
            ({**ISSUE, "occurred_at": "yesterday"}, "须为带时区的ISO 8601时间"),
            ({**ISSUE, "occurred_at": "2026-13-45T09:30:00+08:00"}, "须为带时区的ISO 8601时间"),
            ({**ISSUE, "occurred_at": 1764380000}, "须为带时区的ISO 8601时间"),
        ],
    )
    def test_refused_with_the_field_named(self, banker_a, card, body, says):
        response = post(signed_in(banker_a), body)
        assert response.status_code == 400
        assert says in response.json()["detail"]
        assert nothing_recorded(card)

    def test_a_time_in_the_future_is_refused(self, banker_a, card):
        later = timezone.now() + datetime.timedelta(hours=1)
        response = post(signed_in(banker_a), {**ISSUE, "occurred_at": later.isoformat()})
        assert response.status_code == 400
        assert response.json()["detail"] == "字段“occurred_at”（发生时间）不能晚于当前时间。"
        assert nothing_recorded(card)

    def test_a_form_post_is_not_json(self, banker_a, card):
        response = signed_in(banker_a).post(events_url(), data={"event": "issued"})
        assert response.status_code == 400
        assert "Content-Type: application/json" in response.json()["detail"]
        assert nothing_recorded(card)


@pytest.mark.django_db
class TestCsrf:
    """Session-authenticated POSTs need the CSRF token, as Django applies it to the pages."""

    def test_without_the_token_403_in_json(self, banker_a, card):
        client = Client(enforce_csrf_checks=True)
        client.force_login(banker_a)
        response = post(client, ISSUE)
        assert response.status_code == 403
        assert "X-CSRFToken" in response.json()["detail"]
        assert nothing_recorded(card)

    def test_with_the_token_from_a_get_it_is_recorded(self, banker_a, card):
        client = Client(enforce_csrf_checks=True)
        client.force_login(banker_a)
        token = client.get(detail_url()).cookies["csrftoken"].value
        response = client.post(
            events_url(),
            data=json.dumps(ISSUE),
            content_type="application/json",
            headers={"X-CSRFToken": token},
        )
        assert response.status_code == 201

    def test_the_pages_keep_djangos_csrf_page(self, banker_a):
        client = Client(enforce_csrf_checks=True)
        client.force_login(banker_a)
        response = client.post(reverse("password_change"))
        assert response.status_code == 403
        assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
class TestACardRecordedMissingOnItsSheet:
    """Found, it is received on its sheet (后补接收): received alone, the sheet would keep
    saying 未到卡 and its late receipt would fail for good."""

    @pytest.fixture
    def missing(self, county_admin, clerk_a, township_a, village_a) -> Card:
        from issuance.handovers import Unit, handover_create, handover_receive
        from tests.issuance.handoverdata import stock_box

        card = stock_box(village_a, 1)[0]
        sheet = handover_create(
            acting_user=county_admin,
            receiver=Unit(CustodyKind.TOWNSHIP, township=township_a),
            sender_person="赵库管",
            receiver_person="李接收",
            location="金碧镇社保中心档案室",
            card_numbers=[card.card_number],
        )
        handover_receive(
            acting_user=clerk_a,
            handover=sheet,
            received_numbers=[],
            missing_reasons={sheet.items.get().pk: "箱内未见"},
        )
        return card

    @pytest.mark.parametrize(
        "body",
        [
            {"event": "received", "location": "档案室"},
            {
                "event": "handed_over",
                "custody_kind": "village",
                "to_party": "大河社区",
                "responsible_person": "李村长",
                "location": "大河社区",
            },
        ],
    )
    def test_received_or_handed_on_alone_it_is_refused(self, clerk_a, missing, body):
        response = post(signed_in(clerk_a), body, number=missing.card_number)
        assert response.status_code == 409
        assert "登记为未到卡" in response.json()["detail"]
        assert "后补接收" in response.json()["detail"]
        assert Card.objects.get(pk=missing.pk).status == CardStatus.IN_TRANSIT
