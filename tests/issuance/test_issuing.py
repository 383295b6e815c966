"""发放 by township and village clerks, and 集中发放 days from their sign-off sheets."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from dayao_sscard.models import AuditEvent
from issuance import issuing
from issuance.models import (
    CancellationRequest,
    Card,
    CardStatus,
    CustodyKind,
    LedgerEntry,
    LedgerEvent,
    SignOffOutcome,
    SignOffSheet,
)
from issuance.services import CardOutcome, Custody, cards_record_event
from roster.models import VitalStatus

from .issuing import stock_card, village_with_cards


@pytest.fixture
def card(county_admin, branch_a, person_a):
    return stock_card(person=person_a, branch=branch_a, user=county_admin, number="M20000001")


def issue(card, user, **fields):
    fields.setdefault("method", "window")
    fields.setdefault("place", "金碧镇社保中心")
    fields.setdefault("signee", card.person.name)
    fields.setdefault("identity_checked", True)
    return issuing.card_issue(card=card, acting_user=user, **fields)


@pytest.mark.django_db
class TestCardIssue:
    def test_a_township_clerk_issues_at_the_window_to_the_holder(self, card, clerk_a):
        issued = issue(card, clerk_a)
        assert issued.status == CardStatus.ISSUED
        assert (issued.custody_kind, issued.custodian) == (CustodyKind.HOLDER, "张桂芬")
        entry = issued.ledger_entries.order_by("-sequence").first()
        assert (entry.event, entry.method, entry.signee, entry.to_party) == (
            LedgerEvent.ISSUED,
            "window",
            "张桂芬",
            "张桂芬",
        )
        assert entry.location == "金碧镇社保中心" and entry.identity_checked is True
        assert entry.responsible_person == clerk_a.display_name or clerk_a.username

    @pytest.mark.parametrize("method", ["on_site", "door_to_door"])
    def test_a_village_collector_issues_on_site_or_at_the_door(self, card, collector_a, method):
        issued = issue(card, collector_a, method=method, place="大河社区3组")
        assert issued.ledger_entries.order_by("-sequence").first().method == method

    def test_by_mail_the_tracking_number_goes_into_the_note(self, card, clerk_a):
        with pytest.raises(ValidationError, match="邮寄发放须填写邮寄单号"):
            issue(card, clerk_a, method="mail", place="昆明市五华区")
        issued = issue(card, clerk_a, method="mail", place="昆明市五华区", tracking_number="SF123")
        assert issued.ledger_entries.order_by("-sequence").first().note == "邮寄单号：SF123"

    def test_without_the_id_check_the_ledger_refuses(self, card, clerk_a):
        with pytest.raises(ValidationError, match="必须核验签收人的身份证件"):
            issue(card, clerk_a, identity_checked=False)
        assert Card.objects.get(pk=card.pk).status == CardStatus.IN_STOCK

    def test_a_proxy_without_an_approval_is_refused(self, card, clerk_a):
        with pytest.raises(ValidationError, match="代领"):
            issue(
                card,
                clerk_a,
                method="proxy",
                proxy_name="张三",
                proxy_id_number="53232619800517001X",
            )
        assert Card.objects.get(pk=card.pk).status == CardStatus.IN_STOCK

    def test_a_proxy_needs_a_name_and_a_valid_id_number(self, card, clerk_a):
        with pytest.raises(ValidationError, match="代领人姓名"):
            issue(card, clerk_a, method="proxy", proxy_id_number="53232619800517001X")
        with pytest.raises(ValidationError, match="代领人身份证号码有误"):
            issue(card, clerk_a, method="proxy", proxy_name="张三", proxy_id_number="123")

    def test_the_counter_method_is_the_banks(self, card, clerk_a):
        with pytest.raises(ValidationError, match="请选择发放方式"):
            issue(card, clerk_a, method="counter")

    def test_a_second_issue_is_already_issued_and_does_nothing(self, card, clerk_a):
        issue(card, clerk_a)
        with pytest.raises(issuing.AlreadyIssued, match="已于.*发放给张桂芬，无需重复登记"):
            issue(card, clerk_a)
        assert LedgerEntry.objects.filter(card=card, event=LedgerEvent.ISSUED).count() == 1

    def test_the_time_given_is_recorded(self, card, clerk_a):
        when = timezone.now() - datetime.timedelta(minutes=30)
        issued = issue(card, clerk_a, occurred_at=when)
        assert issued.ledger_entries.order_by("-sequence").first().occurred_at == when

    def test_not_by_bank_staff_the_supervisor_or_another_township(
        self, card, banker_a, supervisor, clerk_b
    ):
        for user in (banker_a, supervisor, clerk_b):
            with pytest.raises(PermissionDenied):
                issue(card, user)
        assert Card.objects.get(pk=card.pk).status == CardStatus.IN_STOCK


@pytest.fixture
def cards(county_admin, branch_a, village_a):
    return village_with_cards(village_a, branch_a, county_admin, ["张一", "李二", "王三", "赵四"])


def make_sheet(user, village, place="大河社区居委会"):
    return issuing.sign_off_sheet_create(
        acting_user=user, village=village, day=timezone.localdate(), place=place
    )


@pytest.mark.django_db
class TestSignOffSheet:
    def test_it_lists_the_villages_cards_waiting_for_their_holders(
        self, cards, collector_a, county_admin, branch_a, village_a, village_a2, clerk_a
    ):
        issue(cards[0], clerk_a)  # already in the holder's hands
        dead = cards[1].person
        dead.vital_status, dead.death_date = VitalStatus.DECEASED, datetime.date(2026, 1, 1)
        dead.save()
        CancellationRequest.objects.create(card=cards[2], reason="持卡人已死亡")
        village_with_cards(village_a2, branch_a, county_admin, ["外村人"], first=9)
        sheet = make_sheet(collector_a, village_a)
        assert [row.card for row in sheet.rows.order_by("position")] == [cards[3]]
        assert sheet.number.startswith(f"{timezone.localdate():%Y%m%d}-金碧-大河社区-")
        assert AuditEvent.objects.filter(action="issuance.signoffsheet.created").count() == 1

    def test_a_second_click_gets_the_same_sheet(self, cards, collector_a, village_a):
        first = make_sheet(collector_a, village_a)
        assert make_sheet(collector_a, village_a) == first
        assert make_sheet(collector_a, village_a, place="3组活动室") != first
        assert SignOffSheet.objects.count() == 2

    def test_nothing_waiting_no_sheet(self, collector_a, village_a):
        with pytest.raises(ValidationError, match="没有等待发放"):
            make_sheet(collector_a, village_a)

    def test_only_for_a_village_in_the_users_scope(
        self, cards, collector_a, clerk_b, banker_a, supervisor, village_a, village_a2
    ):
        for user, village in (
            (clerk_b, village_a),
            (banker_a, village_a),
            (supervisor, village_a),
            (collector_a, village_a2),
        ):
            with pytest.raises(PermissionDenied):
                make_sheet(user, village)


def results(sheet, *, signed=(), proxies=None):
    rows = {row.card.person.name: row.pk for row in sheet.rows.select_related("card__person")}
    out = {rows[name]: issuing.RowResult(signed=True) for name in signed}
    for name, (proxy, id_number) in (proxies or {}).items():
        out[rows[name]] = issuing.RowResult(
            signed=True, by_proxy=True, proxy_name=proxy, proxy_id_number=id_number
        )
    return out


@pytest.mark.django_db
class TestRecordingTheDay:
    def test_ticked_holders_are_issued_the_rest_stay_in_stock(self, cards, collector_a, village_a):
        sheet = make_sheet(collector_a, village_a)
        issuing.sign_off_sheet_record(
            sheet=sheet,
            acting_user=collector_a,
            results=results(sheet, signed=["张一", "王三"]),
            identity_checked=True,
        )
        status = {c.person.name: c.status for c in Card.objects.select_related("person")}
        assert status == {
            "张一": CardStatus.ISSUED,
            "李二": CardStatus.IN_STOCK,
            "王三": CardStatus.ISSUED,
            "赵四": CardStatus.IN_STOCK,
        }
        entry = LedgerEntry.objects.get(card=cards[2], event=LedgerEvent.ISSUED)
        assert (entry.signee, entry.to_party, entry.method) == ("王三", "王三", "on_site")
        assert entry.location == "大河社区居委会" and entry.identity_checked is True
        assert sheet.number in entry.note
        card = Card.objects.get(pk=cards[2].pk)
        assert (card.custody_kind, card.custodian) == (CustodyKind.HOLDER, "王三")
        sheet.refresh_from_db()
        assert sheet.recorded_by == collector_a and sheet.recorded_at is not None
        outcomes = dict(sheet.rows.values_list("card__person__name", "outcome"))
        assert outcomes == {
            "张一": SignOffOutcome.SIGNED,
            "李二": SignOffOutcome.NOT_COLLECTED,
            "王三": SignOffOutcome.SIGNED,
            "赵四": SignOffOutcome.NOT_COLLECTED,
        }

    def test_recorded_once(self, cards, collector_a, clerk_a, village_a):
        sheet = make_sheet(collector_a, village_a)
        kwargs = {"results": results(sheet, signed=["张一"]), "identity_checked": True}
        issuing.sign_off_sheet_record(sheet=sheet, acting_user=collector_a, **kwargs)
        with pytest.raises(issuing.AlreadyRecorded, match="无需重复登记"):
            issuing.sign_off_sheet_record(sheet=sheet, acting_user=clerk_a, **kwargs)
        assert LedgerEntry.objects.filter(event=LedgerEvent.ISSUED).count() == 1

    def test_all_or_nothing_naming_the_refused_card(self, cards, collector_a, clerk_a, village_a):
        sheet = make_sheet(collector_a, village_a)
        issue(cards[1], clerk_a)  # 李二 came to the window in between
        with pytest.raises(ValidationError, match="李二的社保卡当前状态为“已发放”"):
            issuing.sign_off_sheet_record(
                sheet=sheet,
                acting_user=collector_a,
                results=results(sheet, signed=["张一", "李二"]),
                identity_checked=True,
            )
        assert Card.objects.get(pk=cards[0].pk).status == CardStatus.IN_STOCK
        assert SignOffSheet.objects.get(pk=sheet.pk).recorded_at is None

    def test_a_card_issued_elsewhere_meanwhile_is_not_counted_as_not_collected(
        self, cards, collector_a, clerk_a, village_a
    ):
        sheet = make_sheet(collector_a, village_a)
        issue(cards[1], clerk_a)  # 李二 came to the window in between
        issuing.sign_off_sheet_record(
            sheet=sheet,
            acting_user=collector_a,
            results=results(sheet, signed=["张一"]),
            identity_checked=True,
        )
        outcomes = dict(sheet.rows.values_list("card__person__name", "outcome"))
        assert outcomes["李二"] == SignOffOutcome.ELSEWHERE
        assert outcomes["王三"] == SignOffOutcome.NOT_COLLECTED

    def test_a_proxy_row_without_approval_undoes_the_whole_submit(
        self, cards, collector_a, village_a
    ):
        sheet = make_sheet(collector_a, village_a)
        with pytest.raises(ValidationError, match="赵四（代领）"):
            issuing.sign_off_sheet_record(
                sheet=sheet,
                acting_user=collector_a,
                results=results(
                    sheet, signed=["张一"], proxies={"赵四": ("赵小四", "53232619800517001X")}
                ),
                identity_checked=True,
            )
        assert not LedgerEntry.objects.filter(event=LedgerEvent.ISSUED).exists()
        assert SignOffSheet.objects.get(pk=sheet.pk).recorded_at is None

    def test_nothing_ticked_or_no_id_check_is_refused(self, cards, collector_a, village_a):
        sheet = make_sheet(collector_a, village_a)
        with pytest.raises(ValidationError, match="请勾选"):
            issuing.sign_off_sheet_record(
                sheet=sheet, acting_user=collector_a, results={}, identity_checked=True
            )
        with pytest.raises(ValidationError, match="核验每位签收人的身份证件"):
            issuing.sign_off_sheet_record(
                sheet=sheet,
                acting_user=collector_a,
                results=results(sheet, signed=["张一"]),
                identity_checked=False,
            )

    def test_a_time_before_a_cards_previous_step_is_refused(self, cards, collector_a, village_a):
        sheet = make_sheet(collector_a, village_a)
        with pytest.raises(ValidationError, match="张一的社保卡：发生时间早于"):
            issuing.sign_off_sheet_record(
                sheet=sheet,
                acting_user=collector_a,
                results=results(sheet, signed=["张一"]),
                identity_checked=True,
                occurred_at=timezone.now() - datetime.timedelta(days=3),
            )

    def test_not_by_another_township(self, cards, collector_a, clerk_b, village_a):
        sheet = make_sheet(collector_a, village_a)
        with pytest.raises(PermissionDenied):
            issuing.sign_off_sheet_record(
                sheet=sheet,
                acting_user=clerk_b,
                results=results(sheet, signed=["张一"]),
                identity_checked=True,
            )


@pytest.mark.django_db
class TestBulkIssue:
    """cards_record_event with a signee per card, as the sheet's day uses it."""

    def test_each_card_goes_to_its_own_signee_and_existing_callers_keep_theirs(
        self, cards, clerk_a
    ):
        issued = cards_record_event(
            cards=cards[:2],
            event=LedgerEvent.ISSUED,
            acting_user=clerk_a,
            custody=Custody(
                kind=CustodyKind.HOLDER,
                method="on_site",
                identity_checked=True,
                party="李二",
                signee="李二",
            ),
            outcomes={cards[0].pk: CardOutcome(signee="张一")},
        )
        by_name = {c.person.name: c for c in issued}
        assert by_name["张一"].custodian == "张一"
        assert by_name["李二"].custodian == "李二"  # no signee of its own: the shared one
        entry = LedgerEntry.objects.get(card=cards[0], event=LedgerEvent.ISSUED)
        assert (entry.signee, entry.to_party, entry.identity_checked) == ("张一", "张一", True)

    def test_a_refused_card_names_its_holder(self, cards, clerk_a):
        person = cards[1].person
        person.vital_status, person.death_date = VitalStatus.DECEASED, datetime.date(2026, 1, 1)
        person.save()
        with pytest.raises(ValidationError, match="李二的社保卡：持卡人已登记死亡"):
            cards_record_event(
                cards=cards[:2],
                event=LedgerEvent.ISSUED,
                acting_user=clerk_a,
                custody=Custody(kind=CustodyKind.HOLDER, identity_checked=True),
                outcomes={c.pk: CardOutcome(signee=c.person.name) for c in cards[:2]},
            )
