"""The custody ledger: append-only, the only way a card's status changes, audited."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from activation.models import Activation
from dayao_sscard.models import AuditEvent
from issuance.models import (
    CancellationRequest,
    Card,
    CardStatus,
    CustodyKind,
    LedgerEntry,
    LedgerEvent,
)
from issuance.services import Custody, card_create, card_record_event, card_status_from_ledger
from issuance.states import replay
from roster.models import Person, VitalStatus


@pytest.fixture
def card(county_admin, branch_a, person_a):
    return card_create(person=person_a, bank=branch_a.bank, acting_user=county_admin)


def to_stock(card, user):
    card = card_record_event(card=card, event=LedgerEvent.PRODUCTION_STARTED, acting_user=user)
    return card_record_event(
        card=card,
        event=LedgerEvent.PRODUCED,
        acting_user=user,
        card_number="AB1234567",
        custody=Custody(kind=CustodyKind.BANK, party="金碧信用社", location="金碧信用社柜台"),
    )


@pytest.mark.django_db
class TestLedger:
    def test_a_card_walks_to_issuance_and_its_status_follows_the_ledger(self, card, clerk_a):
        card = to_stock(card, clerk_a)
        card = card_record_event(
            card=card,
            event=LedgerEvent.ISSUED,
            acting_user=clerk_a,
            custody=Custody(
                kind=CustodyKind.HOLDER,
                party="张桂芬",
                signee="张桂芬",
                identity_checked=True,
                method="counter",
            ),
        )
        assert card.status == CardStatus.ISSUED
        events = list(card.ledger_entries.values_list("event", flat=True))
        assert events == ["applied", "production_started", "produced", "issued"]
        assert replay(events) == card.status == card_status_from_ledger(card)
        assert list(card.ledger_entries.values_list("sequence", flat=True)) == [1, 2, 3, 4]

    def test_every_event_is_audited_with_before_and_after(self, card, clerk_a):
        card_record_event(card=card, event=LedgerEvent.PRODUCTION_STARTED, acting_user=clerk_a)
        event = AuditEvent.objects.get(action="issuance.card.production_started")
        assert event.before["status"] == "applied"
        assert event.after["status"] == "in_production"
        assert event.actor == clerk_a
        assert AuditEvent.objects.filter(action="issuance.ledger_entry.created").count() == 2

    def test_an_impossible_step_is_refused_in_chinese(self, card, clerk_a):
        with pytest.raises(ValidationError, match="不能办理“发放”"):
            card_record_event(
                card=card,
                event=LedgerEvent.ISSUED,
                acting_user=clerk_a,
                custody=Custody(signee="张桂芬", identity_checked=True),
            )
        assert Card.objects.get(pk=card.pk).status == CardStatus.APPLIED

    def test_issuing_twice_is_refused(self, card, clerk_a):
        card = to_stock(card, clerk_a)
        custody = Custody(kind=CustodyKind.HOLDER, signee="张桂芬", identity_checked=True)
        card_record_event(card=card, event=LedgerEvent.ISSUED, acting_user=clerk_a, custody=custody)
        with pytest.raises(ValidationError):
            card_record_event(
                card=card, event=LedgerEvent.ISSUED, acting_user=clerk_a, custody=custody
            )
        assert card.ledger_entries.filter(event="issued").count() == 1

    def test_issuing_needs_a_signee(self, card, clerk_a):
        card = to_stock(card, clerk_a)
        with pytest.raises(ValidationError, match="签收人"):
            card_record_event(card=card, event=LedgerEvent.ISSUED, acting_user=clerk_a)

    def test_activation_only_face_to_face(self, card, clerk_a, banker_a):
        card = to_stock(card, clerk_a)
        card = card_record_event(
            card=card,
            event=LedgerEvent.ISSUED,
            acting_user=clerk_a,
            custody=Custody(signee="张桂芬", identity_checked=True),
        )
        with pytest.raises(ValidationError, match="面签"):
            card_record_event(card=card, event=LedgerEvent.ACTIVATED, acting_user=banker_a)
        card = card_record_event(
            card=card,
            event=LedgerEvent.ACTIVATED,
            acting_user=banker_a,
            custody=Custody(face_to_face=True, identity_checked=True),
        )
        assert card.status == CardStatus.ACTIVATED

    def test_activation_needs_the_document_checked_and_is_recorded_at_the_branch(
        self, card, clerk_a, banker_a, branch_a
    ):
        card = to_stock(card, clerk_a)
        card = card_record_event(
            card=card,
            event=LedgerEvent.ISSUED,
            acting_user=clerk_a,
            custody=Custody(signee="张桂芬", identity_checked=True),
        )
        with pytest.raises(ValidationError, match="身份证件"):
            card_record_event(
                card=card,
                event=LedgerEvent.ACTIVATED,
                acting_user=banker_a,
                custody=Custody(face_to_face=True),
            )
        assert not Activation.objects.exists()
        card_record_event(
            card=card,
            event=LedgerEvent.ACTIVATED,
            acting_user=banker_a,
            custody=Custody(face_to_face=True, identity_checked=True),
        )
        activation = Activation.objects.get(card=card)
        assert activation.branch == branch_a and activation.recorded_by == banker_a
        assert AuditEvent.objects.filter(action="activation.activation.created").count() == 1

    def test_issuing_needs_the_signees_document_checked(self, card, clerk_a):
        card = to_stock(card, clerk_a)
        with pytest.raises(ValidationError, match="核验签收人的身份证件"):
            card_record_event(
                card=card,
                event=LedgerEvent.ISSUED,
                acting_user=clerk_a,
                custody=Custody(signee="张桂芬"),
            )

    def test_a_deceased_holder_gets_no_card(self, person_a, branch_a, county_admin):
        Person.objects.filter(pk=person_a.pk).update(
            vital_status=VitalStatus.DECEASED, death_date="2026-01-01"
        )
        person_a.refresh_from_db()
        with pytest.raises(ValidationError, match="已登记死亡"):
            card_create(person=person_a, bank=branch_a.bank, acting_user=county_admin)

    def test_one_live_card_per_person(self, card, person_a, branch_a, county_admin):
        with pytest.raises(ValidationError, match="一人一卡"):
            card_create(person=person_a, bank=branch_a.bank, acting_user=county_admin)

    def test_supervisor_cannot_record(self, card, supervisor):
        with pytest.raises(PermissionDenied):
            card_record_event(
                card=card, event=LedgerEvent.PRODUCTION_STARTED, acting_user=supervisor
            )


@pytest.mark.django_db
class TestDatabaseInvariants:
    def test_ledger_rows_cannot_be_updated(self, card):
        with pytest.raises(Exception, match="只能追加"), transaction.atomic():
            LedgerEntry.objects.filter(card=card).update(note="篡改")

    def test_ledger_rows_cannot_be_deleted(self, card):
        with pytest.raises(Exception, match="只能追加"), transaction.atomic():
            LedgerEntry.objects.filter(card=card).delete()

    def test_a_second_live_card_violates_the_constraint(self, card, person_a, branch_a):
        with pytest.raises(IntegrityError), transaction.atomic():
            Card.objects.create(person=person_a, bank=branch_a.bank)

    def test_an_activation_without_face_to_face_violates_the_constraint(
        self, card, branch_a, county_admin
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Activation.objects.create(
                card=card,
                activated_at="2026-01-01T00:00:00+08:00",
                branch=branch_a,
                face_to_face=False,
                identity_checked=True,
                recorded_by=county_admin,
            )

    def test_a_ledger_activation_without_face_to_face_violates_the_constraint(
        self, card, county_admin
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            LedgerEntry.objects.create(
                card=card,
                sequence=99,
                event=LedgerEvent.ACTIVATED,
                status_after="activated",
                occurred_at="2026-01-01T00:00:00+08:00",
                recorded_by=county_admin,
            )

    def test_person_death_date_only_when_deceased(self, person_a):
        with pytest.raises(IntegrityError), transaction.atomic():
            Person.objects.filter(pk=person_a.pk).update(vital_status=VitalStatus.DECEASED)

    def test_a_user_scope_must_fit_the_role(self, township_a):
        from dayao_sscard.models import User

        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.create(username="x", role="township_staff")
        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.create(username="y", role="county_supervisor", township=township_a)


@pytest.mark.django_db
class TestCardNumbersWhenMade:
    def test_the_number_is_checked_and_stored_as_printed(self, card, clerk_a):
        card_record_event(card=card, event=LedgerEvent.PRODUCTION_STARTED, acting_user=clerk_a)
        with pytest.raises(ValidationError, match="只能由字母和数字组成"):
            card_record_event(
                card=card, event=LedgerEvent.PRODUCED, acting_user=clerk_a, card_number="A-1234567"
            )
        made = card_record_event(
            card=card, event=LedgerEvent.PRODUCED, acting_user=clerk_a, card_number=" ab1234567 "
        )
        assert made.card_number == "AB1234567"

    def test_a_number_on_another_card_is_refused(self, card, clerk_a, person_a2, branch_a):
        other = card_create(person=person_a2, bank=branch_a.bank, acting_user=clerk_a)
        card_record_event(
            card=other, event=LedgerEvent.PRODUCED, acting_user=clerk_a, card_number="AB1234567"
        )
        with pytest.raises(ValidationError, match="已登记在另一张社保卡上"):
            card_record_event(
                card=card, event=LedgerEvent.PRODUCED, acting_user=clerk_a, card_number="AB1234567"
            )
        assert Card.objects.get(pk=card.pk).status == CardStatus.APPLIED


@pytest.mark.django_db
class TestWhatActivationAndIssuanceNeed:
    def test_a_stock_card_marked_dormant_is_not_activated(self, card, clerk_a, banker_a):
        card = to_stock(card, clerk_a)
        card = card_record_event(card=card, event=LedgerEvent.MARKED_DORMANT, acting_user=clerk_a)
        with pytest.raises(ValidationError, match="只有已发放到持卡人本人手中的社保卡才能激活"):
            card_record_event(
                card=card,
                event=LedgerEvent.ACTIVATED,
                acting_user=banker_a,
                custody=Custody(face_to_face=True, identity_checked=True),
            )
        assert not Activation.objects.exists()

    def test_the_county_administrator_does_not_activate(self, card, clerk_a, county_admin):
        card = to_stock(card, clerk_a)
        card = card_record_event(
            card=card,
            event=LedgerEvent.ISSUED,
            acting_user=clerk_a,
            custody=Custody(signee="张桂芬", identity_checked=True),
        )
        with pytest.raises(PermissionDenied):
            card_record_event(
                card=card,
                event=LedgerEvent.ACTIVATED,
                acting_user=county_admin,
                custody=Custody(face_to_face=True, identity_checked=True),
            )

    def test_a_card_queued_for_cancellation_is_not_issued(self, card, clerk_a):
        card = to_stock(card, clerk_a)
        CancellationRequest.objects.create(card=card, reason="持卡人已死亡（测试）")
        with pytest.raises(ValidationError, match="该卡已申请注销"):
            card_record_event(
                card=card,
                event=LedgerEvent.ISSUED,
                acting_user=clerk_a,
                custody=Custody(signee="张桂芬", identity_checked=True),
            )
        assert Card.objects.get(pk=card.pk).status == CardStatus.IN_STOCK


@pytest.mark.django_db
class TestWhenAndWhy:
    def test_a_step_before_the_previous_one_is_refused(self, card, clerk_a):
        import datetime

        card = to_stock(card, clerk_a)
        with pytest.raises(ValidationError, match="发生时间早于该卡上一环节的时间"):
            card_record_event(
                card=card,
                event=LedgerEvent.ISSUED,
                acting_user=clerk_a,
                occurred_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC),
                custody=Custody(signee="张桂芬", identity_checked=True),
            )

    def test_a_counter_issue_needs_the_card_at_the_bank(self, card, clerk_a):
        card = to_stock(card, clerk_a)
        card = card_record_event(
            card=card,
            event=LedgerEvent.HANDED_OVER,
            acting_user=clerk_a,
            custody=Custody(
                kind=CustodyKind.VILLAGE, party="大河社区", responsible_person="李村长"
            ),
        )
        with pytest.raises(ValidationError, match="不能办理网点柜台发放"):
            card_record_event(
                card=card,
                event=LedgerEvent.ISSUED,
                acting_user=clerk_a,
                custody=Custody(signee="张桂芬", identity_checked=True, method="counter"),
            )

    def test_cancelling_names_its_reason(self, card, clerk_a):
        with pytest.raises(ValidationError, match="必须在备注中写明原因"):
            card_record_event(card=card, event=LedgerEvent.CANCELLED, acting_user=clerk_a)
        card = card_record_event(
            card=card, event=LedgerEvent.CANCELLED, acting_user=clerk_a, note="重复申领"
        )
        assert card.status == CardStatus.CANCELLED
