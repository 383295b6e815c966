"""Card writes ask whether the user may do this event to this card, not only "may write"."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from dayao_sscard.models import AuditEvent
from dayao_sscard.roles import Role
from issuance.models import (
    CancellationRequest,
    Card,
    CardStatus,
    CustodyKind,
    LedgerEntry,
    LedgerEvent,
)
from issuance.services import (
    Custody,
    cancellations_withdraw,
    card_create,
    card_record_event,
    cards_queue_cancellation,
)
from roster.models import Person, VitalStatus
from tests.factories import BankBranchFactory, BankFactory, UserFactory


@pytest.fixture
def banker_b(branch_b):
    return UserFactory(
        username="banker_b", role=Role.BANK_STAFF, township=None, bank_branch=branch_b
    )


def card_at(branch, person, status=CardStatus.IN_STOCK) -> Card:
    kind = CustodyKind.HOLDER if status == CardStatus.ISSUED else CustodyKind.BANK
    return Card.objects.create(person=person, bank=branch.bank, status=status, custody_kind=kind)


def nothing_recorded(card) -> bool:
    return not LedgerEntry.objects.filter(card=card).exists() and not AuditEvent.objects.exists()


@pytest.mark.django_db
class TestRecordingEvents:
    def test_a_bank_clerk_records_the_events_of_the_branchs_cards(
        self, banker_a, branch_a, person_a
    ):
        card = card_at(branch_a, person_a, CardStatus.IN_PRODUCTION)
        card = card_record_event(
            card=card, event=LedgerEvent.PRODUCED, acting_user=banker_a, card_number="A10000001"
        )
        assert card.status == CardStatus.IN_STOCK

    def test_not_another_branchs_card(self, banker_b, branch_a, person_a):
        card = card_at(branch_a, person_a, CardStatus.IN_PRODUCTION)
        with pytest.raises(PermissionDenied, match="该社保卡不在您的管辖范围内"):
            card_record_event(card=card, event=LedgerEvent.PRODUCED, acting_user=banker_b)
        assert Card.objects.get(pk=card.pk).status == CardStatus.IN_PRODUCTION
        assert nothing_recorded(card)

    def test_another_townships_clerk_is_refused(self, clerk_b, branch_a, person_a):
        card = card_at(branch_a, person_a)
        with pytest.raises(PermissionDenied, match="不在您的管辖范围内"):
            card_record_event(
                card=card,
                event=LedgerEvent.ISSUED,
                acting_user=clerk_b,
                custody=Custody(signee="张桂芬", identity_checked=True),
            )
        assert nothing_recorded(card)

    def test_the_supervisor_only_reads(self, supervisor, branch_a, person_a):
        card = card_at(branch_a, person_a)
        with pytest.raises(PermissionDenied, match="只读"):
            card_record_event(card=card, event=LedgerEvent.MARKED_DORMANT, acting_user=supervisor)

    def test_a_collector_records_issuance_in_the_village_not_production(
        self, collector_a, branch_a, person_a, person_a2
    ):
        card = card_record_event(
            card=card_at(branch_a, person_a),
            event=LedgerEvent.ISSUED,
            acting_user=collector_a,
            custody=Custody(signee="张桂芬", identity_checked=True),
        )
        assert card.status == CardStatus.ISSUED
        with pytest.raises(PermissionDenied, match="村（社区）信息采集员不能登记社保卡流转"):
            card_record_event(
                card=card_at(branch_a, person_a2, CardStatus.IN_PRODUCTION),
                event=LedgerEvent.PRODUCED,
                acting_user=collector_a,
            )
        with pytest.raises(PermissionDenied, match="不在您的管辖范围内"):
            card_record_event(
                card=Card.objects.get(person=person_a2),
                event=LedgerEvent.ISSUED,
                acting_user=collector_a,
                custody=Custody(signee="罗志华", identity_checked=True),
            )

    def test_only_the_bank_activates(self, clerk_a, banker_a, branch_a, person_a):
        card = card_at(branch_a, person_a, CardStatus.ISSUED)
        with pytest.raises(PermissionDenied, match="乡镇社保中心工作人员不能办理金融功能激活"):
            card_record_event(
                card=card,
                event=LedgerEvent.ACTIVATED,
                acting_user=clerk_a,
                custody=Custody(face_to_face=True, identity_checked=True),
            )
        card = card_record_event(
            card=card,
            event=LedgerEvent.ACTIVATED,
            acting_user=banker_a,
            custody=Custody(face_to_face=True, identity_checked=True),
        )
        assert card.status == CardStatus.ACTIVATED


@pytest.mark.django_db
class TestApplying:
    @pytest.mark.parametrize("persona", ["supervisor", "collector_a", "clerk_b"])
    def test_refused_for_roles_without_it_and_outside_the_scope(
        self, request, person_a, branch_a, persona
    ):
        with pytest.raises(PermissionDenied):
            card_create(
                person=person_a,
                bank=branch_a.bank,
                acting_user=request.getfixturevalue(persona),
            )
        assert not Card.objects.exists()

    def test_a_bank_clerk_cannot_make_a_card_of_another_bank(self, banker_a, branch_a, person_a):
        card_at(branch_a, person_a, CardStatus.CANCELLED)
        other = BankBranchFactory(bank=BankFactory(name="中国农业银行"), name="大姚支行")
        with pytest.raises(PermissionDenied, match="只能办理本行的社保卡"):
            card_create(person=person_a, bank=other.bank, acting_user=banker_a)
        assert Card.objects.count() == 1

    def test_the_township_applies_for_its_people(self, clerk_a, branch_a, person_a):
        card = card_create(person=person_a, bank=branch_a.bank, acting_user=clerk_a)
        assert card.status == CardStatus.APPLIED


@pytest.mark.django_db
class TestCancellation:
    @pytest.fixture
    def dead_holder(self, branch_a, person_a):
        card_at(branch_a, person_a, CardStatus.ISSUED)
        Person.objects.filter(pk=person_a.pk).update(
            vital_status=VitalStatus.DECEASED, death_date="2026-01-01", death_source="民政"
        )
        return Person.objects.get(pk=person_a.pk)

    @pytest.mark.parametrize("persona", ["banker_a", "supervisor", "clerk_b"])
    def test_queueing_is_refused(self, request, dead_holder, persona):
        with pytest.raises(PermissionDenied):
            cards_queue_cancellation(
                persons=[dead_holder], acting_user=request.getfixturevalue(persona)
            )
        assert not CancellationRequest.objects.exists()

    def test_the_township_queues_and_the_collector_cannot_withdraw(
        self, clerk_a, collector_a, dead_holder
    ):
        assert cards_queue_cancellation(persons=[dead_holder], acting_user=clerk_a) == 1
        with pytest.raises(PermissionDenied, match="村（社区）信息采集员不能撤回社保卡注销申请"):
            cancellations_withdraw(person=dead_holder, acting_user=collector_a, reason="误报")
        assert CancellationRequest.objects.get().status == CancellationRequest.Status.PENDING


@pytest.mark.django_db(transaction=True)
def test_withdrawing_stands_on_its_own_transaction_and_says_from_what(
    client, clerk_a, branch_a, person_a
):
    card_at(branch_a, person_a, CardStatus.ISSUED)
    CancellationRequest.objects.create(card=person_a.cards.get(), reason="持卡人已死亡")
    assert cancellations_withdraw(person=person_a, acting_user=clerk_a, reason="误报") == 1
    assert CancellationRequest.objects.get().status == CancellationRequest.Status.WITHDRAWN
    client.force_login(clerk_a)
    history = client.get(reverse("roster:person-detail", args=[person_a.pk])).content.decode()
    assert "待注销 → 已撤回" in history
