"""二次发放, 回收登记, 回收清单, 认定睡眠卡, 注销: the services of issuance/stock.py."""

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from openpyxl import load_workbook

from dayao_sscard.models import AuditEvent
from issuance import stock
from issuance.models import (
    AttemptMethod,
    AttemptOutcome,
    CancellationRequest,
    CardStatus,
    CustodyKind,
    IssueMethod,
    LedgerEvent,
    ProvincialEntry,
    SecondIssuanceAttempt,
)
from issuance.selectors import recovery_list
from roster.services import person_mark_deceased
from tests.issuance.stockdata import old_card

pytestmark = pytest.mark.django_db


def _attempt(
    card, user, outcome=AttemptOutcome.UNREACHABLE, note="电话停机，村组长说已外出务工", **kw
):
    kw.setdefault("attempted_at", timezone.now() - datetime.timedelta(hours=1))
    kw.setdefault("method", AttemptMethod.PHONE)
    return stock.attempt_record(card=card, acting_user=user, outcome=outcome, note=note, **kw)


@pytest.fixture
def card_a(branch_a, person_a):
    return old_card(branch_a, person_a, number="M00000001")


class TestAttempts:
    def test_a_failure_is_recorded_with_its_reason_and_audited(self, card_a, clerk_a):
        attempt = _attempt(card_a, clerk_a, contacted="本人")
        assert attempt.failed and attempt.attempted_by == clerk_a and attempt.recorded_by == clerk_a
        assert AuditEvent.objects.filter(
            action="issuance.secondissuanceattempt.created", object_id=str(attempt.pk)
        ).exists()

    @pytest.mark.parametrize("outcome", [o for o in stock.FAILED_OUTCOMES])
    def test_a_failure_without_a_reason_is_refused(self, card_a, clerk_a, outcome):
        with pytest.raises(ValidationError, match="必须写明原因"):
            _attempt(card_a, clerk_a, outcome=outcome, note="  ")
        assert not SecondIssuanceAttempt.objects.exists()

    def test_an_agreed_collection_needs_no_reason(self, card_a, collector_a):
        attempt = _attempt(card_a, collector_a, outcome=AttemptOutcome.AGREED, note="")
        assert not attempt.failed

    def test_a_double_submit_is_one_row(self, card_a, clerk_a):
        when = timezone.now() - datetime.timedelta(minutes=5)
        _attempt(card_a, clerk_a, attempted_at=when)
        with pytest.raises(ValidationError, match="已经登记过"):
            _attempt(card_a, clerk_a, attempted_at=when)
        assert SecondIssuanceAttempt.objects.count() == 1

    def test_the_future_is_refused(self, card_a, clerk_a):
        with pytest.raises(ValidationError, match="不能晚于当前时间"):
            _attempt(card_a, clerk_a, attempted_at=timezone.now() + datetime.timedelta(hours=2))

    def test_an_activated_card_needs_no_second_issuance(self, branch_a, person_a, clerk_a):
        card = old_card(branch_a, person_a, status=CardStatus.ACTIVATED)
        with pytest.raises(ValidationError, match="不需要二次发放"):
            _attempt(card, clerk_a)

    def test_a_dead_holder_cannot_have_collected(self, card_a, clerk_a):
        person_mark_deceased(
            person=card_a.person,
            acting_user=clerk_a,
            death_date=datetime.date(2026, 1, 2),
            source="村委会证明",
        )
        with pytest.raises(ValidationError, match="已登记死亡"):
            _attempt(card_a, clerk_a, outcome=AttemptOutcome.COLLECTED, note="")

    def test_refused_to_a_supervisor_and_another_township(self, card_a, supervisor, clerk_b):
        with pytest.raises(PermissionDenied, match="只读"):
            _attempt(card_a, supervisor)
        with pytest.raises(PermissionDenied, match="不在您的管辖范围内"):
            _attempt(card_a, clerk_b)


class TestIssue:
    def test_collected_leads_to_issuing_to_the_holder(self, card_a, clerk_a):
        _attempt(card_a, clerk_a, outcome=AttemptOutcome.COLLECTED, note="")
        card = stock.stock_card_issue(
            card=card_a,
            acting_user=clerk_a,
            method=IssueMethod.DOOR_TO_DOOR,
            location="大河社区3组",
            identity_checked=True,
        )
        assert card.status == CardStatus.ISSUED and card.custody_kind == CustodyKind.HOLDER
        entry = card.ledger_entries.latest("sequence")
        assert entry.event == LedgerEvent.ISSUED and entry.signee == card_a.person.name
        assert entry.method == IssueMethod.DOOR_TO_DOOR and entry.identity_checked

    def test_without_the_id_check_nothing_is_issued(self, card_a, clerk_a):
        with pytest.raises(ValidationError, match="核验签收人的身份证件"):
            stock.stock_card_issue(
                card=card_a,
                acting_user=clerk_a,
                method=IssueMethod.ON_SITE,
                location="村委会",
                identity_checked=False,
            )
        card_a.refresh_from_db()
        assert card_a.status == CardStatus.IN_STOCK

    def test_a_proxy_is_not_issued_from_the_work_list(self, card_a, clerk_a):
        with pytest.raises(ValidationError, match="代领"):
            stock.stock_card_issue(
                card=card_a,
                acting_user=clerk_a,
                method=IssueMethod.PROXY,
                location="村委会",
                identity_checked=True,
            )

    def test_a_card_queued_for_cancellation_is_not_issued(self, card_a, clerk_a):
        CancellationRequest.objects.create(card=card_a, reason="持卡人已死亡")
        with pytest.raises(ValidationError, match="已申请注销"):
            stock.stock_card_issue(
                card=card_a,
                acting_user=clerk_a,
                method=IssueMethod.ON_SITE,
                location="村委会",
                identity_checked=True,
            )


class TestRecover:
    def test_a_failed_attempt_leads_to_recovery_into_the_clerks_unit(self, card_a, clerk_a):
        _attempt(card_a, clerk_a)
        card = stock.card_recover(card=card_a, acting_user=clerk_a, reason="联系不上，已外出务工")
        assert card.status == CardStatus.RECOVERED
        assert card.custody_kind == CustodyKind.TOWNSHIP
        entry = card.ledger_entries.latest("sequence")
        assert entry.event == LedgerEvent.RECOVERED and entry.note == "联系不上，已外出务工"
        assert entry.to_party == "金碧镇社保中心"
        assert list(recovery_list(user=clerk_a)) == [entry]

    def test_a_reason_is_required(self, card_a, clerk_a):
        with pytest.raises(ValidationError, match="必须写明原因"):
            stock.card_recover(card=card_a, acting_user=clerk_a, reason=" ")

    def test_twice_is_once(self, card_a, clerk_a):
        stock.card_recover(card=card_a, acting_user=clerk_a, reason="拒绝领取")
        with pytest.raises(ValidationError, match="不能办理“回收登记”"):
            stock.card_recover(card=card_a, acting_user=clerk_a, reason="拒绝领取")
        assert card_a.ledger_entries.filter(event=LedgerEvent.RECOVERED).count() == 1

    def test_a_dead_holders_card_is_cancelled_not_recovered(self, card_a, clerk_a):
        person_mark_deceased(
            person=card_a.person,
            acting_user=clerk_a,
            death_date=datetime.date(2026, 1, 2),
            source="火化证明",
        )
        with pytest.raises(ValidationError, match="应办理注销"):
            stock.card_recover(card=card_a, acting_user=clerk_a, reason="已死亡")

    def test_a_collector_does_not_recover(self, card_a, collector_a):
        with pytest.raises(PermissionDenied):
            stock.card_recover(card=card_a, acting_user=collector_a, reason="联系不上")


class TestDormant:
    def test_issued_long_ago_becomes_dormant_with_the_reason(
        self, branch_a, person_a, person_a2, clerk_a
    ):
        cards = [
            old_card(branch_a, p, status=CardStatus.ISSUED, issued_days_ago=400)
            for p in (person_a, person_a2)
        ]
        marked = stock.cards_mark_dormant(cards=cards, acting_user=clerk_a, reason="一年未激活")
        assert {c.status for c in marked} == {CardStatus.DORMANT}
        entry = marked[0].ledger_entries.latest("sequence")
        assert entry.event == LedgerEvent.MARKED_DORMANT and entry.note == "一年未激活"
        with pytest.raises(ValidationError, match="不能办理“认定睡眠卡”"):
            stock.cards_mark_dormant(cards=cards, acting_user=clerk_a, reason="一年未激活")

    def test_recently_issued_is_not_dormant_and_nothing_moves(
        self, branch_a, person_a, person_a2, clerk_a
    ):
        old = old_card(branch_a, person_a, status=CardStatus.ISSUED, issued_days_ago=400)
        new = old_card(branch_a, person_a2, status=CardStatus.ISSUED, issued_days_ago=10)
        with pytest.raises(ValidationError, match="发放未满180天"):
            stock.cards_mark_dormant(cards=[old, new], acting_user=clerk_a, reason="未激活")
        old.refresh_from_db()
        assert old.status == CardStatus.ISSUED

    def test_a_reason_is_required(self, branch_a, person_a, clerk_a):
        card = old_card(branch_a, person_a, status=CardStatus.ISSUED, issued_days_ago=400)
        with pytest.raises(ValidationError, match="必须写明原因"):
            stock.cards_mark_dormant(cards=[card], acting_user=clerk_a, reason="")

    def test_another_townships_card_is_refused(self, branch_b, person_b, clerk_a):
        card = old_card(branch_b, person_b, status=CardStatus.ISSUED, issued_days_ago=400)
        with pytest.raises(PermissionDenied, match="不在您的管辖范围内"):
            stock.cards_mark_dormant(cards=[card], acting_user=clerk_a, reason="未激活")


class TestCancellation:
    @pytest.fixture
    def pending(self, card_a, collector_a):
        person_mark_deceased(
            person=card_a.person,
            acting_user=collector_a,
            death_date=datetime.date(2026, 3, 4),
            source="村委会证明",
        )
        return CancellationRequest.objects.get(card=card_a)

    def test_carrying_out_cancels_the_card_and_closes_the_request(self, pending, clerk_a):
        done = stock.cancellation_carry_out(request=pending, acting_user=clerk_a)
        assert done.status == CancellationRequest.Status.DONE and done.closed_at is not None
        card = done.card
        card.refresh_from_db()
        assert card.status == CardStatus.CANCELLED
        entry = card.ledger_entries.latest("sequence")
        assert entry.event == LedgerEvent.CANCELLED and entry.note == pending.reason
        assert AuditEvent.objects.filter(action="issuance.cancellationrequest.done").count() == 1

    def test_twice_is_once(self, pending, clerk_a, banker_a):
        stock.cancellation_carry_out(request=pending, acting_user=clerk_a)
        with pytest.raises(ValidationError, match="已注销，无需再办理"):
            stock.cancellation_carry_out(request=pending, acting_user=banker_a)
        assert pending.card.ledger_entries.filter(event=LedgerEvent.CANCELLED).count() == 1

    def test_a_withdrawn_request_is_not_carried_out(self, pending, clerk_a):
        CancellationRequest.objects.filter(pk=pending.pk).update(
            status=CancellationRequest.Status.WITHDRAWN
        )
        with pytest.raises(ValidationError, match="已撤回"):
            stock.cancellation_carry_out(request=pending, acting_user=clerk_a)

    def test_a_refused_ledger_event_leaves_the_request_pending(self, pending, clerk_a):
        pending.card.status = CardStatus.CANCELLED
        pending.card.save()
        with pytest.raises(ValidationError, match="不能办理“注销”"):
            stock.cancellation_carry_out(request=pending, acting_user=clerk_a)
        pending.refresh_from_db()
        assert pending.status == CancellationRequest.Status.PENDING

    def test_the_collector_and_another_township_may_not(self, pending, collector_a, clerk_b):
        with pytest.raises(PermissionDenied):
            stock.cancellation_carry_out(request=pending, acting_user=collector_a)
        with pytest.raises(PermissionDenied, match="不在您的管辖范围内"):
            stock.cancellation_carry_out(request=pending, acting_user=clerk_b)


class TestRecoveryList:
    @pytest.fixture
    def recovered(self, card_a, clerk_a):
        card = stock.card_recover(card=card_a, acting_user=clerk_a, reason='=HYPERLINK("x")拒领')
        return card.ledger_entries.latest("sequence")

    def test_marking_entered_empties_the_list_once(self, recovered, clerk_a):
        assert stock.recoveries_mark_entered(entry_ids=[recovered.pk], acting_user=clerk_a) == 1
        assert not recovery_list(user=clerk_a).exists()
        assert stock.recoveries_mark_entered(entry_ids=[recovered.pk], acting_user=clerk_a) == 0
        entered = ProvincialEntry.objects.get()
        assert entered.entered_by == clerk_a and entered.ledger_entry == recovered
        assert AuditEvent.objects.filter(action="issuance.card.provincial_entered").count() == 1

    def test_only_recoveries_are_marked(self, recovered, branch_a, person_a2, clerk_a):
        other = old_card(branch_a, person_a2, status=CardStatus.ISSUED, issued_days_ago=400)
        stock.cards_mark_dormant(cards=[other], acting_user=clerk_a, reason="未激活")
        entry = other.ledger_entries.latest("sequence")
        with pytest.raises(ValidationError, match="不是回收登记"):
            stock.recoveries_mark_entered(entry_ids=[entry.pk], acting_user=clerk_a)
        with pytest.raises(ValidationError, match="请勾选"):
            stock.recoveries_mark_entered(entry_ids=[], acting_user=clerk_a)

    def test_others_may_not_mark(self, recovered, clerk_b, banker_a, supervisor):
        with pytest.raises(PermissionDenied, match="不在您的管辖范围内"):
            stock.recoveries_mark_entered(entry_ids=[recovered.pk], acting_user=clerk_b)
        for user in (banker_a, supervisor):
            with pytest.raises(PermissionDenied):
                stock.recoveries_mark_entered(entry_ids=[recovered.pk], acting_user=user)
        assert not ProvincialEntry.objects.exists()

    def test_the_export_has_full_ids_for_the_clerk_and_is_audited(self, recovered, clerk_a):
        stream = io.BytesIO()
        exported = stock.recovery_list_export(acting_user=clerk_a, stream=stream)
        assert exported.rows == 1 and exported.file_name.endswith(".xlsx")
        rows = list(load_workbook(stream).active.iter_rows(values_only=True))
        person = recovered.card.person
        assert rows[1][3:6] == ("M00000001", person.name, person.id_number)
        assert rows[1][7] == '=HYPERLINK("x")拒领'  # text, never a formula
        assert rows[1][6] == recovered.card.bank.name
        audit = AuditEvent.objects.get(action="issuance.recovery_list.exported")
        assert audit.after == {"rows": 1, "full_values": True}

    def test_the_supervisor_exports_masked(self, recovered, supervisor):
        stream = io.BytesIO()
        stock.recovery_list_export(acting_user=supervisor, stream=stream)
        rows = list(load_workbook(stream).active.iter_rows(values_only=True))
        assert rows[1][5] == recovered.card.person.masked_id_number

    def test_another_township_exports_nothing_of_it(self, recovered, clerk_b):
        stream = io.BytesIO()
        assert stock.recovery_list_export(acting_user=clerk_b, stream=stream).rows == 0
