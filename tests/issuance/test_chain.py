"""Tamper evidence of the card ledger (issue 10): hash chains, day heads, the fold, and
``manage.py ledger verify`` against a database-level attacker (triggers lifted)."""

import datetime
import hashlib
from contextlib import contextmanager
from importlib import import_module
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from issuance import chain
from issuance.models import Bank, Card, CustodyKind, LedgerDayHead, LedgerEntry, LedgerEvent
from issuance.services import Custody, card_create, card_record_event, cards_record_event
from tests.factories import PersonFactory
from tests.issuance.test_opening import export, import_export

append_only = import_module("issuance.migrations.0002_ledger_append_only")
ENTRY = LedgerEntry._meta.db_table


@contextmanager
def raw_ledger():
    """A database-level attacker: the append-only triggers lifted for the block."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Deferred foreign-key checks of the test's own inserts would block ALTER TABLE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {ENTRY} DISABLE TRIGGER ALL")
            try:
                yield cursor
            finally:
                cursor.execute(f"ALTER TABLE {ENTRY} ENABLE TRIGGER ALL")
        else:
            for statement in append_only.SQLITE_BACKWARD:
                cursor.execute(statement)
            try:
                yield cursor
            finally:
                for statement in append_only.SQLITE_FORWARD:
                    cursor.execute(statement)


def verify_command() -> tuple[int, str, str]:
    from io import StringIO

    out, err = StringIO(), StringIO()
    try:
        call_command("ledger", "verify", stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def walk(card, user, number="AB1234567"):
    """applied → produced → handed over to the village → received → issued to the holder."""
    card = card_record_event(
        card=card,
        event=LedgerEvent.PRODUCED,
        acting_user=user,
        card_number=number,
        custody=Custody(kind=CustodyKind.BANK, party="金碧信用社", location="金碧信用社库房"),
    )
    card = card_record_event(
        card=card,
        event=LedgerEvent.HANDED_OVER,
        acting_user=user,
        custody=Custody(kind=CustodyKind.VILLAGE, party="大河社区", responsible_person="李村长"),
    )
    card = card_record_event(
        card=card,
        event=LedgerEvent.RECEIVED,
        acting_user=user,
        custody=Custody(
            kind=CustodyKind.VILLAGE,
            party="大河社区",
            responsible_person="李村长",
            location="大河社区便民服务站",
        ),
    )
    return card_record_event(
        card=card,
        event=LedgerEvent.ISSUED,
        acting_user=user,
        custody=Custody(
            kind=CustodyKind.HOLDER,
            party=card.person.name,
            signee=card.person.name,
            identity_checked=True,
            method="on_site",
            location="大河社区集中发放点",
        ),
    )


@pytest.fixture
def walked(county_admin, branch_a, person_a, person_a2):
    first = walk(
        card_create(person=person_a, bank=branch_a.bank, acting_user=county_admin), county_admin
    )
    second = walk(
        card_create(person=person_a2, bank=branch_a.bank, acting_user=county_admin),
        county_admin,
        number="AB7654321",
    )
    return first, second


def entries(card):
    return list(LedgerEntry.objects.filter(card=card).order_by("sequence"))


@pytest.mark.django_db
class TestHashes:
    def test_the_canonical_text_is_documented_and_stable(self):
        entry = SimpleNamespace(
            card_id=7,
            sequence=2,
            event="issued",
            status_before="in_stock",
            status_after="issued",
            from_party="大河社区",
            to_party="张桂芬",
            custody_kind="holder",
            location="大河社区集中发放点",
            responsible_person="李村长",
            signee="张桂芬",
            method="on_site",
            face_to_face=True,
            identity_checked=None,
            occurred_at=datetime.datetime(2026, 11, 29, 10, 0, tzinfo=datetime.UTC),
            recorded_at=datetime.datetime(2026, 11, 29, 18, 0, 0, 5, tzinfo=datetime.UTC),
            recorded_by_id=None,
            note="本人签收",
            prev_hash="ab" * 32,
        )
        text = chain.canonical_text(entry)
        assert text.startswith("dayao-ledger-v1\ncard_id:1:7\nsequence:1:2\nevent:6:issued\n")
        assert "to_party:3:张桂芬\n" in text
        assert "face_to_face:1:1\nidentity_checked:0:\n" in text
        assert "occurred_at:27:2026-11-29T10:00:00.000000Z\n" in text
        assert "recorded_at:27:2026-11-29T18:00:00.000005Z\nrecorded_by_id:0:\n" in text
        assert text.endswith(f"prev_hash:64:{'ab' * 32}\n")
        assert chain.entry_hash(entry) == hashlib.sha256(text.encode()).hexdigest()

    def test_sql_and_python_give_the_same_hash(self, county_admin):
        when = datetime.datetime(2026, 11, 29, 2, 3, 4, 567890, tzinfo=datetime.UTC)
        row = {
            "card_id": 12,
            "sequence": 3,
            "event": "cancelled",
            "status_before": "in_stock",
            "status_after": "cancelled",
            "to_party": "中国农业银行大姚县支行",
            "custody_kind": "bank",
            "note": "卡务系统显示已换发新卡 Y****0001（导出文件：导出 “十一月”.xlsx）",
            "prev_hash": "",
        }
        constants = {
            "from_party": "",
            "location": "",
            "responsible_person": "",
            "signee": "",
            "method": "",
            "face_to_face": False,
            "identity_checked": False,
            "occurred_at": when,
            "recorded_at": when,
            "recorded_by_id": county_admin.pk,
        }
        expression, params = chain.entry_hash_sql({name: f"q.{name}" for name in row}, constants)
        select = ", ".join(f"%s AS {name}" for name in row)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {expression} FROM (SELECT {select}) q", [*params, *row.values()]
            )
            in_sql = cursor.fetchone()[0]
        assert in_sql == chain.entry_hash(SimpleNamespace(**row, **constants))

    def test_every_write_path_chains_its_entries(self, walked):
        for card in walked:
            previous = ""
            for entry in entries(card):
                assert entry.prev_hash == previous
                assert entry.entry_hash == chain.entry_hash(entry)
                previous = entry.entry_hash

    def test_opening_entries_hashed_in_sql_agree_with_python(
        self, tmp_path, village_a, county_admin
    ):
        applied, new = (PersonFactory(township=village_a.township, village=village_a) for _ in "ab")
        bank = Bank.objects.create(name="中国农业银行大姚县支行")
        card = card_create(person=applied, bank=bank, acting_user=county_admin)
        import_export(
            export(
                tmp_path,
                (applied.id_number, "Y00000009", "制卡成功", "正常", "2026-11-01"),
                (new.id_number, "Y00000010", "制卡成功", "正常", "2026-11-01"),
            ),
            acting_user=county_admin,
        )
        produced = entries(card)[-1]
        assert (produced.sequence, produced.event) == (2, LedgerEvent.PRODUCED)
        assert produced.prev_hash == entries(card)[0].entry_hash
        opened = LedgerEntry.objects.get(card__person=new)
        assert opened.prev_hash == ""
        for entry in (produced, opened):
            assert entry.entry_hash == chain.entry_hash(entry)
        assert chain.ledger_verify().ok


@pytest.mark.django_db
class TestFold:
    def test_the_card_is_the_fold_of_its_ledger(self, walked):
        for card in walked:
            card.refresh_from_db()
            assert chain.card_state(card) == chain.card_fold(entries(card))
            assert card.custodian == card.person.name
            assert card.custody_location == "大河社区集中发放点"

    def test_many_cards_at_once_follow_the_same_rule(self, county_admin, branch_a, person_a):
        card = card_create(person=person_a, bank=branch_a.bank, acting_user=county_admin)
        card_record_event(
            card=card,
            event=LedgerEvent.PRODUCED,
            acting_user=county_admin,
            custody=Custody(kind=CustodyKind.BANK, party="金碧信用社"),
        )
        (moved,) = cards_record_event(
            cards=[card],
            event=LedgerEvent.HANDED_OVER,
            acting_user=county_admin,
            custody=Custody(
                kind=CustodyKind.TOWNSHIP, party="金碧镇社保中心", responsible_person="王芳"
            ),
        )
        moved.refresh_from_db()
        assert (moved.custody_kind, moved.custodian) == (CustodyKind.TOWNSHIP, "王芳")
        assert chain.card_state(moved) == chain.card_fold(entries(moved))


@pytest.mark.django_db
class TestVerify:
    def test_a_clean_ledger_passes(self, walked):
        code, out, err = verify_command()
        assert code == 0, err
        assert "台账校验通过：2 张卡，10 条记录" in out

    def test_an_altered_entry_is_named_by_its_card_number(self, walked):
        _, second = walked
        with raw_ledger() as cursor:
            cursor.execute(
                f"UPDATE {ENTRY} SET signee = %s WHERE card_id = %s AND sequence = 5",
                ["李村长", second.pk],
            )
        code, _, err = verify_command()
        assert code == 1
        assert "台账校验失败：卡号 AB7654321 第 5 条记录（发放）被改动" in err
        assert "AB1234567" not in err

    def test_an_entry_deleted_in_the_middle_is_found(self, walked):
        first, _ = walked
        with raw_ledger() as cursor:
            cursor.execute(f"DELETE FROM {ENTRY} WHERE card_id = %s AND sequence = 3", [first.pk])
        code, _, err = verify_command()
        assert code == 1
        assert "卡号 AB1234567 第 3 条记录缺失" in err

    def test_two_entries_reordered_are_found(self, walked):
        first, _ = walked
        with raw_ledger() as cursor:
            for old, new in ((2, 100), (3, 2), (100, 3)):
                cursor.execute(
                    f"UPDATE {ENTRY} SET sequence = %s WHERE card_id = %s AND sequence = %s",
                    [new, first.pk, old],
                )
        code, _, err = verify_command()
        assert code == 1
        assert "卡号 AB1234567 第 2 条记录" in err

    def test_a_newest_entry_removed_shows_in_the_cards_state(self, walked):
        first, _ = walked
        with raw_ledger() as cursor:
            cursor.execute(f"DELETE FROM {ENTRY} WHERE card_id = %s AND sequence = 5", [first.pk])
        result = chain.ledger_verify()
        assert not result.ok
        assert result.problems[0].startswith(
            "卡号 AB1234567 卡片现状与台账不符：状态卡上为“已发放”"
        )

    def test_the_newest_entry_of_a_sealed_day_removed_shows(self, walked):
        first, _ = walked
        assert chain.days_seal(until=timezone.localdate()) == 1
        assert chain.ledger_verify().ok
        with raw_ledger() as cursor:
            cursor.execute(f"DELETE FROM {ENTRY} WHERE card_id = %s AND sequence = 5", [first.pk])
        # The attacker puts the card back where its shortened ledger leaves it.
        folded = chain.card_fold(entries(first))
        Card.objects.filter(pk=first.pk).update(
            **{name: getattr(folded, name) for name in chain.FOLDED_FIELDS}
        )
        code, _, err = verify_command()
        assert code == 1
        assert f"{timezone.localdate():%Y年%m月%d日}的日链头与封存值不一致" in err
        assert "封存时当日 10 条记录，现 9 条" in err

    def test_a_changed_card_state_is_found(self, walked):
        _, second = walked
        Card.objects.filter(pk=second.pk).update(custodian="某村干部")
        result = chain.ledger_verify()
        assert result.problems == [
            "卡号 AB7654321 卡片现状与台账不符：责任人卡上为“某村干部”，按台账应为“杨春梅”。"
            if second.person.name == "杨春梅"
            else result.problems[0]
        ]
        assert "责任人卡上为“某村干部”" in result.problems[0]

    def test_the_migration_backfill_chains_existing_entries(self, walked):
        first, _ = walked
        with raw_ledger() as cursor:
            cursor.execute(f"UPDATE {ENTRY} SET prev_hash = '', entry_hash = ''")
        assert not chain.ledger_verify().ok
        backfill = import_module("issuance.migrations.0012_ledger_hash_chain").backfill
        with connection.cursor() as cursor:
            # What the migration uses of its schema editor (SQLite's cannot open inside
            # the test's transaction).
            backfill(apps, SimpleNamespace(connection=connection, execute=cursor.execute))
        assert chain.ledger_verify().ok
        # The append-only triggers are back.
        with pytest.raises(Exception, match="只能追加"):
            LedgerEntry.objects.filter(card=first).update(note="篡改")


@pytest.mark.django_db
class TestDayHeads:
    def test_a_day_head_chains_the_days_entries_in_id_order(self, walked, time_machine):
        today = timezone.localdate()
        hashes = list(LedgerEntry.objects.order_by("id").values_list("entry_hash", flat=True))
        expected = hashlib.sha256("".join(hashes).encode()).hexdigest()
        assert chain.chain_head(today) == expected
        assert chain.chain_head(today - datetime.timedelta(1)) == ""
        assert not LedgerDayHead.objects.exists()
        # Two days later, today is past: asking for its head seals it (and the day after).
        time_machine.move_to(timezone.now() + datetime.timedelta(days=2))
        assert chain.chain_head(today) == expected
        sealed = LedgerDayHead.objects.get(day=today)
        assert (sealed.head, sealed.entries) == (expected, 10)
        assert chain.chain_head(today + datetime.timedelta(1)) == (
            hashlib.sha256(expected.encode()).hexdigest()
        )

    def test_the_nightly_task_seals_yesterday(self, walked, time_machine):
        from issuance.tasks import ledger_days_seal

        time_machine.move_to(timezone.now() + datetime.timedelta(days=1, hours=2))
        ledger_days_seal()
        assert LedgerDayHead.objects.count() == 1
        ledger_days_seal()
        assert LedgerDayHead.objects.count() == 1


@pytest.mark.django_db
def test_the_demo_county_verifies():
    from dashboard.demo import demo_seed

    demo_seed(persons=300, seed=2026)
    result = chain.ledger_verify()
    assert result.ok, result.problems[:3]
    assert result.entries == LedgerEntry.objects.count() > 300
