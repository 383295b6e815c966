"""The demo county (dashboard.demo.demo_seed and ``manage.py seed_demo``)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import models, transaction
from django.utils import timezone

from activation.models import Activation, ElectronicCardSigning
from dashboard.demo import CAMPAIGN_NAME, SYSTEM_USERNAME, demo_seed
from dayao_sscard.models import AuditEvent, Campaign, User
from issuance.models import (
    LIVE_CARD_STATUSES,
    Card,
    CardStatus,
    LedgerEntry,
    LedgerEvent,
    ProxyApproval,
)
from issuance.proxies import proxy_issue_refusal
from issuance.states import replay
from roster.id_numbers import birth_date_from_id, gender_from_id, is_valid_id_number
from roster.models import Person, PersonCategory, Township, VitalStatus

pytestmark = pytest.mark.django_db

PERSONS = 300


@pytest.fixture
def seeded() -> dict:
    return demo_seed(persons=PERSONS, seed=2026)


def _fingerprint() -> tuple:
    persons = tuple(
        Person.objects.order_by("id_number").values_list(
            "id_number",
            "name",
            "ethnicity",
            "phone",
            "address",
            "classification__card_class",
            "vital_status",
        )
    )
    cards = tuple(
        Card.objects.order_by("person__id_number", "id").values_list(
            "person__id_number", "card_number", "status", "custody_kind", "custody_since"
        )
    )
    entries = tuple(
        LedgerEntry.objects.order_by("card__person__id_number", "card_id", "sequence").values_list(
            "card__person__id_number", "sequence", "event", "occurred_at", "signee", "location"
        )
    )
    return persons, cards, entries


def test_persons_in_every_township(seeded):
    assert Person.objects.count() == PERSONS == seeded["persons"]
    codes = set(Person.objects.values_list("township__code", flat=True))
    assert codes == set(Township.objects.values_list("code", flat=True))
    assert len(codes) == 12
    jinbi = Person.objects.filter(township__code="532326101").count()
    assert all(
        jinbi > Person.objects.filter(township=t).count()
        for t in Township.objects.exclude(code="532326101")
    )
    assert not Person.objects.filter(village__isnull=True).exists()
    assert not Person.objects.exclude(village__township=models.F("township")).exists()


def test_every_card_status_is_present(seeded):
    present = set(Card.objects.values_list("status", flat=True))
    assert present == set(CardStatus.values)
    assert seeded["card_status"] == {
        status: Card.objects.filter(status=status).count() for status in CardStatus.values
    }


@pytest.mark.parametrize("persons", [10, 25])
def test_every_card_status_is_present_even_for_tiny_counties(persons):
    demo_seed(persons=persons, seed=7)
    assert set(Card.objects.values_list("status", flat=True)) == set(CardStatus.values)


def test_card_status_is_the_replay_of_its_ledger(seeded):
    cards = Card.objects.prefetch_related("ledger_entries")
    assert cards.exists()
    for card in cards:
        entries = sorted(card.ledger_entries.all(), key=lambda e: e.sequence)
        assert [e.sequence for e in entries] == list(range(1, len(entries) + 1))
        assert card.status == replay([e.event for e in entries])
        assert card.status == entries[-1].status_after
        for before, entry in zip([None, *entries], entries, strict=False):
            expected_before = before.status_after if before else ""
            assert entry.status_before == expected_before
            if before:
                assert entry.occurred_at > before.occurred_at


def test_ledger_rules_hold(seeded):
    assert not LedgerEntry.objects.filter(event=LedgerEvent.ISSUED, signee="").exists()
    assert not LedgerEntry.objects.filter(event=LedgerEvent.ACTIVATED, face_to_face=False).exists()
    activated = Card.objects.filter(status=CardStatus.ACTIVATED)
    assert activated.count() == Activation.objects.filter(card__in=activated).count()
    assert not Activation.objects.exclude(face_to_face=True, identity_checked=True).exists()
    assert ElectronicCardSigning.objects.exists()
    assert not Card.objects.filter(status=CardStatus.FAILED, failure_reason="").exists()
    made = Card.objects.filter(made_on__isnull=False)
    assert made.count() == made.exclude(card_number=None).count()
    numbers = list(Card.objects.exclude(card_number=None).values_list("card_number", flat=True))
    assert len(numbers) == len(set(numbers))
    assert all(len(n) == 9 for n in numbers)
    sitting = Card.objects.filter(
        status=CardStatus.IN_STOCK, custody_kind__in=["township", "village"]
    )
    assert sitting.exists()
    assert not sitting.filter(custody_since=None).exists()


def test_every_proxy_issue_stands_on_an_approval_valid_that_day(seeded):
    entries = LedgerEntry.objects.filter(event=LedgerEvent.ISSUED, custody_kind="proxy")
    assert entries.exists()
    for entry in entries.select_related("card__person"):
        person = entry.card.person
        approval = ProxyApproval.objects.get(person=person)
        assert approval.document.read().startswith(b"%PDF-")
        assert approval.approved_by != approval.registered_by
        refusal = proxy_issue_refusal(
            person=person,
            custodian_name=entry.signee,
            custodian_id_number=approval.custodian_id_number,
            on=timezone.localdate(entry.occurred_at),
        )
        assert refusal == "", (person.name, refusal)
    assert ProxyApproval.objects.count() == seeded["proxy_approvals"]


def test_id_numbers_are_valid_and_agree_with_gender_and_birth_date(seeded):
    rows = list(Person.objects.values_list("id_number", "gender", "birth_date"))
    assert len({r[0] for r in rows}) == len(rows)
    for id_number, gender, birth_date in rows:
        assert id_number.startswith("532326")
        assert is_valid_id_number(id_number)
        assert gender == gender_from_id(id_number)
        assert birth_date == birth_date_from_id(id_number)
    assert any(b.year >= 2010 for _, _, b in rows), "minors are part of the county"


def test_no_deceased_person_has_a_live_card(seeded):
    deceased = Person.objects.filter(vital_status=VitalStatus.DECEASED)
    assert deceased.exists()
    assert not deceased.filter(death_date=None).exists()
    assert not Card.objects.filter(person__in=deceased, status__in=LIVE_CARD_STATUSES).exists()
    assert Card.objects.filter(person__in=deceased, status=CardStatus.CANCELLED).exists()


def test_one_live_card_per_person(seeded):
    live = Card.objects.filter(status__in=LIVE_CARD_STATUSES)
    assert live.values("person").distinct().count() == live.count()


def test_text_fits_the_columns(seeded):
    """SQLite ignores max_length; PostgreSQL does not."""
    for model in (Person, PersonCategory, Card, LedgerEntry, Activation, ElectronicCardSigning):
        fields = [f for f in model._meta.concrete_fields if isinstance(f, models.CharField)]
        for row in model.objects.values(*[f.attname for f in fields]):
            for f in fields:
                value = row[f.attname]
                assert value is None or len(value) <= f.max_length, (model, f.name, value)


def test_campaign_system_user_and_audit(seeded):
    campaign = Campaign.objects.get(is_active=True)
    assert campaign.name == CAMPAIGN_NAME
    assert campaign.compare_deadline < campaign.verify_deadline < campaign.produce_deadline
    system = User.objects.get(username=SYSTEM_USERNAME)
    assert not system.is_active
    assert not system.has_usable_password()
    assert not LedgerEntry.objects.exclude(recorded_by=system).exists()
    audit = AuditEvent.objects.get(action="roster.demo.seeded")
    assert audit.object_id == str(campaign.pk)
    assert audit.actor == system


def test_rerunning_is_a_no_op(seeded):
    before = (_fingerprint(), Campaign.objects.count(), AuditEvent.objects.count())
    assert demo_seed(persons=PERSONS, seed=99) == {"skipped": True}
    out = StringIO()
    call_command("seed_demo", persons=50, stdout=out)
    assert "已有演示数据，跳过" in out.getvalue()
    assert (_fingerprint(), Campaign.objects.count(), AuditEvent.objects.count()) == before


def test_same_seed_gives_the_same_county():
    with transaction.atomic():
        demo_seed(persons=120, seed=11)
        first = _fingerprint()
        transaction.set_rollback(True)
    assert not Person.objects.exists()
    demo_seed(persons=120, seed=11)
    assert _fingerprint() == first
    assert first[0]


def test_command_prints_a_chinese_summary():
    out = StringIO()
    call_command("seed_demo", persons=40, seed=3, stdout=out)
    text = out.getvalue()
    assert "已生成演示数据" in text
    assert "人员：40 人" in text
    assert Person.objects.count() == 40


def test_the_demo_has_three_weeks_of_progress_behind_today(seeded):
    from dashboard.demo import HISTORY_DAYS
    from roster.models import DailyFigures
    from roster.progress import progress_by_township, progress_trend

    assert DailyFigures.objects.values("day").distinct().count() == HISTORY_DAYS + 1
    trend = progress_trend(days=HISTORY_DAYS + 5)
    assert len(trend) == HISTORY_DAYS + 1
    today = progress_by_township()["total"]
    assert trend[-1]["activated"] == today["activated"] > 0
    assert trend[0]["activated"] < today["activated"]
    assert [row["listed"] for row in trend] == [today["listed"]] * len(trend)
    assert all(a["issued"] <= b["issued"] for a, b in zip(trend, trend[1:], strict=False))
