"""代管（代领）: registering, approving and revoking approvals, cadres, and the ledger's rule."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from dayao_sscard.models import AuditEvent
from dayao_sscard.roles import Role
from issuance.models import (
    Cadre,
    Card,
    CardStatus,
    CustodyKind,
    IssueMethod,
    LedgerEntry,
    LedgerEvent,
    ProxyApproval,
    ProxyGround,
    ProxyStatus,
)
from issuance.proxies import (
    EXPIRING_WITHIN_DAYS,
    custodian_cadre,
    proxy_approval_approve,
    proxy_approval_revoke,
    proxy_approval_valid_for,
    proxy_issue_refusal,
)
from issuance.proxy_selectors import proxy_approvals
from issuance.services import (
    CardOutcome,
    Custody,
    card_issue_to_proxy,
    card_record_event,
    cards_record_event,
)
from roster.models import Category, PersonCategory
from tests.factories import PersonFactory, UserFactory, make_id_number
from tests.issuance.proxydata import (
    GUARDIAN_ID,
    approved,
    in_group,
    pdf_bytes,
    register,
    scan_jpeg,
)

TODAY = datetime.date(2026, 11, 29)
pytestmark = pytest.mark.usefixtures("fixed_clock")


@pytest.fixture
def holder(person_a):
    return in_group(person_a)


@pytest.fixture
def card(holder, branch_a):
    return Card.objects.create(
        person=holder,
        bank=branch_a.bank,
        card_number="M30000001",
        status=CardStatus.IN_STOCK,
        custody_kind=CustodyKind.TOWNSHIP,
        custodian="金碧镇社保中心",
    )


@pytest.fixture
def clerk_a2(township_a):
    return UserFactory(
        username="clerk_a2", display_name="李会计", role=Role.TOWNSHIP_STAFF, township=township_a
    )


def born_on(village, day: datetime.date):
    """A person born that day (the birth date itself: a test's ID numbers may shift it)."""
    return PersonFactory(village=village, id_number=make_id_number(birth=day), birth_date=day)


def proxy_custody(name="张小明", id_number=GUARDIAN_ID) -> Custody:
    return Custody(
        kind=CustodyKind.PROXY,
        method=IssueMethod.PROXY,
        party=name,
        signee=name,
        identity_checked=True,
        location="金碧镇社保中心",
        extra={"proxy_id_number": id_number},
    )


def issue(card, user, custody, **kwargs):
    return card_record_event(
        card=card, event=LedgerEvent.ISSUED, acting_user=user, custody=custody, **kwargs
    )


def refused(excinfo) -> str:
    return "；".join(excinfo.value.messages)


class TestRegistering:
    def test_an_approval_is_registered_with_its_document_and_audited(self, holder, collector_a):
        approval = register(holder, collector_a)
        assert approval.status_on(TODAY) == ProxyStatus.PENDING
        assert approval.document.read().startswith(b"%PDF-")
        assert approval.document.name.startswith("proxy_documents/")
        assert approval.document_name == "委托书.pdf"
        assert AuditEvent.objects.filter(
            action="issuance.proxyapproval.registered", object_id=str(approval.pk)
        ).exists()

    def test_the_same_custodian_twice_is_registered_once(self, holder, clerk_a):
        register(holder, clerk_a)
        with pytest.raises(ValidationError) as excinfo:
            register(holder, clerk_a)
        assert refused(excinfo).startswith("张桂芬已有由张小明代管的审批（待审批，")
        assert ProxyApproval.objects.count() == 1

    def test_a_jpeg_scan_is_a_document(self, holder, clerk_a):
        approval = register(holder, clerk_a, document=scan_jpeg(), document_name="扫描.jpg")
        assert approval.document.name.endswith(".jpg")

    @pytest.mark.parametrize(
        "data, reason",
        [
            (b"GIF89a" + b"\0" * 200, "无法识别的文件"),
            (b"%PDF-1.4 truncated" + b"x" * 200, "PDF文件不完整"),
            ("tiny", "图片分辨率过低（200×200）"),
            (b"x", "证明材料文件过小"),
        ],
    )
    def test_a_document_that_cannot_be_read_is_refused(self, holder, clerk_a, data, reason):
        if data == "tiny":
            data = scan_jpeg((200, 200))
        with pytest.raises(ValidationError) as excinfo:
            register(holder, clerk_a, document=data)
        assert reason in refused(excinfo)
        assert not ProxyApproval.objects.exists()

    def test_a_person_in_no_allowed_group_is_refused(self, person_a, clerk_a):
        with pytest.raises(ValidationError) as excinfo:
            register(person_a, clerk_a)
        assert refused(excinfo) == (
            "张桂芬不在低保人员名单中，不能以“低保”为由代管；"
            "代管只适用于低保、特困、残疾人或未成年人。"
        )

    def test_the_ground_must_be_the_persons_own_group(self, person_a, clerk_a):
        in_group(person_a, Category.DISABLED)
        register(person_a, clerk_a, ground=ProxyGround.DISABLED)
        with pytest.raises(ValidationError, match="不在特困人员名单中"):
            register(person_a, clerk_a, ground=ProxyGround.EXTREME_POVERTY)

    def test_a_subsidy_recipient_alone_is_no_ground(self, person_a, clerk_a):
        in_group(person_a, Category.SUBSIDY_RECIPIENT)
        with pytest.raises(ValidationError, match="不在低保人员名单中"):
            register(person_a, clerk_a)

    def test_a_minor_from_the_birth_date(self, village_a, clerk_a):
        child = born_on(village_a, datetime.date(2015, 6, 1))
        approval = register(
            child, clerk_a, ground=ProxyGround.MINOR, valid_until=datetime.date(2033, 5, 31)
        )
        assert approval.ground == ProxyGround.MINOR

    def test_a_minor_approval_ends_before_the_eighteenth_birthday(self, village_a, clerk_a):
        child = born_on(village_a, datetime.date(2015, 6, 1))
        with pytest.raises(ValidationError) as excinfo:
            register(
                child, clerk_a, ground=ProxyGround.MINOR, valid_until=datetime.date(2033, 6, 1)
            )
        assert (
            refused(excinfo) == "未成年人代管的有效期最长到其年满18周岁的前一天（2033年05月31日）。"
        )

    def test_an_adult_is_no_minor_from_the_day_of_the_eighteenth_birthday(self, village_a, clerk_a):
        adult = born_on(village_a, datetime.date(2008, 11, 29))
        with pytest.raises(ValidationError) as excinfo:
            register(adult, clerk_a, ground=ProxyGround.MINOR)
        assert "已于2026年11月29日年满18周岁，不是未成年人" in refused(excinfo)

    def test_a_minor_the_day_before(self, village_a, clerk_a):
        minor = born_on(village_a, datetime.date(2008, 11, 30))
        register(minor, clerk_a, ground=ProxyGround.MINOR, valid_until=TODAY)

    def test_the_custodians_id_number_follows_the_roster_rules(self, holder, clerk_a):
        with pytest.raises(ValidationError, match="代管人身份证号码校验位错误"):
            register(holder, clerk_a, custodian_id_number=GUARDIAN_ID[:17] + "0")

    def test_the_holder_is_no_custodian_of_their_own_card(self, holder, clerk_a):
        with pytest.raises(ValidationError, match="代管人不能是持卡人本人"):
            register(holder, clerk_a, custodian_id_number=holder.id_number)

    def test_a_period_already_over_is_refused(self, holder, clerk_a):
        with pytest.raises(ValidationError, match="早于今天，审批登记即已到期"):
            register(holder, clerk_a, valid_until=TODAY - datetime.timedelta(days=1))

    def test_a_bank_clerk_may_not_register(self, holder, banker_a):
        with pytest.raises(PermissionDenied):
            register(holder, banker_a)

    def test_another_townships_clerk_may_not_register(self, holder, clerk_b):
        with pytest.raises(PermissionDenied, match="不在您的管辖范围内"):
            register(holder, clerk_b)


class TestCadres:
    def test_a_cadre_by_the_countys_list(self, holder, clerk_a, township_a):
        Cadre.objects.create(
            name="张小明", id_number=GUARDIAN_ID, township=township_a, post="村委会副主任"
        )
        with pytest.raises(ValidationError) as excinfo:
            register(holder, clerk_a)
        assert refused(excinfo) == (
            "代管人张小明是县人社局登记的乡镇村干部（金碧镇村委会副主任）："
            "乡镇、村干部不得代管群众的社保卡；"
            "确需由其代管的，审批须勾选“代管人是乡镇或村干部”并写明理由。"
        )

    def test_a_cadre_by_a_staff_account_of_the_township(self, holder, clerk_a, collector_a):
        collector_a.display_name = "张小明"
        collector_a.save()
        with pytest.raises(
            ValidationError, match="本乡镇工作人员（村（社区）信息采集员账号collector_a）"
        ):
            register(holder, clerk_a)

    def test_a_username_counts_as_the_name(self, holder, clerk_a, township_a):
        UserFactory(username="张小明", role=Role.TOWNSHIP_STAFF, township=township_a)
        with pytest.raises(ValidationError, match="本乡镇工作人员"):
            register(holder, clerk_a)

    def test_bank_staff_and_other_townships_accounts_are_no_cadres_here(
        self, holder, township_a, township_b, branch_a
    ):
        UserFactory(
            username="b1",
            display_name="张小明",
            role=Role.BANK_STAFF,
            township=None,
            bank_branch=branch_a,
        )
        UserFactory(username="t2", display_name="张小明", township=township_b)
        assert (
            custodian_cadre(township_id=township_a.pk, name="张小明", id_number=GUARDIAN_ID) == ""
        )

    def test_a_cadre_named_as_such_with_a_reason_is_allowed(self, holder, clerk_a, township_a):
        Cadre.objects.create(name="张小明", id_number=GUARDIAN_ID, township=township_a, post="村医")
        approval = register(
            holder, clerk_a, custodian_is_cadre=True, cadre_reason="持卡人独居，唯一亲属为其子"
        )
        assert approval.custodian_is_cadre

    def test_a_cadre_without_a_reason_is_refused(self, holder, clerk_a):
        with pytest.raises(ValidationError, match="必须写明由其代管的理由"):
            register(holder, clerk_a, custodian_is_cadre=True, cadre_reason=" ")


class TestApproving:
    def test_another_account_approves(self, holder, collector_a, clerk_a):
        approval = proxy_approval_approve(
            approval=register(holder, collector_a), acting_user=clerk_a
        )
        assert (approval.approved_by, approval.status_on(TODAY)) == (clerk_a, ProxyStatus.VALID)
        assert AuditEvent.objects.filter(action="issuance.proxyapproval.approved").count() == 1

    def test_the_registrar_may_not_approve(self, holder, clerk_a):
        approval = register(holder, clerk_a)
        with pytest.raises(ValidationError, match="审批人不能是登记人本人"):
            proxy_approval_approve(approval=approval, acting_user=clerk_a)
        approval.refresh_from_db()
        assert approval.approved_at is None

    def test_a_collector_may_not_approve(self, holder, clerk_a, collector_a):
        with pytest.raises(PermissionDenied):
            proxy_approval_approve(approval=register(holder, clerk_a), acting_user=collector_a)

    def test_twice_approves_once(self, holder, collector_a, clerk_a, county_admin):
        approval = approved(holder, collector_a, clerk_a)
        with pytest.raises(ValidationError, match="无需重复审批"):
            proxy_approval_approve(approval=approval, acting_user=county_admin)

    def test_the_ground_is_checked_again(self, holder, collector_a, clerk_a):
        approval = register(holder, collector_a)
        PersonCategory.objects.filter(person=holder).delete()
        with pytest.raises(ValidationError, match="不在低保人员名单中"):
            proxy_approval_approve(approval=approval, acting_user=clerk_a)

    def test_a_revoked_approval_is_not_approved(self, holder, collector_a, clerk_a):
        approval = register(holder, collector_a)
        proxy_approval_revoke(approval=approval, acting_user=clerk_a, reason="登记有误")
        with pytest.raises(ValidationError, match="已撤销，不能批准"):
            proxy_approval_approve(approval=approval, acting_user=clerk_a)

    def test_revoking_needs_a_reason(self, holder, collector_a, clerk_a):
        with pytest.raises(ValidationError, match="请填写撤销原因"):
            proxy_approval_revoke(
                approval=register(holder, collector_a), acting_user=clerk_a, reason=" "
            )


class TestValidity:
    @pytest.fixture
    def approval(self, holder, collector_a, clerk_a):
        approval = approved(holder, collector_a, clerk_a)
        ProxyApproval.objects.filter(pk=approval.pk).update(
            valid_from=datetime.date(2026, 1, 1), valid_until=datetime.date(2026, 12, 31)
        )
        return approval

    @pytest.mark.parametrize(
        "day, valid",
        [
            (datetime.date(2025, 12, 31), False),
            (datetime.date(2026, 1, 1), True),
            (datetime.date(2026, 12, 31), True),
            (datetime.date(2027, 1, 1), False),
        ],
    )
    def test_valid_from_the_first_to_the_last_day(self, approval, holder, day, valid):
        found = proxy_approval_valid_for(holder, "张小明", GUARDIAN_ID, on=day)
        assert (found == approval) is valid

    def test_only_for_the_named_custodian(self, approval, holder):
        assert proxy_approval_valid_for(holder, "张小红", GUARDIAN_ID, on=TODAY) is None
        other = make_id_number(birth=datetime.date(1970, 1, 1))
        assert proxy_approval_valid_for(holder, "张小明", other, on=TODAY) is None

    def test_the_lists(self, approval, holder, clerk_a, collector_a):
        later = approved(
            holder,
            collector_a,
            clerk_a,
            custodian_name="张小红",
            custodian_id_number=make_id_number(birth=datetime.date(1978, 4, 4), male=False),
            valid_until=TODAY + datetime.timedelta(400),
        )
        assert set(proxy_approvals(user=clerk_a, state="valid")) == {approval, later}
        # 2026-12-31 is 32 days after 2026-11-29: not yet expiring within 30 days.
        assert EXPIRING_WITHIN_DAYS == 30
        assert list(proxy_approvals(user=clerk_a, state="expiring")) == []
        ProxyApproval.objects.filter(pk=approval.pk).update(
            valid_until=TODAY + datetime.timedelta(30)
        )
        assert list(proxy_approvals(user=clerk_a, state="expiring")) == [approval]
        ProxyApproval.objects.filter(pk=approval.pk).update(
            valid_until=TODAY - datetime.timedelta(1)
        )
        assert list(proxy_approvals(user=clerk_a, state="expired")) == [approval]
        assert list(proxy_approvals(user=clerk_a, state="valid")) == [later]

    def test_another_townships_clerk_lists_none(self, approval, clerk_b):
        assert not proxy_approvals(user=clerk_b).exists()


class TestTheLedgerRule:
    """Every reason a card does not go to a proxy, as the ledger states it."""

    def test_issued_under_a_valid_approval(self, card, collector_a, clerk_a):
        approved(card.person, collector_a, clerk_a)
        issue(card, clerk_a, proxy_custody())
        card.refresh_from_db()
        entry = LedgerEntry.objects.get(card=card)
        assert (card.status, card.custody_kind, card.custodian) == ("issued", "proxy", "张小明")
        assert (entry.method, entry.signee, entry.identity_checked) == ("proxy", "张小明", True)

    def test_no_approval(self, card, clerk_a):
        with pytest.raises(ValidationError) as excinfo:
            issue(card, clerk_a, proxy_custody())
        assert refused(excinfo) == (
            "系统中没有持卡人张桂芬的代管（代领）审批，不能发放给代领人张小明；"
            "请先登记并经审批，或由持卡人本人签收。"
        )
        assert not LedgerEntry.objects.exists()

    def test_no_id_number(self, card, collector_a, clerk_a):
        approved(card.person, collector_a, clerk_a)
        with pytest.raises(ValidationError, match="代领须登记代领人的身份证号码"):
            issue(card, clerk_a, proxy_custody(id_number=""))

    def test_pending(self, card, collector_a, clerk_a):
        register(card.person, collector_a)
        with pytest.raises(ValidationError, match="该代管审批尚未批准"):
            issue(card, clerk_a, proxy_custody())

    def test_expired(self, card, collector_a, clerk_a):
        approval = approved(card.person, collector_a, clerk_a)
        ProxyApproval.objects.filter(pk=approval.pk).update(
            valid_until=TODAY - datetime.timedelta(1)
        )
        with pytest.raises(ValidationError) as excinfo:
            issue(card, clerk_a, proxy_custody())
        assert refused(excinfo) == (
            "该代管审批已于2026年11月28日到期，不能发放；如仍需代领，请重新办理审批。"
        )

    def test_valid_on_the_day_it_happened(self, card, collector_a, clerk_a):
        approval = approved(card.person, collector_a, clerk_a)
        ProxyApproval.objects.filter(pk=approval.pk).update(
            valid_until=TODAY - datetime.timedelta(1)
        )
        yesterday = timezone.now() - datetime.timedelta(days=1)
        issue(card, clerk_a, proxy_custody(), occurred_at=yesterday)
        assert Card.objects.get(pk=card.pk).status == CardStatus.ISSUED

    def test_not_yet_valid(self, card, collector_a, clerk_a):
        approved(card.person, collector_a, clerk_a, valid_from=TODAY + datetime.timedelta(3))
        with pytest.raises(ValidationError) as excinfo:
            issue(card, clerk_a, proxy_custody())
        assert refused(excinfo) == "该代管审批自2026年12月02日起生效，2026年11月29日不能凭其发放。"

    def test_the_latest_approval_says_why(self, card, collector_a, clerk_a):
        old = approved(card.person, collector_a, clerk_a)
        ProxyApproval.objects.filter(pk=old.pk).update(valid_until=TODAY - datetime.timedelta(1))
        register(card.person, collector_a)
        with pytest.raises(ValidationError, match="该代管审批尚未批准"):
            issue(card, clerk_a, proxy_custody())

    def test_revoked(self, card, collector_a, clerk_a):
        approval = approved(card.person, collector_a, clerk_a)
        proxy_approval_revoke(approval=approval, acting_user=clerk_a, reason="监护人变更")
        with pytest.raises(ValidationError) as excinfo:
            issue(card, clerk_a, proxy_custody())
        assert refused(excinfo) == (
            "该代管审批已于2026年11月29日撤销（监护人变更），不能凭其发放。"
        )

    def test_names_someone_else(self, card, collector_a, clerk_a):
        approved(card.person, collector_a, clerk_a)
        stranger = make_id_number(birth=datetime.date(1988, 8, 8))
        with pytest.raises(ValidationError) as excinfo:
            issue(card, clerk_a, proxy_custody(name="王强", id_number=stranger))
        assert refused(excinfo).startswith(
            f"持卡人张桂芬的代管审批指定的代管人是张小明（{GUARDIAN_ID[:6]}"
        )
        assert "不是王强" in refused(excinfo)

    def test_the_name_does_not_match_the_id_number(self, card, collector_a, clerk_a):
        approved(card.person, collector_a, clerk_a)
        with pytest.raises(
            ValidationError, match="代管审批登记的代管人姓名为张小明，与签收人张晓明不符"
        ):
            issue(card, clerk_a, proxy_custody(name="张晓明"))

    def test_a_cadre_not_named_as_such(self, card, collector_a, clerk_a, township_a):
        approved(card.person, collector_a, clerk_a)
        Cadre.objects.create(name="张小明", id_number=GUARDIAN_ID, township=township_a, post="组长")
        with pytest.raises(ValidationError) as excinfo:
            issue(card, clerk_a, proxy_custody())
        assert refused(excinfo) == (
            "代领人张小明是县人社局登记的乡镇村干部（金碧镇组长），审批未注明其干部身份及理由；"
            "乡镇、村干部不得代领群众的社保卡，不能发放。"
        )

    def test_a_cadre_by_account_not_named_as_such(self, card, collector_a, clerk_a, clerk_a2):
        approved(card.person, collector_a, clerk_a)
        clerk_a2.display_name = "张小明"
        clerk_a2.save()
        with pytest.raises(ValidationError, match="代领人张小明是本乡镇工作人员"):
            issue(card, clerk_a, proxy_custody())

    def test_a_cadre_named_with_a_reason(self, card, collector_a, clerk_a, township_a):
        Cadre.objects.create(name="张小明", id_number=GUARDIAN_ID, township=township_a, post="组长")
        approved(
            card.person, collector_a, clerk_a, custodian_is_cadre=True, cadre_reason="唯一亲属"
        )
        issue(card, clerk_a, proxy_custody())

    def test_the_holder_no_longer_in_an_allowed_group(self, card, collector_a, clerk_a):
        approved(card.person, collector_a, clerk_a)
        PersonCategory.objects.filter(person=card.person).delete()
        with pytest.raises(ValidationError, match="代管依据已不成立：张桂芬不在低保人员名单中"):
            issue(card, clerk_a, proxy_custody())

    def test_the_minor_come_of_age(self, village_a, collector_a, clerk_a):
        child = born_on(village_a, datetime.date(2010, 3, 1))
        approved(
            child,
            collector_a,
            clerk_a,
            ground=ProxyGround.MINOR,
            valid_until=datetime.date(2028, 2, 28),
        )
        refusal = proxy_issue_refusal(
            person=child,
            custodian_name="张小明",
            custodian_id_number=GUARDIAN_ID,
            on=datetime.date(2028, 3, 1),
        )
        assert refusal.startswith("该代管审批已于2028年02月28日到期")

    def test_the_method_proxy_needs_the_proxy_custody(self, card, collector_a, clerk_a):
        approved(card.person, collector_a, clerk_a)
        custody = proxy_custody()
        custody.kind = CustodyKind.HOLDER
        with pytest.raises(ValidationError, match="代领须登记发放方式“经批准代领”"):
            issue(card, clerk_a, custody)


class TestTheHolderSigns:
    def test_another_name_without_the_proxy_method_is_refused(self, card, clerk_a):
        custody = Custody(signee="张小明", identity_checked=True, method=IssueMethod.ON_SITE)
        with pytest.raises(ValidationError) as excinfo:
            issue(card, clerk_a, custody)
        assert refused(excinfo) == (
            "签收人张小明不是持卡人张桂芬：发放到本人须由持卡人本人签收；"
            "他人代领须选择“经批准代领”并凭有效审批。"
        )

    @pytest.mark.parametrize(
        "method", [IssueMethod.WINDOW, IssueMethod.MAIL, IssueMethod.DOOR_TO_DOOR]
    )
    def test_the_holder_signs_for_every_other_method(self, card, clerk_a, method):
        issue(card, clerk_a, Custody(signee="张 桂芬", identity_checked=True, method=method))
        assert LedgerEntry.objects.get(card=card).get_method_display() in (
            "窗口发放",
            "邮寄发放",
            "上门发放",
        )


class TestMany:
    @pytest.fixture
    def cards(self, holder, village_a, branch_a, clerk_a):
        """Two cards made (one ledger entry each), of two holders."""
        other = in_group(PersonFactory(village=village_a, name="罗志华"))
        made = []
        for person, number in ((holder, "M30000001"), (other, "M30000002")):
            card = Card.objects.create(person=person, bank=branch_a.bank)
            made.append(
                card_record_event(
                    card=card,
                    event=LedgerEvent.PRODUCED,
                    acting_user=clerk_a,
                    card_number=number,
                    custody=Custody(kind=CustodyKind.TOWNSHIP, party="金碧镇社保中心"),
                )
            )
        return made

    def test_each_holder_signs_for_their_own(self, cards, clerk_a):
        outcomes = {
            c.pk: CardOutcome(custody=Custody(signee=c.person.name, identity_checked=True))
            for c in cards
        }
        cards_record_event(
            cards=cards,
            event=LedgerEvent.ISSUED,
            acting_user=clerk_a,
            custody=Custody(method=IssueMethod.ON_SITE, identity_checked=True),
            outcomes=outcomes,
        )
        entries = LedgerEntry.objects.filter(event=LedgerEvent.ISSUED).order_by("card_id")
        assert [(e.signee, e.custody_kind, e.identity_checked) for e in entries] == [
            ("张桂芬", "holder", True),
            ("罗志华", "holder", True),
        ]
        assert sorted(Card.objects.values_list("custodian", flat=True)) == sorted(
            ["张桂芬", "罗志华"]
        )

    def test_one_signee_for_many_holders_is_refused(self, cards, clerk_a):
        with pytest.raises(ValidationError, match="签收人张桂芬不是持卡人罗志华"):
            cards_record_event(
                cards=cards,
                event=LedgerEvent.ISSUED,
                acting_user=clerk_a,
                custody=Custody(signee="张桂芬", identity_checked=True),
            )
        assert not LedgerEntry.objects.filter(event=LedgerEvent.ISSUED).exists()

    def test_a_proxy_among_many_needs_its_approval(self, cards, clerk_a, collector_a):
        first, second = cards
        outcomes = {
            first.pk: CardOutcome(custody=Custody(signee="张桂芬", identity_checked=True)),
            second.pk: CardOutcome(custody=proxy_custody()),
        }
        with pytest.raises(ValidationError, match="没有持卡人罗志华的代管（代领）审批"):
            cards_record_event(
                cards=cards, event=LedgerEvent.ISSUED, acting_user=clerk_a, outcomes=outcomes
            )
        approved(second.person, collector_a, clerk_a)
        cards_record_event(
            cards=cards, event=LedgerEvent.ISSUED, acting_user=clerk_a, outcomes=outcomes
        )
        assert Card.objects.get(pk=second.pk).custody_kind == CustodyKind.PROXY


class TestIssuingUnderTheApproval:
    def test_the_holders_card_goes_to_the_proxy(self, card, collector_a, clerk_a):
        approval = approved(card.person, collector_a, clerk_a)
        issued = card_issue_to_proxy(
            approval=approval,
            acting_user=collector_a,
            location="大河社区村委会",
            identity_checked=True,
        )
        entry = LedgerEntry.objects.get(card=card)
        assert (issued.status, entry.method, entry.signee, entry.location) == (
            "issued",
            "proxy",
            "张小明",
            "大河社区村委会",
        )
        assert entry.note == "凭代管审批发放给张小明（儿子）"

    def test_the_document_must_be_checked(self, card, collector_a, clerk_a):
        approval = approved(card.person, collector_a, clerk_a)
        with pytest.raises(ValidationError, match="发放前必须核验签收人的身份证件"):
            card_issue_to_proxy(
                approval=approval, acting_user=clerk_a, location="社保中心", identity_checked=False
            )

    def test_no_card_to_issue(self, holder, collector_a, clerk_a):
        approval = approved(holder, collector_a, clerk_a)
        with pytest.raises(ValidationError, match="张桂芬没有可发放的社保卡"):
            card_issue_to_proxy(
                approval=approval, acting_user=clerk_a, location="社保中心", identity_checked=True
            )

    def test_not_for_another_township(self, card, collector_a, clerk_a, clerk_b):
        approval = approved(card.person, collector_a, clerk_a)
        with pytest.raises(PermissionDenied):
            card_issue_to_proxy(
                approval=approval, acting_user=clerk_b, location="社保中心", identity_checked=True
            )


def test_pdf_bytes_is_a_document():
    from issuance.proxies import document_problem

    assert document_problem(pdf_bytes()) == ("", "pdf")
