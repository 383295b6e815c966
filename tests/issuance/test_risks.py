"""Custody risks (代管风险): each edge of rule 1, and persons holding several others' cards."""

import datetime

import pytest
from django.utils import timezone

from issuance.handovers import Unit, handover_create, handover_receive, handover_receive_late
from issuance.models import (
    Card,
    CardStatus,
    CustodyKind,
    LedgerEntry,
    LedgerEvent,
    ProxyApproval,
    ProxyGround,
)
from issuance.risks import (
    RiskKind,
    custody_age_days,
    custody_risk_cards,
    custody_risk_counts,
    persons_holding_several,
    risk_days,
)
from roster.id_numbers import mask_id_number
from tests.factories import BankFactory, CampaignFactory, PersonFactory, UserFactory
from tests.issuance.handoverdata import stock_box
from tests.issuance.proxydata import GUARDIAN_ID, in_group, register

TODAY = datetime.date(2026, 11, 20)


def days_ago(days: int, *, hour: int = 10) -> datetime.datetime:
    moment = datetime.datetime.combine(TODAY - datetime.timedelta(days=days), datetime.time(hour))
    return timezone.make_aware(moment)


def card_with(
    village,
    *,
    kind: str,
    days: int,
    status: str = CardStatus.IN_STOCK,
    custodian: str = "杨海龙",
    name: str = "",
    number: str = "",
) -> Card:
    """A made card of a new holder of ``village``, with ``kind`` since ``days`` days ago.

    Written as the fold of a ledger would leave it: the rule reads the card's custody."""
    person = PersonFactory(
        township=village.township, village=village, **({"name": name} if name else {})
    )
    return Card.objects.create(
        person=person,
        bank=BankFactory(),
        card_number=number or None,
        status=status,
        custody_kind=kind,
        custodian=person.name if custodian == "本人" else custodian,
        custody_location="村委会办公室" if kind == CustodyKind.VILLAGE else "",
        custody_since=days_ago(days),
    )


def approval_for(card: Card, custodian: str, *, until: datetime.date, revoked: bool = False):
    """An approved proxy approval of the card's holder naming ``custodian`` up to ``until``."""
    registrar, approver = UserFactory(), UserFactory()
    return ProxyApproval.objects.create(
        person=card.person,
        ground=ProxyGround.MINIMUM_LIVING,
        requested_by_name="王代管",
        request_reason="持卡人长期卧床",
        document="proxy_documents/委托书.pdf",
        document_name="委托书.pdf",
        custodian_name=custodian,
        custodian_id_number=GUARDIAN_ID,
        custodian_relationship="儿子",
        valid_from=TODAY - datetime.timedelta(days=100),
        valid_until=until,
        registered_by=registrar,
        approved_by=approver,
        approved_at=days_ago(99),
        revoked_by=approver if revoked else None,
        revoked_at=days_ago(1) if revoked else None,
        revoke_reason="代管人外出务工" if revoked else "",
    )


def risky(user, **kwargs) -> set[int]:
    return set(
        custody_risk_cards(user=user, today=TODAY, days=30, **kwargs).values_list("pk", flat=True)
    )


@pytest.mark.django_db
class TestRuleOne:
    def test_a_village_office_past_n_days_is_a_risk_exactly_n_is_not(self, supervisor, village_a):
        past = card_with(village_a, kind=CustodyKind.VILLAGE, days=31)
        exactly = card_with(village_a, kind=CustodyKind.VILLAGE, days=30)
        in_transit = card_with(
            village_a, kind=CustodyKind.VILLAGE, days=31, status=CardStatus.IN_TRANSIT
        )
        assert risky(supervisor) == {past.pk, in_transit.pk}
        assert exactly.pk not in risky(supervisor)

    def test_exactly_n_days_late_in_the_evening_is_still_n(self, supervisor, village_a):
        card = card_with(village_a, kind=CustodyKind.VILLAGE, days=30)
        for hour in (0, 23):
            card.custody_since = days_ago(30, hour=hour)
            card.save()
            assert risky(supervisor) == set()
        card.custody_since = days_ago(31, hour=0)
        card.save()
        assert risky(supervisor) == {card.pk}

    @pytest.mark.parametrize("office", [CustodyKind.TOWNSHIP, CustodyKind.COUNTY])
    def test_an_office_in_stock_is_a_risk_in_transit_is_not(self, supervisor, village_a, office):
        stock = card_with(village_a, kind=office, days=31)
        transit = card_with(village_a, kind=office, days=300, status=CardStatus.IN_TRANSIT)
        recovered = card_with(village_a, kind=office, days=31, status=CardStatus.RECOVERED)
        assert risky(supervisor) == {stock.pk, recovered.pk}
        assert transit.pk not in risky(supervisor)

    def test_the_bank_the_province_and_the_holder_are_never_a_risk(self, supervisor, village_a):
        card_with(village_a, kind=CustodyKind.BANK, days=900)
        card_with(village_a, kind=CustodyKind.PROVINCE, days=900)
        card_with(
            village_a, kind=CustodyKind.HOLDER, days=900, custodian="本人", status=CardStatus.ISSUED
        )
        card_with(
            village_a,
            kind=CustodyKind.HOLDER,
            days=900,
            custodian="本人",
            status=CardStatus.ACTIVATED,
        )
        assert risky(supervisor) == set()

    def test_another_individual_than_the_holder_is_a_risk(self, supervisor, village_a):
        card = card_with(
            village_a,
            kind=CustodyKind.HOLDER,
            days=31,
            custodian="李村长",
            status=CardStatus.ISSUED,
        )
        found = custody_risk_cards(user=supervisor, today=TODAY, days=30).get()
        assert (found.pk, found.risk_kind) == (card.pk, RiskKind.OTHER_PERSON)

    def test_an_approved_proxy_past_n_days_is_shown_apart(self, supervisor, village_a):
        card = card_with(
            village_a, kind=CustodyKind.PROXY, days=31, custodian="王代管", status=CardStatus.ISSUED
        )
        recent = card_with(
            village_a, kind=CustodyKind.PROXY, days=5, custodian="王代管", status=CardStatus.ISSUED
        )
        for held in (card, recent):
            approval_for(held, "王代管", until=TODAY)
        assert risky(supervisor, kind=RiskKind.PROXY) == {card.pk}
        assert risky(supervisor, kind=RiskKind.VILLAGE) == set()
        assert risky(supervisor) == {card.pk}

    @pytest.mark.parametrize("lapse", ["expired", "revoked", "another_custodian", "none"])
    def test_a_proxy_without_a_valid_approval_is_a_risk_from_day_one(
        self, supervisor, village_a, lapse
    ):
        card = card_with(
            village_a, kind=CustodyKind.PROXY, days=2, custodian="王代管", status=CardStatus.ISSUED
        )
        if lapse == "expired":
            approval_for(card, "王代管", until=TODAY - datetime.timedelta(days=1))
        elif lapse == "revoked":
            approval_for(card, "王代管", until=TODAY, revoked=True)
        elif lapse == "another_custodian":
            approval_for(card, "李代管", until=TODAY)
        found = custody_risk_cards(user=supervisor, today=TODAY, days=30).get()
        assert (found.pk, found.risk_kind) == (card.pk, RiskKind.PROXY_LAPSED)
        assert risky(supervisor, kind=RiskKind.PROXY) == set()
        [row] = [
            r
            for r in custody_risk_counts(user=supervisor, today=TODAY, days=30)
            if r["township"] == village_a.township
        ]
        counts = {k["kind"]: k["count"] for k in row["kinds"]}
        assert (row["total"], counts[RiskKind.PROXY_LAPSED], counts[RiskKind.PROXY]) == (1, 1, 0)

    def test_a_cancelled_card_is_no_longer_a_risk(self, supervisor, village_a):
        card_with(village_a, kind=CustodyKind.VILLAGE, days=200, status=CardStatus.CANCELLED)
        assert risky(supervisor) == set()

    def test_a_risky_custody_without_a_start_is_counted_its_age_unknown(
        self, supervisor, village_a
    ):
        card = card_with(village_a, kind=CustodyKind.VILLAGE, days=1)
        card.custody_since = None
        card.save()
        assert risky(supervisor) == {card.pk}
        assert custody_age_days(card, today=TODAY) is None

    def test_the_age_is_counted_in_calendar_days(self, supervisor, village_a):
        card = card_with(village_a, kind=CustodyKind.VILLAGE, days=45)
        assert custody_age_days(card, today=TODAY) == 45

    def test_n_comes_from_the_active_campaign_else_thirty(self, supervisor, village_a):
        assert risk_days() == 30
        campaign = CampaignFactory(custody_risk_days=10)
        assert risk_days() == 10
        campaign.is_active = False
        campaign.save()
        assert risk_days() == 30

    def test_the_campaigns_n_decides_the_list(self, supervisor, village_a, fixed_clock):
        CampaignFactory(custody_risk_days=10)
        today = timezone.localdate()
        card = card_with(village_a, kind=CustodyKind.VILLAGE, days=0)
        card.custody_since = timezone.now() - datetime.timedelta(days=11)
        card.save()
        assert [c.pk for c in custody_risk_cards(user=supervisor)] == [card.pk]
        card.custody_since = timezone.make_aware(
            datetime.datetime.combine(today - datetime.timedelta(days=10), datetime.time(12))
        )
        card.save()
        assert list(custody_risk_cards(user=supervisor)) == []


@pytest.mark.django_db
class TestScopeAndCounts:
    def test_each_role_sees_its_scope(
        self, supervisor, clerk_a, clerk_b, collector_a, village_a, village_a2, village_b
    ):
        here = card_with(village_a, kind=CustodyKind.VILLAGE, days=40)
        next_village = card_with(village_a2, kind=CustodyKind.VILLAGE, days=40)
        there = card_with(village_b, kind=CustodyKind.VILLAGE, days=40)
        assert risky(supervisor) == {here.pk, next_village.pk, there.pk}
        assert risky(clerk_a) == {here.pk, next_village.pk}
        assert risky(clerk_b) == {there.pk}
        assert risky(collector_a) == {here.pk}

    def test_the_counts_are_the_lists_counts(self, supervisor, village_a, village_b):
        card_with(village_a, kind=CustodyKind.VILLAGE, days=40)
        card_with(village_a, kind=CustodyKind.TOWNSHIP, days=40)
        card_with(village_a, kind=CustodyKind.TOWNSHIP, days=3)
        card_with(
            village_b, kind=CustodyKind.PROXY, days=40, custodian="王代管", status=CardStatus.ISSUED
        )
        rows = {
            row["township"].code: row
            for row in custody_risk_counts(user=supervisor, today=TODAY, days=30)
        }
        for code, row in rows.items():
            listed = custody_risk_cards(user=supervisor, township_code=code, today=TODAY, days=30)
            assert row["total"] == listed.count()
            for k in row["kinds"]:
                assert k["count"] == listed.filter(pk__in=risky(supervisor, kind=k["kind"])).count()
        a = rows[village_a.township.code]
        assert (a["total"], {k["kind"]: k["count"] for k in a["kinds"]}) == (
            2,
            {
                RiskKind.VILLAGE: 1,
                RiskKind.OFFICE_STOCK: 1,
                RiskKind.PROXY: 0,
                RiskKind.PROXY_LAPSED: 0,
                RiskKind.OTHER_PERSON: 0,
                RiskKind.LOST_ON_THE_WAY: 0,
            },
        )
        assert rows[village_b.township.code]["total"] == 1

    def test_a_township_clerk_gets_one_row(self, clerk_a, village_a):
        rows = custody_risk_counts(user=clerk_a)
        assert [row["township"] for row in rows] == [village_a.township]


def legacy_issue(card: Card, *, signee: str, kind: str = CustodyKind.HOLDER, days: int = 40):
    """A ledger entry of issuance to ``signee`` as recorded before the ledger checked
    signees (older data holds such entries; the ledger now refuses them)."""
    when = days_ago(days)
    sequence = card.ledger_entries.count() + 1
    LedgerEntry.objects.create(
        card=card,
        sequence=sequence,
        event=LedgerEvent.ISSUED,
        status_before=CardStatus.IN_STOCK,
        status_after=CardStatus.ISSUED,
        to_party=signee,
        custody_kind=kind,
        signee=signee,
        identity_checked=True,
        occurred_at=when,
    )
    Card.objects.filter(pk=card.pk).update(
        status=CardStatus.ISSUED, custody_kind=kind, custodian=signee, custody_since=when
    )


@pytest.mark.django_db
def test_a_card_missing_from_its_box_is_a_risk_until_it_turns_up(
    supervisor, county_admin, clerk_a, township_a, village_a
):
    box = stock_box(village_a, 3)
    sent = handover_create(
        acting_user=county_admin,
        receiver=Unit(CustodyKind.TOWNSHIP, township=township_a),
        sender_person="赵库管",
        receiver_person="李接收",
        location="金碧镇社保中心档案室",
        card_numbers=[c.card_number for c in box],
    )
    assert set(custody_risk_cards(user=supervisor, days=30)) == set()
    item = sent.items.get(card=box[0])
    handover_receive(
        acting_user=clerk_a,
        handover=sent,
        received_numbers=[c.card_number for c in box[1:]],
        missing_reasons={item.pk: "箱内无此卡"},
    )
    [found] = custody_risk_cards(user=supervisor, days=30)
    assert (found.pk, found.risk_kind) == (box[0].pk, RiskKind.LOST_ON_THE_WAY)
    [row] = [r for r in custody_risk_counts(user=clerk_a, days=30)]
    counts = {k["kind"]: k["count"] for k in row["kinds"]}
    assert (row["total"], counts[RiskKind.LOST_ON_THE_WAY]) == (1, 1)
    handover_receive_late(acting_user=clerk_a, item=item)
    assert set(custody_risk_cards(user=supervisor, days=30)) == set()


@pytest.mark.django_db
class TestSeveralOthers:
    def test_a_name_that_signed_for_two_holders_is_listed_with_the_cards(
        self, supervisor, village_a
    ):
        one = card_with(village_a, kind=CustodyKind.VILLAGE, days=50, number="M1")
        two = card_with(village_a, kind=CustodyKind.VILLAGE, days=50, number="M2")
        legacy_issue(one, signee="李村长")
        legacy_issue(two, signee="李村长 ")
        [holder] = persons_holding_several(user=supervisor)
        assert (holder.name, holder.township, holder.holders, holder.still_held) == (
            "李村长",
            village_a.township,
            2,
            2,
        )
        assert {held.card.pk for held in holder.cards} == {one.pk, two.pk}

    def test_an_approval_naming_the_receiver_gives_the_masked_id_number(
        self, supervisor, clerk_a, village_a
    ):
        one = card_with(village_a, kind=CustodyKind.VILLAGE, days=50)
        two = card_with(village_a, kind=CustodyKind.VILLAGE, days=50)
        register(in_group(one.person), clerk_a, custodian_name="李村长")
        legacy_issue(one, signee="李村长")
        legacy_issue(two, signee="李村长")
        [holder] = persons_holding_several(user=supervisor)
        assert holder.id_number == mask_id_number(GUARDIAN_ID)

    def test_one_holder_or_the_holder_herself_is_not_several(self, supervisor, village_a):
        one = card_with(village_a, kind=CustodyKind.VILLAGE, days=50)
        own = card_with(village_a, kind=CustodyKind.VILLAGE, days=50)
        legacy_issue(one, signee="李村长")
        legacy_issue(own, signee=own.person.name)
        assert persons_holding_several(user=supervisor) == []

    def test_the_same_name_in_two_townships_is_two_people(self, supervisor, village_a, village_b):
        legacy_issue(card_with(village_a, kind=CustodyKind.VILLAGE, days=50), signee="李华")
        legacy_issue(card_with(village_b, kind=CustodyKind.VILLAGE, days=50), signee="李华")
        assert persons_holding_several(user=supervisor) == []

    def test_approved_proxies_count_and_a_card_passed_on_is_no_longer_held(
        self, supervisor, village_a
    ):
        one = card_with(village_a, kind=CustodyKind.VILLAGE, days=50)
        two = card_with(village_a, kind=CustodyKind.VILLAGE, days=50)
        legacy_issue(one, signee="王代管", kind=CustodyKind.PROXY)
        legacy_issue(two, signee="王代管", kind=CustodyKind.PROXY)
        Card.objects.filter(pk=two.pk).update(
            custody_kind=CustodyKind.HOLDER, custodian=two.person.name
        )
        [holder] = persons_holding_several(user=supervisor)
        assert (holder.holders, holder.still_held) == (2, 1)

    def test_offices_receiving_boxes_are_not_this_list(self, supervisor, village_a):
        for _ in range(3):
            card = card_with(village_a, kind=CustodyKind.BANK, days=50)
            LedgerEntry.objects.create(
                card=card,
                sequence=1,
                event=LedgerEvent.HANDED_OVER,
                status_before=CardStatus.IN_STOCK,
                status_after=CardStatus.IN_TRANSIT,
                to_party="金碧镇社保中心",
                responsible_person="杨海龙",
                custody_kind=CustodyKind.TOWNSHIP,
                occurred_at=days_ago(50),
            )
        assert persons_holding_several(user=supervisor) == []

    def test_a_name_of_a_staff_account_is_marked(self, supervisor, village_a):
        UserFactory(username="cadre", display_name="李村长", township=village_a.township)
        for _ in range(2):
            legacy_issue(card_with(village_a, kind=CustodyKind.VILLAGE, days=50), signee="李村长")
        [holder] = persons_holding_several(user=supervisor)
        assert holder.is_staff_user

    def test_scope_and_the_township_count(self, supervisor, clerk_a, clerk_b, village_a):
        for _ in range(2):
            legacy_issue(card_with(village_a, kind=CustodyKind.VILLAGE, days=50), signee="李村长")
        assert len(persons_holding_several(user=clerk_a)) == 1
        assert persons_holding_several(user=clerk_b) == []
        rows = {
            row["township"].code: row["several"] for row in custody_risk_counts(user=supervisor)
        }
        assert rows[village_a.township.code] == 1
        assert sum(rows.values()) == 1


@pytest.mark.django_db
def test_the_tiles_are_counted_once_a_minute_and_again_when_the_ledger_moves(
    supervisor, village_a, django_assert_max_num_queries, settings, time_machine
):
    """Rule 2's names counted by the database, as the list finds them; the counts kept for
    a minute, or until a ledger entry (or an approval) is added and ten seconds passed."""
    settings.RISK_COUNTS_MIN_SECONDS = 10
    time_machine.move_to(datetime.datetime(2026, 11, 29, 10, 0, tzinfo=datetime.UTC), tick=False)
    from issuance.risks import holders_of_several_by_township

    one = card_with(village_a, kind=CustodyKind.VILLAGE, days=50, number="M1")
    two = card_with(village_a, kind=CustodyKind.VILLAGE, days=50, number="M2")
    legacy_issue(one, signee="李村长")
    first = {row["township"].pk: row["several"] for row in custody_risk_counts(user=supervisor)}
    assert first[village_a.township_id] == 0
    with django_assert_max_num_queries(3):  # N of the campaign, the two keys
        custody_risk_counts(user=supervisor)
    legacy_issue(two, signee="李村长 ")
    soon = {row["township"].pk: row["several"] for row in custody_risk_counts(user=supervisor)}
    assert soon[village_a.township_id] == 0
    time_machine.shift(11)
    again = {row["township"].pk: row["several"] for row in custody_risk_counts(user=supervisor)}
    assert again[village_a.township_id] == 1
    assert holders_of_several_by_township(user=supervisor) == {village_a.township_id: 1}
    assert len(persons_holding_several(user=supervisor)) == 1


@pytest.mark.django_db
def test_while_one_view_counts_the_stale_tiles_again_the_others_show_the_kept_ones(
    supervisor, village_a, django_assert_max_num_queries, time_machine
):
    """A hundred users at once must not count the county's risks side by side: a stale
    count is counted again by the view that takes the turn, the rest answer with it."""
    from django.core.cache import cache

    from issuance.risks import _risk_state

    time_machine.move_to(datetime.datetime(2026, 11, 29, 10, 0, tzinfo=datetime.UTC), tick=False)

    def village_total() -> int:
        rows = custody_risk_counts(user=supervisor)
        return next(row["total"] for row in rows if row["township"].pk == village_a.township_id)

    card_with(village_a, kind=CustodyKind.VILLAGE, days=50, number="K1")
    assert village_total() == 1
    card_with(village_a, kind=CustodyKind.VILLAGE, days=50, number="K2")
    time_machine.shift(61)
    key, _ = _risk_state(supervisor, risk_days(), None)
    counting = f"{key}:counting"
    assert cache.add(counting, True, 60)  # another view is counting them
    with django_assert_max_num_queries(3):  # N of the campaign, the ledger, the approvals
        assert village_total() == 1
    cache.delete(counting)
    assert village_total() == 2
    assert cache.get(counting) is None  # the turn given back once counted
    # Kept though a minute has passed: the stale counts are there for the others.
    time_machine.shift(3600)
    assert cache.add(counting, True, 60)
    assert village_total() == 2
