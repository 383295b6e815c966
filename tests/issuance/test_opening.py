"""Cards enter our ledger from the card-system export (issue 9, §1)."""

import shutil

import pytest
from django.core.management import call_command
from django.template.loader import render_to_string
from django.urls import reverse

from dayao_sscard.models import AuditEvent
from issuance.models import (
    Bank,
    CancellationRequest,
    Card,
    CardStatus,
    CustodyKind,
    LedgerEntry,
    LedgerEvent,
)
from issuance.services import Custody, card_create, card_record_event
from issuance.states import replay
from roster.imports import list_import
from roster.models import CardSystemRecord, Person, PersonClass, VitalStatus
from tests.factories import PersonFactory
from tests.roster.listfiles import EXPORT_HEADER, UNISSUED_HEADER, write_xlsx
from tests.samples import SAMPLES

ABC = "中国农业银行大姚县支行"


def export(tmp_path, *records, name="e.xlsx"):
    """Records as (id_number, card_number, status, card_status, made_on[, bank])."""
    rows = [EXPORT_HEADER]
    for n, (id_number, card, status, card_status, made_on, *bank) in enumerate(records, 1):
        bank_name = bank[0] if bank else ABC
        rows.append(
            [n, "某人", id_number, card, bank_name, "批量制卡", status, "", card_status, made_on]
        )
    return write_xlsx(tmp_path / name, rows, footer=False)


def import_export(path, **kwargs):
    return list_import(kind="card_export", path=path, original_name=path.name, **kwargs)


def live_card(person):
    return Card.objects.get(person=person, status__in=[CardStatus.IN_STOCK, CardStatus.ISSUED])


def statuses(card):
    return [e.event for e in card.ledger_entries.order_by("sequence")]


@pytest.fixture
def persons(village_a):
    return [PersonFactory(township=village_a.township, village=village_a) for _ in range(4)]


@pytest.mark.django_db
class TestOpening:
    def test_a_made_card_is_opened_in_the_custody_of_its_bank(self, tmp_path, persons):
        a, b, c, _ = persons
        path = export(
            tmp_path,
            (a.id_number, "Y00000001", "制卡成功", "正常", "2020-01-01"),
            (b.id_number, "", "制卡中", "", ""),
            (c.id_number, "Y00000003", "制卡成功", "注销", "2019-01-01"),
            ("110101199003070012", "Y00000004", "制卡成功", "正常", "2020-01-01"),
        )
        result = import_export(path)
        card = Card.objects.get()
        assert (card.person, card.card_number, card.bank.name) == (a, "Y00000001", ABC)
        assert (card.status, card.custody_kind, card.custodian) == (
            CardStatus.IN_STOCK,
            CustodyKind.BANK,
            ABC,
        )
        assert str(card.made_on) == "2020-01-01"
        entry = card.ledger_entries.get()
        assert (entry.sequence, entry.event, entry.status_before, entry.status_after) == (
            1,
            LedgerEvent.PRODUCED,
            "",
            CardStatus.IN_STOCK,
        )
        assert entry.recorded_by is None
        assert "e.xlsx" in entry.note and "卡务系统导出" in entry.note
        assert replay(statuses(card)) == card.status
        assert result.summary()["社保卡台账：新建社保卡台账"] == 1
        audit = AuditEvent.objects.get(action="issuance.card.opened_from_export")
        assert (audit.object_id, audit.township_id) == (str(card.pk), a.township_id)
        assert audit.after == {
            "card_number": "Y00000001",
            "status": CardStatus.IN_STOCK,
            "bank": card.bank_id,
            "custody_kind": CustodyKind.BANK,
        }
        assert audit.actor_username == "系统"
        shown = render_to_string("audit/_changes.html", {"event": audit})
        for words in ("社会保障卡卡号", "已制卡（库存）", f"发卡银行：</span>{ABC}", "当前保管方"):
            assert words in shown
        assert "in_stock" not in shown

    def test_the_persons_page_shows_the_opening_as_a_system_import(
        self, tmp_path, persons, client, clerk_a
    ):
        a, *_ = persons
        import_export(
            export(tmp_path, (a.id_number, "Y00000001", "制卡成功", "正常", "2020-01-01"))
        )
        client.force_login(clerk_a)
        page = client.get(reverse("roster:person-detail", args=[a.pk])).content.decode()
        assert "社保卡制卡完成" in page and "系统导入" in page

    def test_the_current_record_is_the_latest_live_success(self, tmp_path, persons):
        a, b, *_ = persons
        path = export(
            tmp_path,
            (a.id_number, "Y1", "制卡成功", "正常", "2018-01-01"),
            (a.id_number, "Y2", "制卡成功", "正常", "2021-01-01"),
            (a.id_number, "Y3", "制卡成功", "注销", "2023-01-01"),
            (b.id_number, "Y4", "制卡成功", "正常", ""),
            (b.id_number, "Y5", "制卡成功", "正常", "2017-01-01"),
        )
        import_export(path)
        assert dict(Card.objects.values_list("person_id", "card_number")) == {
            a.pk: "Y2",
            b.pk: "Y5",
        }

    def test_reimporting_the_same_cards_creates_nothing(self, tmp_path, persons):
        a, b, *_ = persons
        records = [
            (a.id_number, "Y1", "制卡成功", "正常", "2020-01-01"),
            (b.id_number, "Y2", "制卡成功", "正常", "2020-01-01"),
        ]
        import_export(export(tmp_path, *records))
        shutil.copy(tmp_path / "e.xlsx", tmp_path / "same.xlsx")
        assert import_export(tmp_path / "same.xlsx").already_imported_at
        # Another file with the same cards (one more record of someone else, another order).
        other = export(
            tmp_path,
            *reversed(records),
            ("110101199003070012", "", "制卡中", "", ""),
            name="other.xlsx",
        )
        result = import_export(other)
        assert Card.objects.count() == 2
        assert LedgerEntry.objects.count() == 2
        assert AuditEvent.objects.filter(action="issuance.card.opened_from_export").count() == 2
        assert result.cards["新建社保卡台账"] == 0

    def test_a_newer_card_closes_the_old_one_with_its_reason(self, tmp_path, persons):
        a, *_ = persons
        import_export(
            export(tmp_path, (a.id_number, "Y00000001", "制卡成功", "正常", "2020-01-01"))
        )
        newer = export(
            tmp_path,
            (a.id_number, "Y00000001", "制卡成功", "注销", "2020-01-01"),
            (a.id_number, "Y00000002", "制卡成功", "正常", "2024-05-01"),
            name="newer.xlsx",
        )
        result = import_export(newer)
        old = Card.objects.get(card_number="Y00000001")
        new = Card.objects.get(card_number="Y00000002")
        assert (old.status, new.status) == (CardStatus.CANCELLED, CardStatus.IN_STOCK)
        closing = old.ledger_entries.get(sequence=2)
        assert (closing.event, closing.status_before) == (
            LedgerEvent.CANCELLED,
            CardStatus.IN_STOCK,
        )
        assert "卡务系统显示已换发新卡 Y****0002" in closing.note
        assert replay(statuses(old)) == CardStatus.CANCELLED
        assert result.cards["换发新卡、注销旧卡"] == 1
        closed = AuditEvent.objects.get(action="issuance.card.cancelled", object_id=str(old.pk))
        assert closed.after == {"status": "cancelled"}
        assert Card.objects.filter(person=a).exclude(status=CardStatus.CANCELLED).count() == 1

    def test_an_applied_card_is_produced_with_its_number(self, tmp_path, persons, county_admin):
        a, *_ = persons
        bank = Bank.objects.create(name=ABC)
        applied = card_create(person=a, bank=bank, acting_user=county_admin)
        card_record_event(
            card=applied, event=LedgerEvent.PRODUCTION_STARTED, acting_user=county_admin
        )
        import_export(
            export(tmp_path, (a.id_number, "Y00000009", "制卡成功", "正常", "2026-11-01")),
            acting_user=county_admin,
        )
        card = Card.objects.get()
        assert card.pk == applied.pk
        assert (card.card_number, card.status, card.custody_kind) == (
            "Y00000009",
            CardStatus.IN_STOCK,
            CustodyKind.BANK,
        )
        assert statuses(card) == ["applied", "production_started", "produced"]
        produced = card.ledger_entries.get(sequence=3)
        assert (produced.status_before, produced.recorded_by) == (
            CardStatus.IN_PRODUCTION,
            county_admin,
        )
        assert AuditEvent.objects.filter(
            action="issuance.card.produced", object_id=str(card.pk), actor=county_admin
        ).exists()

    def test_a_card_in_the_holders_hands_is_never_downgraded(self, tmp_path, persons, county_admin):
        a, *_ = persons
        import_export(
            export(tmp_path, (a.id_number, "Y00000001", "制卡成功", "正常", "2020-01-01"))
        )
        card = Card.objects.get()
        card_record_event(
            card=card,
            event=LedgerEvent.ISSUED,
            acting_user=county_admin,
            custody=Custody(
                kind=CustodyKind.HOLDER, party=a.name, signee=a.name, identity_checked=True
            ),
        )
        # Activated at the counter (only a bank clerk of its branch may; here the outcome).
        Card.objects.filter(pk=card.pk).update(status=CardStatus.ACTIVATED)
        result = import_export(
            export(
                tmp_path,
                (a.id_number, "Y00000001", "制卡成功", "注销", "2020-01-01"),
                (a.id_number, "Y00000002", "制卡成功", "正常", "2024-01-01"),
                name="newer.xlsx",
            )
        )
        card.refresh_from_db()
        assert card.status == CardStatus.ACTIVATED
        assert Card.objects.count() == 1
        assert result.cards["已发放的卡与卡务系统不一致（未改动）"] == 1

    def test_bank_matched_by_alias_or_created_when_new(self, tmp_path, persons):
        a, b, c, _ = persons
        rcc = Bank.objects.create(name="云南省农村信用社大姚联社", aliases=["大姚农信社"])
        postal = Bank.objects.create(name="中国邮政储蓄银行大姚县支行", short_name="邮储银行")
        result = import_export(
            export(
                tmp_path,
                (a.id_number, "Y1", "制卡成功", "正常", "2020-01-01", "大姚农信社"),
                (b.id_number, "Y2", "制卡成功", "正常", "2020-01-01", "邮储银行"),
                (c.id_number, "Y3", "制卡成功", "正常", "2020-01-01", "富滇银行大姚支行"),
            )
        )
        assert Card.objects.get(person=a).bank == rcc
        assert Card.objects.get(person=b).bank == postal
        new = Bank.objects.get(name="富滇银行大姚支行")
        card = Card.objects.get(person=c)
        assert (card.bank, card.custodian) == (new, "富滇银行大姚支行")
        assert Card.objects.get(person=a).custodian == "云南省农村信用社大姚联社"
        assert result.cards["新增合作银行"] == 1
        assert AuditEvent.objects.filter(
            action="issuance.bank.created", object_id=str(new.pk)
        ).exists()

    def test_a_partial_export_opens_only_its_persons(self, tmp_path, persons):
        a, b, c, d = persons
        import_export(
            export(
                tmp_path,
                (a.id_number, "", "制卡中", "", ""),
                (b.id_number, "", "制卡中", "", ""),
                (c.id_number, "", "制卡中", "", ""),
                (d.id_number, "", "制卡中", "", ""),
            )
        )
        import_export(
            export(tmp_path, (a.id_number, "Y1", "制卡成功", "正常", "2026-01-01"), name="p.xlsx"),
            coverage="partial",
        )
        assert list(Card.objects.values_list("person_id", flat=True)) == [a.pk]

    def test_a_card_number_of_someone_else_is_not_opened_twice(self, tmp_path, persons):
        a, b, *_ = persons
        import_export(export(tmp_path, (a.id_number, "Y1", "制卡成功", "正常", "2020-01-01")))
        result = import_export(
            export(tmp_path, (b.id_number, "Y1", "制卡成功", "正常", "2020-01-01"), name="b.xlsx"),
            coverage="complete",
        )
        assert list(Card.objects.values_list("person_id", flat=True)) == [a.pk]
        assert result.cards["卡号已登记在他人名下（未建卡）"] == 1

    def test_a_dead_holders_new_card_is_queued_for_cancellation(self, tmp_path, persons):
        a, *_ = persons
        Person.objects.filter(pk=a.pk).update(
            vital_status=VitalStatus.DECEASED, death_date="2025-01-01", death_source="死亡名单"
        )
        import_export(export(tmp_path, (a.id_number, "Y1", "制卡成功", "正常", "2020-01-01")))
        request = CancellationRequest.objects.get()
        assert request.card.person_id == a.pk
        assert "持卡人已死亡" in request.reason

    def test_keys_drawn_apart_by_another_session_still_open_each_card(
        self, tmp_path, persons, monkeypatch
    ):
        from issuance import opening

        reserve = opening.reserve_ids
        # Every other key of a larger block: what reserve_ids returns when another session
        # drew keys in between.
        monkeypatch.setattr(opening, "reserve_ids", lambda t, n: list(reserve(t, 2 * n))[::2])
        a, b, c, _ = persons
        import_export(
            export(
                tmp_path,
                (a.id_number, "Y1", "制卡成功", "正常", "2020-01-01"),
                (b.id_number, "Y2", "制卡成功", "正常", "2020-01-01"),
                (c.id_number, "Y3", "制卡成功", "正常", "2020-01-01"),
            )
        )
        cards = Card.objects.order_by("person_id")
        assert [card.card_number for card in cards] == ["Y1", "Y2", "Y3"]
        assert all(card.ledger_entries.get().sequence == 1 for card in cards)
        keys = [card.pk for card in cards]
        assert keys[1] - keys[0] == 2

    def test_a_person_listed_after_the_export_gets_the_card(self, tmp_path, village_a):
        from tests.factories import make_id_number

        id_number = make_id_number()
        import_export(export(tmp_path, (id_number, "Y7", "制卡成功", "正常", "2020-01-01")))
        assert not Card.objects.exists()
        rows = [UNISSUED_HEADER, [1, "后来", "", "彝族", id_number, "13887654321", "金碧", ""]]
        result = list_import(
            kind="unissued",
            path=write_xlsx(tmp_path / "l.xlsx", rows),
            original_name="l.xlsx",
            source="省第一批",
        )
        card = Card.objects.get()
        assert (card.person.id_number, card.card_number) == (id_number, "Y7")
        assert result.cards["新建社保卡台账"] == 1


@pytest.mark.django_db
class TestSampleExport:
    def test_the_sample_export_opens_one_card_per_made_person(self):
        call_command(
            "import_list", "unissued", str(SAMPLES / "province_batch1.xlsx"), source="省第一批"
        )
        call_command(
            "import_list", "unissued", str(SAMPLES / "prefecture_batch2.csv"), source="州第二批"
        )
        call_command("import_list", "card_export", str(SAMPLES / "card_export.xlsx"))
        made = PersonClass.objects.filter(card_class="card_made")
        assert made.count() > 0
        assert Card.objects.count() == made.count()
        assert set(Card.objects.values_list("person_id", flat=True)) == set(
            made.values_list("person_id", flat=True)
        )
        assert set(Card.objects.values_list("status", flat=True)) == {CardStatus.IN_STOCK}
        assert LedgerEntry.objects.filter(sequence=1, event="produced").count() == made.count()
        assert (
            AuditEvent.objects.filter(action="issuance.card.opened_from_export").count()
            == made.count()
        )
        records = CardSystemRecord.objects.filter(
            production_status="制卡成功", card_number__in=Card.objects.values("card_number")
        )
        assert records.count() >= made.count()
        call_command("match")
        assert Card.objects.count() == made.count()
