"""The counter's writes: instant card-making, issuance and activation at the counter, the
electronic card; and the narrow door to persons who hold no card of the branch yet."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from activation.models import Activation, ElectronicCardSigning
from activation.selectors import counter_lookup, counter_state
from activation.services import card_activate_at_counter, card_issue_at_counter, ecard_sign
from dayao_sscard.models import AuditEvent
from issuance.models import (
    CancellationRequest,
    Card,
    CardStatus,
    CustodyKind,
    LedgerEvent,
    ProductionType,
)
from issuance.services import card_conflict, card_make_instant
from roster.models import CardClass, Person, VerificationStatus, VitalStatus
from tests.factories import classify

from .counter import card_of, other_bank_clerk, ready_person

pytestmark = pytest.mark.django_db


def instant(person, user, number="M12345678"):
    return card_make_instant(person=person, card_number=number, acting_user=user)


def fresh(user):
    """The user as the next request loads it: what it may reach is asked again."""
    return type(user).objects.get(pk=user.pk)


def ledger(card) -> list[str]:
    return list(card.ledger_entries.order_by("sequence").values_list("event", flat=True))


class TestInstantCard:
    def test_the_card_of_the_clerks_bank_is_made_in_the_branchs_hands(
        self, banker_a, branch_a, ready_a
    ):
        card = instant(ready_a, banker_a)

        assert card.bank == branch_a.bank
        assert card.production_type == ProductionType.INSTANT
        assert card.status == CardStatus.IN_STOCK
        assert card.card_number == "M12345678"
        assert card.made_on == timezone.localdate()
        assert card.custody_kind == CustodyKind.BANK
        assert card.custody_location == f"{branch_a}柜台"
        assert ledger(card) == [LedgerEvent.APPLIED, LedgerEvent.PRODUCED]
        actions = set(AuditEvent.objects.values_list("action", flat=True))
        assert {"issuance.card.created", "issuance.card.applied", "issuance.card.produced"} <= (
            actions
        )

    def test_the_whole_visit_each_step_a_ledger_entry(self, banker_a, branch_a, ready_a):
        card = instant(ready_a, banker_a)
        card = card_issue_at_counter(
            card=card, acting_user=fresh(banker_a), signee=ready_a.name, identity_checked=True
        )
        card = card_activate_at_counter(
            card=card, acting_user=fresh(banker_a), face_to_face=True, identity_checked=True
        )
        ecard_sign(person=ready_a, acting_user=fresh(banker_a), channel="网点柜台")

        assert card.status == CardStatus.ACTIVATED
        assert ledger(card) == ["applied", "produced", "issued", "activated"]
        issued = card.ledger_entries.get(event=LedgerEvent.ISSUED)
        assert (issued.method, issued.signee, issued.identity_checked) == (
            "counter",
            ready_a.name,
            True,
        )
        assert Activation.objects.get(card=card).branch == branch_a
        assert ElectronicCardSigning.objects.get(person=ready_a).channel == "网点柜台"
        state = counter_state(user=banker_a, person=ready_a)
        assert state.headline == "已激活" and state.nothing_left

    @pytest.mark.parametrize(
        ("typed", "stored"),
        [
            (" m1234 5678 ", "M12345678"),
            ("Ｍ１２３４５６７８", "M12345678"),
            ("'D00001234", "D00001234"),
        ],
    )
    def test_the_number_as_a_reader_or_keyboard_types_it(self, banker_a, ready_a, typed, stored):
        assert instant(ready_a, banker_a, typed).card_number == stored

    @pytest.mark.parametrize(
        ("typed", "message"),
        [
            ("", "请填写社会保障卡卡号"),
            ("M1234", "应为9至20位（输入了5位）"),
            ("M1234-5678", "只能由字母和数字组成"),
            ("1" * 21, "应为9至20位"),
        ],
    )
    def test_an_unlikely_number_is_refused_in_chinese(self, banker_a, ready_a, typed, message):
        with pytest.raises(ValidationError, match=message):
            instant(ready_a, banker_a, typed)
        assert not Card.objects.exists()

    def test_the_holders_id_number_is_not_a_card_number(self, banker_a, ready_a):
        with pytest.raises(ValidationError, match="这是持卡人的身份证号码"):
            instant(ready_a, banker_a, ready_a.id_number)

    def test_a_number_on_another_card_is_refused(self, banker_a, branch_a, ready_a, person_a):
        card_of(branch_a, person_a, number="M12345678")
        with pytest.raises(ValidationError, match="卡号M12345678已登记在另一张社保卡上"):
            instant(ready_a, banker_a)
        assert not Card.objects.filter(person=ready_a).exists()

    def test_a_second_click_makes_no_second_card(self, banker_a, ready_a):
        instant(ready_a, banker_a)
        with pytest.raises(ValidationError, match="一人一卡"):
            instant(Person.objects.get(pk=ready_a.pk), fresh(banker_a), "M87654321")
        assert Card.objects.filter(person=ready_a).count() == 1

    def test_only_for_a_person_ready_for_a_card(self, banker_a, village_a):
        pending = ready_person(village_a, name="普文")
        Person.objects.filter(pk=pending.pk).update(
            verification_status=VerificationStatus.PENDING, photo_on_12333=False
        )
        pending.refresh_from_db()
        with pytest.raises(ValidationError, match="资料不全：缺少照片。"):
            instant(pending, banker_a)

    def test_not_for_the_dead(self, banker_a, ready_a):
        Person.objects.filter(pk=ready_a.pk).update(
            vital_status=VitalStatus.DECEASED, death_date=datetime.date(2026, 1, 1)
        )
        ready_a.refresh_from_db()
        with pytest.raises(ValidationError, match="已登记死亡"):
            instant(ready_a, banker_a)

    def test_not_when_the_card_system_shows_a_card_made(self, banker_a, ready_a):
        classify(ready_a, CardClass.CARD_MADE)
        with pytest.raises(ValidationError, match="卡务系统比对结果为“已制卡”（一人一卡）"):
            instant(ready_a, banker_a)

    @pytest.mark.parametrize("persona", ["county_admin", "supervisor", "clerk_a", "collector_a"])
    def test_only_a_bank_makes_cards(self, request, ready_a, branch_a, persona):
        with pytest.raises(PermissionDenied):
            instant(ready_a, request.getfixturevalue(persona))
        assert not Card.objects.exists()

    def test_not_for_a_township_the_branch_does_not_serve(self, banker_a, ready_b, branch_b):
        with pytest.raises(PermissionDenied, match="不在您的管辖范围内"):
            instant(ready_b, banker_a)

    def test_not_by_a_bank_without_a_branch_for_the_township(self, township_a, ready_a):
        clerk = other_bank_clerk(township_a)
        with pytest.raises(PermissionDenied):
            instant(ready_a, clerk)


class TestTheDoor:
    """A clerk finds a person without a card by the exact ID number, and nobody else."""

    def test_by_exact_id_number_in_a_served_township(self, banker_a, ready_a):
        found = counter_lookup(user=banker_a, text=f" {ready_a.id_number.lower()} ")
        assert found is not None and found.person == ready_a and found.through_door

    def test_not_by_part_of_the_number_or_by_name(self, banker_a, ready_a):
        assert counter_lookup(user=banker_a, text=ready_a.id_number[-6:]) is None
        assert counter_lookup(user=banker_a, text=ready_a.name) is None

    def test_not_for_a_clerk_of_another_township_or_bank(
        self, banker_b, township_a, ready_a, branch_a
    ):
        assert counter_lookup(user=banker_b, text=ready_a.id_number) is None
        clerk = other_bank_clerk(township_a)
        assert counter_lookup(user=clerk, text=ready_a.id_number) is None

    def test_a_holder_of_another_banks_card_is_not_found(self, banker_a, township_a, ready_a):
        # Another bank whose branch also serves 金碧镇 made the card: it is theirs, not ours.
        clerk = other_bank_clerk(township_a, serves=[township_a])
        card_of(clerk.bank_branch, ready_a, CardStatus.ISSUED, number="B00000001")
        assert counter_lookup(user=banker_a, text=ready_a.id_number) is None
        assert counter_lookup(user=banker_a, text="B00000001") is None
        found = counter_lookup(user=clerk, text="b00000001")
        assert found.person == ready_a and not found.through_door

    def test_township_staff_find_their_own_people_only(self, clerk_a, ready_a, ready_b):
        assert counter_lookup(user=clerk_a, text=ready_a.id_number).person == ready_a
        assert counter_lookup(user=clerk_a, text=ready_b.id_number) is None

    def test_a_holder_of_the_branchs_card_is_in_scope(self, banker_a, branch_a, person_a):
        card_of(branch_a, person_a, CardStatus.ISSUED, number="M00000042")
        found = counter_lookup(user=banker_a, text="M00000042")
        assert found.person == person_a and not found.through_door


class TestElectronicCard:
    @pytest.fixture
    def holder(self, banker_a, branch_a, person_a):
        card_of(branch_a, person_a, CardStatus.ACTIVATED, number="M00000001")
        return person_a

    def test_once_per_person(self, banker_a, holder):
        signed = ecard_sign(person=holder, acting_user=banker_a, channel="网点柜台")
        assert AuditEvent.objects.filter(action="activation.ecard.signed").count() == 1
        with pytest.raises(ValidationError, match="已于.*签发电子社保卡（网点柜台），不能重复登记"):
            ecard_sign(person=holder, acting_user=banker_a, channel="微信")
        assert list(ElectronicCardSigning.objects.all()) == [signed]

    def test_an_earlier_day_and_not_a_later_one(self, banker_a, holder):
        with pytest.raises(ValidationError, match="不能晚于现在"):
            ecard_sign(
                person=holder,
                acting_user=banker_a,
                channel="网点柜台",
                signed_at=timezone.now() + datetime.timedelta(days=1),
            )
        earlier = timezone.now() - datetime.timedelta(days=3)
        signing = ecard_sign(
            person=holder, acting_user=banker_a, channel="掌上12333", signed_at=earlier
        )
        assert signing.signed_at == earlier

    def test_only_with_a_card_made(self, banker_a, branch_a, person_a):
        card_of(branch_a, person_a, CardStatus.IN_PRODUCTION)
        with pytest.raises(ValidationError, match="还没有制成的社保卡"):
            ecard_sign(person=person_a, acting_user=banker_a, channel="网点柜台")

    def test_a_channel_is_needed(self, banker_a, holder):
        with pytest.raises(ValidationError, match="请选择电子社保卡的签发渠道"):
            ecard_sign(person=holder, acting_user=banker_a, channel=" ")

    @pytest.mark.parametrize("persona", ["supervisor", "clerk_a", "collector_a", "banker_b"])
    def test_refused_for_readers_townships_and_other_branches(self, request, holder, persona):
        with pytest.raises(PermissionDenied):
            ecard_sign(person=holder, acting_user=request.getfixturevalue(persona), channel="微信")
        assert not ElectronicCardSigning.objects.exists()

    def test_the_county_records_one_too(self, county_admin, holder):
        ecard_sign(person=holder, acting_user=county_admin, channel="云南人社12333小程序")
        assert ElectronicCardSigning.objects.filter(person=holder).exists()


class TestActivationAtTheCounter:
    @pytest.fixture
    def issued(self, branch_a, person_a):
        return card_of(branch_a, person_a, CardStatus.ISSUED, number="M00000002")

    @pytest.mark.parametrize(
        ("face_to_face", "identity_checked", "message"),
        [
            (False, True, "只能当面办理（面签）"),
            (True, False, "必须当面核验持卡人本人的身份证件"),
            (False, False, "只能当面办理（面签）"),
        ],
    )
    def test_refused_without_both_checks(
        self, banker_a, issued, face_to_face, identity_checked, message
    ):
        with pytest.raises(ValidationError, match=message):
            card_activate_at_counter(
                card=issued,
                acting_user=banker_a,
                face_to_face=face_to_face,
                identity_checked=identity_checked,
            )
        issued.refresh_from_db()
        assert issued.status == CardStatus.ISSUED
        assert not Activation.objects.exists()

    def test_issuance_needs_the_document_checked(self, banker_a, branch_a, person_a):
        card = card_of(branch_a, person_a, CardStatus.IN_STOCK, number="M00000003")
        with pytest.raises(ValidationError, match="发放前必须核验签收人的身份证件"):
            card_issue_at_counter(
                card=card, acting_user=banker_a, signee=person_a.name, identity_checked=False
            )

    def test_at_the_counter_the_holder_signs(self, banker_a, branch_a, person_a):
        """Another name is refused, not taken for a proxy: proxy custody needs a written
        entrustment and an approval on record, which the counter does not take."""
        card = card_of(branch_a, person_a, CardStatus.IN_STOCK, number="M00000004")
        with pytest.raises(ValidationError, match="须由持卡人.*本人签收"):
            card_issue_at_counter(
                card=card, acting_user=banker_a, signee="张德华", identity_checked=True
            )
        card = card_issue_at_counter(
            card=card, acting_user=banker_a, signee=f" {person_a.name} ", identity_checked=True
        )
        assert (card.custody_kind, card.custodian) == (CustodyKind.HOLDER, person_a.name)
        entry = card.ledger_entries.get()
        assert (entry.custody_kind, entry.to_party, entry.signee, entry.method) == (
            CustodyKind.HOLDER,
            person_a.name,
            person_a.name,
            "counter",
        )
        assert entry.location == f"{branch_a}柜台"
        assert entry.responsible_person == (banker_a.display_name or banker_a.username)


class TestWhatTheCounterSays:
    """Each step done, open, or why not — in the clerk's words."""

    def steps(self, user, person) -> dict:
        state = counter_state(user=user, person=Person.objects.get(pk=person.pk))
        return {step.key: step for step in state.steps}

    def test_a_ready_person_without_a_card(self, banker_a, ready_a):
        steps = self.steps(banker_a, ready_a)
        assert steps["instant"].open
        assert steps["issue"].reason == "尚未制卡，制卡后才能发放。"
        assert "请先发放" in steps["activate"].reason
        assert steps["ecard"].reason == "制卡后才能签发电子社保卡。"

    def test_the_dead(self, banker_a, branch_a, person_a):
        card_of(branch_a, person_a, CardStatus.ISSUED, number="M00000400")
        Person.objects.filter(pk=person_a.pk).update(
            vital_status=VitalStatus.DECEASED, death_date=datetime.date(2026, 3, 1)
        )
        steps = self.steps(banker_a, person_a)
        assert not any(step.open for step in steps.values())
        assert "已登记死亡" in steps["activate"].reason

    def test_a_cancellation_pending(self, banker_a, branch_a, person_a):
        card = card_of(branch_a, person_a, CardStatus.IN_STOCK, number="M00000401")
        CancellationRequest.objects.create(card=card, reason="持卡人报告卡片遗失")
        steps = self.steps(banker_a, person_a)
        assert steps["issue"].reason == "该卡已申请注销（持卡人报告卡片遗失），不能发放或激活。"
        assert not steps["issue"].open

    def test_a_live_card_of_another_bank(self, banker_a, branch_a, township_a, person_a):
        card_of(branch_a, person_a, CardStatus.CANCELLED, number="M00000402")
        other = other_bank_clerk(township_a, serves=[township_a])
        card_of(other.bank_branch, person_a, CardStatus.IN_STOCK, number="B00000402")
        steps = self.steps(banker_a, person_a)
        assert "由农行负责，请到农行网点办理" in steps["issue"].reason
        assert not any(step.open for step in steps.values())

    def test_a_card_being_made(self, banker_a, branch_a, person_a):
        card_of(branch_a, person_a, CardStatus.IN_PRODUCTION)
        steps = self.steps(banker_a, person_a)
        assert steps["instant"].reason == "已申领，当前状态为“制卡中”，请等待制卡完成。"

    def test_not_verified_says_what_is_missing(self, county_admin, village_a):
        person = ready_person(village_a, name="普文")
        Person.objects.filter(pk=person.pk).update(
            verification_status=VerificationStatus.PENDING, phone=""
        )
        steps = self.steps(county_admin, person)
        assert steps["instant"].reason.startswith("资料不全：缺少联系电话")


def test_the_ecard_of_another_banks_card_is_that_banks_to_record(
    banker_a, branch_a, township_a, person_a
):
    card_of(branch_a, person_a, CardStatus.CANCELLED, number="M00000403")
    other = other_bank_clerk(township_a, serves=[township_a])
    card_of(other.bank_branch, person_a, CardStatus.ACTIVATED, number="B00000403")
    with pytest.raises(ValidationError, match="不由本网点负责"):
        ecard_sign(person=person_a, acting_user=banker_a, channel="网点柜台")
    ecard_sign(person=person_a, acting_user=other, channel="网点柜台")


@pytest.mark.django_db
def test_each_uniqueness_rule_the_database_enforces_is_told_apart(branch_a, person_a, person_a2):
    """What a writer that took no person lock can still meet: the constraint, by its name
    (PostgreSQL) or its column (SQLite), each with its own reason."""
    bank = branch_a.bank
    Card.objects.create(person=person_a, bank=bank, status=CardStatus.IN_STOCK, card_number="M1")

    def refused(**fields) -> IntegrityError:
        with pytest.raises(IntegrityError) as error, transaction.atomic():
            Card.objects.create(bank=bank, **fields)
        return error.value

    second_card = refused(person=person_a, status=CardStatus.APPLIED)
    assert card_conflict(second_card, card_number="M2") == (
        "该人员刚刚已有一张有效社保卡（一人一卡），不能重复制卡；请刷新后查看。"
    )
    same_number = refused(person=person_a2, status=CardStatus.IN_STOCK, card_number="M1")
    assert (
        card_conflict(same_number, card_number="M1") == "卡号M1已登记在另一张社保卡上，请核对卡号。"
    )
    no_reason = refused(person=person_a2, status=CardStatus.FAILED, failure_reason="")
    assert card_conflict(no_reason, card_number="M3") == ""
