"""代管审批 pages: who may, who may not, another township; refusals on the page in Chinese."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from dayao_sscard.models import AuditEvent
from issuance.models import Cadre, Card, CardStatus, CustodyKind, LedgerEntry, ProxyApproval
from tests.factories import make_id_number
from tests.issuance.proxydata import GUARDIAN_ID, approved, in_group, pdf_bytes, register

pytestmark = pytest.mark.usefixtures("fixed_clock")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def holder(person_a):
    return in_group(person_a)


@pytest.fixture
def pending(holder, collector_a):
    return register(holder, collector_a)


@pytest.fixture
def valid(holder, collector_a, county_admin):
    return approved(holder, collector_a, county_admin)


@pytest.fixture
def card(holder, branch_a):
    return Card.objects.create(
        person=holder,
        bank=branch_a.bank,
        card_number="M40000001",
        status=CardStatus.IN_STOCK,
        custody_kind=CustodyKind.TOWNSHIP,
        custodian="金碧镇社保中心",
    )


def form_data(**overrides) -> dict:
    data = {
        "ground": "minimum_living",
        "requested_by_name": "张小明",
        "request_reason": "持卡人长期卧床",
        "document": SimpleUploadedFile("委托书.pdf", pdf_bytes(), "application/pdf"),
        "custodian_name": "张小明",
        "custodian_id_number": GUARDIAN_ID,
        "custodian_relationship": "儿子",
        "valid_from": "2026-11-29",
        "valid_until": "2027-11-28",
    }
    data.update(overrides)
    return data


class TestList:
    def test_the_township_sees_its_approvals_by_state(self, valid, clerk_a):
        response = signed_in(clerk_a).get(reverse("issuance:proxy-list"))
        assert response.status_code == 200
        html = response.content.decode()
        assert "张桂芬" in html and "有效（1）" in html and "待审批（0）" in html

    def test_search_by_holder(self, valid, clerk_a):
        client = signed_in(clerk_a)
        url = reverse("issuance:proxy-list")
        assert "张桂芬" in client.get(url, {"q": valid.person.id_number}).content.decode()
        assert "张桂芬" not in client.get(url, {"q": "王某某"}).content.decode()

    def test_another_township_sees_none(self, valid, clerk_b):
        response = signed_in(clerk_b).get(reverse("issuance:proxy-list"))
        assert "张桂芬" not in response.content.decode()

    def test_a_bank_clerk_may_not(self, banker_a):
        assert signed_in(banker_a).get(reverse("issuance:proxy-list")).status_code == 403


class TestRegister:
    def test_registered_with_the_document(self, holder, clerk_a):
        data = form_data(holder_id_number=holder.id_number)
        response = signed_in(clerk_a).post(reverse("issuance:proxy-register"), data)
        approval = ProxyApproval.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("issuance:proxy-detail", args=[approval.pk])
        assert (approval.person, approval.registered_by) == (holder, clerk_a)

    def test_from_the_person_page(self, holder, collector_a):
        url = reverse("issuance:proxy-register") + f"?person={holder.pk}"
        client = signed_in(collector_a)
        assert "持卡人：" in client.get(url).content.decode()
        assert client.post(url, form_data()).status_code == 302
        assert ProxyApproval.objects.get().person == holder

    def test_a_refusal_is_shown_and_nothing_kept(self, person_a, clerk_a):
        data = form_data(holder_id_number=person_a.id_number)
        response = signed_in(clerk_a).post(reverse("issuance:proxy-register"), data)
        assert response.status_code == 200
        assert "张桂芬不在低保人员名单中" in response.content.decode()
        assert not ProxyApproval.objects.exists()
        # The file chosen is gone after the refusal; the page says to choose it again.
        assert "请重新选择委托书或监护证明" in response.content.decode()

    def test_a_cadre_custodian_is_refused_on_the_page(self, holder, clerk_a, township_a):
        Cadre.objects.create(name="张小明", id_number=GUARDIAN_ID, township=township_a, post="支书")
        url = reverse("issuance:proxy-register") + f"?person={holder.pk}"
        response = signed_in(clerk_a).post(url, form_data())
        assert "乡镇、村干部不得代管群众的社保卡" in response.content.decode()

    def test_a_document_of_another_kind_is_refused(self, holder, clerk_a):
        url = reverse("issuance:proxy-register") + f"?person={holder.pk}"
        bad = SimpleUploadedFile("a.docx", b"PK\x03\x04" + b"x" * 500)
        response = signed_in(clerk_a).post(url, form_data(document=bad))
        assert "无法识别的文件，请上传 PDF、JPG 或 PNG" in response.content.decode()

    def test_a_holder_of_another_township_is_not_found(self, person_b, clerk_a):
        in_group(person_b)
        data = form_data(holder_id_number=person_b.id_number)
        response = signed_in(clerk_a).post(reverse("issuance:proxy-register"), data)
        assert "未找到该身份证号码的人员" in response.content.decode()
        url = reverse("issuance:proxy-register") + f"?person={person_b.pk}"
        assert signed_in(clerk_a).get(url).status_code == 404

    def test_a_supervisor_may_not(self, supervisor):
        assert signed_in(supervisor).get(reverse("issuance:proxy-register")).status_code == 403


class TestDetail:
    def test_shows_the_approval_and_the_approve_button_to_another_account(self, pending, clerk_a):
        html = signed_in(clerk_a).get(reverse("issuance:proxy-detail", args=[pending.pk])).content
        assert "待审批" in html.decode() and 'data-testid="proxy-approve"' in html.decode()
        assert GUARDIAN_ID not in html.decode()  # masked

    def test_the_registrar_is_told_another_must_approve(self, pending, collector_a, clerk_a):
        other = register(
            pending.person,
            clerk_a,
            custodian_name="张小红",
            custodian_id_number=make_id_number(birth=datetime.date(1978, 4, 4), male=False),
        )
        html = signed_in(clerk_a).get(reverse("issuance:proxy-detail", args=[other.pk])).content
        assert "须由另一名乡镇社保中心工作人员或县人社局审批" in html.decode()

    def test_another_township_gets_404(self, pending, clerk_b):
        url = reverse("issuance:proxy-detail", args=[pending.pk])
        assert signed_in(clerk_b).get(url).status_code == 404

    def test_the_document_is_served_and_its_look_audited(self, pending, clerk_a, clerk_b):
        url = reverse("issuance:proxy-document", args=[pending.pk])
        response = signed_in(clerk_a).get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Cache-Control"] == "private, no-store"
        assert b"".join(response.streaming_content).startswith(b"%PDF-")
        assert AuditEvent.objects.filter(action="issuance.proxyapproval.document_viewed").exists()
        assert signed_in(clerk_b).get(url).status_code == 404

    def test_a_document_gone_from_the_data_folder_is_404(self, pending, clerk_a):
        pending.document.delete(save=False)
        url = reverse("issuance:proxy-document", args=[pending.pk])
        assert signed_in(clerk_a).get(url).status_code == 404


class TestApproveAndRevoke:
    def test_approved_by_the_township(self, pending, clerk_a):
        response = signed_in(clerk_a).post(reverse("issuance:proxy-approve", args=[pending.pk]))
        assert response.status_code == 302
        pending.refresh_from_db()
        assert pending.approved_by == clerk_a

    def test_the_registrars_refusal_is_shown(self, holder, clerk_a):
        approval = register(holder, clerk_a)
        client = signed_in(clerk_a)
        response = client.post(reverse("issuance:proxy-approve", args=[approval.pk]), follow=True)
        assert "审批人不能是登记人本人" in response.content.decode()

    def test_a_collector_may_not_approve(self, pending, collector_a):
        url = reverse("issuance:proxy-approve", args=[pending.pk])
        assert signed_in(collector_a).post(url).status_code == 403

    def test_another_township_may_not_approve(self, pending, clerk_b):
        url = reverse("issuance:proxy-approve", args=[pending.pk])
        assert signed_in(clerk_b).post(url).status_code == 404

    def test_revoked_with_a_reason(self, valid, clerk_a):
        url = reverse("issuance:proxy-revoke", args=[valid.pk])
        response = signed_in(clerk_a).post(url, {"reason": "持卡人已能自理"}, follow=True)
        assert "已撤销该代管审批" in response.content.decode()
        valid.refresh_from_db()
        assert valid.revoke_reason == "持卡人已能自理"

    def test_revoking_without_a_reason_is_refused(self, valid, clerk_a):
        url = reverse("issuance:proxy-revoke", args=[valid.pk])
        response = signed_in(clerk_a).post(url, {"reason": ""}, follow=True)
        assert "请填写撤销原因" in response.content.decode()

    def test_a_collector_may_not_revoke(self, valid, collector_a, clerk_b):
        url = reverse("issuance:proxy-revoke", args=[valid.pk])
        assert signed_in(collector_a).post(url, {"reason": "x"}).status_code == 403
        assert signed_in(clerk_b).post(url, {"reason": "x"}).status_code == 404


class TestIssueUnderTheApproval:
    def test_the_card_goes_to_the_proxy(self, valid, card, collector_a):
        url = reverse("issuance:proxy-issue", args=[valid.pk])
        data = {"location": "大河社区村委会", "identity_checked": "on"}
        response = signed_in(collector_a).post(url, data, follow=True)
        assert "已发放给代领人张小明（经批准代领）" in response.content.decode()
        entry = LedgerEntry.objects.get(card=card)
        assert (entry.method, entry.signee, entry.custody_kind) == ("proxy", "张小明", "proxy")

    def test_without_the_id_check_the_reason_is_shown(self, valid, card, clerk_a):
        url = reverse("issuance:proxy-issue", args=[valid.pk])
        response = signed_in(clerk_a).post(url, {"location": "社保中心"})
        assert response.status_code == 400
        assert "发放前必须核验签收人的身份证件" in response.content.decode()
        assert not LedgerEntry.objects.exists()

    def test_a_cadre_custodian_is_refused_with_the_reason(self, valid, card, clerk_a, township_a):
        Cadre.objects.create(name="张小明", id_number=GUARDIAN_ID, township=township_a, post="组长")
        url = reverse("issuance:proxy-issue", args=[valid.pk])
        response = signed_in(clerk_a).post(url, {"location": "社保中心", "identity_checked": "on"})
        assert "审批未注明其干部身份及理由" in response.content.decode()

    def test_not_for_a_supervisor_nor_another_township(self, valid, card, supervisor, clerk_b):
        url = reverse("issuance:proxy-issue", args=[valid.pk])
        data = {"location": "x", "identity_checked": "on"}
        assert signed_in(supervisor).post(url, data).status_code == 403
        assert signed_in(clerk_b).post(url, data).status_code == 404
        assert not LedgerEntry.objects.exists()

    def test_an_expired_approval_offers_no_issue(self, valid, card, clerk_a):
        ProxyApproval.objects.filter(pk=valid.pk).update(valid_until=datetime.date(2026, 11, 28))
        html = signed_in(clerk_a).get(reverse("issuance:proxy-detail", args=[valid.pk])).content
        assert "已到期" in html.decode() and 'data-testid="proxy-issue"' not in html.decode()


class TestPersonPageAndCadres:
    def test_the_person_page_links_for_who_may(self, valid, clerk_a, banker_a, supervisor):
        url = reverse("roster:person-detail", args=[valid.person.pk])
        html = signed_in(clerk_a).get(url).content.decode()
        assert "person-proxy-register" in html and "张小明（儿子）代管" in html
        html = signed_in(supervisor).get(url).content.decode()
        assert "张小明（儿子）代管" in html and "person-proxy-register" not in html

    def test_the_cadre_list(self, township_a, township_b, clerk_a, collector_a):
        Cadre.objects.create(name="李支书", id_number=GUARDIAN_ID, township=township_a, post="支书")
        response = signed_in(clerk_a).get(reverse("issuance:cadre-list"))
        assert (
            "李支书" in response.content.decode() and GUARDIAN_ID not in response.content.decode()
        )
        assert signed_in(collector_a).get(reverse("issuance:cadre-list")).status_code == 403

    def test_another_townships_cadres_are_not_listed(self, township_a, clerk_b):
        Cadre.objects.create(name="李支书", id_number=GUARDIAN_ID, township=township_a, post="支书")
        assert (
            "李支书" not in signed_in(clerk_b).get(reverse("issuance:cadre-list")).content.decode()
        )
