"""对账: each kind of disagreement between a card-system export and our ledger, with advice."""

from collections import Counter

import pytest

from issuance.models import Bank, Card, CardStatus, CustodyKind, IssueMethod, LedgerEvent
from issuance.reconciliation import (
    Kind,
    reconciliation_counts,
    reconciliation_items,
)
from issuance.services import Custody, card_create, card_record_event
from roster.models import Person
from tests.factories import PersonFactory
from tests.issuance.test_opening import ABC, export, import_export

CCB = "中国建设银行大姚支行"
NOT_ON_ROSTER = "110101199003070011"


@pytest.fixture
def persons(village_a):
    return [PersonFactory(township=village_a.township, village=village_a) for _ in range(3)]


def kinds(user) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for item in reconciliation_items(user=user):
        found.setdefault(item.kind, []).append(item.card_number or item.masked_id)
    return found


def issue_to_holder(card: Card, user) -> Card:
    name = card.person.name
    return card_record_event(
        card=card,
        event=LedgerEvent.ISSUED,
        acting_user=user,
        custody=Custody(
            kind=CustodyKind.HOLDER,
            method=IssueMethod.COUNTER,
            signee=name,
            party=name,
            identity_checked=True,
            location="金碧镇社保中心",
        ),
    )


@pytest.mark.django_db
class TestKinds:
    def test_agreeing_witnesses_list_nothing(self, tmp_path, persons, supervisor):
        a, *_ = persons
        import_export(export(tmp_path, (a.id_number, "Y1", "制卡成功", "正常", "2020-01-01")))
        assert reconciliation_items(user=supervisor) == []

    def test_no_export_no_reconciliation(self, supervisor, persons):
        assert reconciliation_items(user=supervisor) == []

    def test_cancelled_there_but_issued_here(self, tmp_path, persons, county_admin, supervisor):
        a, *_ = persons
        import_export(export(tmp_path, (a.id_number, "Y1", "制卡成功", "正常", "2020-01-01")))
        issue_to_holder(Card.objects.get(card_number="Y1"), county_admin)
        import_export(
            export(tmp_path, (a.id_number, "Y1", "制卡成功", "注销", "2020-01-01"), name="2.xlsx"),
            coverage="complete",
        )
        [item] = reconciliation_items(user=supervisor)
        assert (item.kind, item.card_number, item.name) == (Kind.CANCELLED_THERE, "Y1", a.name)
        assert "已发放" in item.ours and "注销" in item.theirs
        assert "登记注销" in item.advice
        # The export did not touch our card: shown, never resolved.
        assert Card.objects.get(card_number="Y1").status == CardStatus.ISSUED

    def test_made_there_unknown_here(self, tmp_path, persons, supervisor, clerk_a):
        a, b, _ = persons
        import_export(
            export(
                tmp_path,
                (NOT_ON_ROSTER, "Y4", "制卡成功", "正常", "2020-01-01"),
                (a.id_number, "Y5", "制卡成功", "正常", "2020-01-01", ""),
            )
        )
        found = {item.masked_id: item for item in reconciliation_items(user=supervisor)}
        outsider = found["110101********0011"]
        assert (outsider.kind, outsider.township, outsider.name) == (
            Kind.UNKNOWN_HERE,
            None,
            "某人",
        )
        assert "不在本系统花名册" in outsider.ours
        mine = found[a.masked_id_number]
        assert (mine.kind, mine.township) == (Kind.UNKNOWN_HERE, a.township)
        assert "缺卡号或发卡银行" in mine.ours
        # The township sees its own person, not the stranger (the county's to ask about).
        assert [item.name for item in reconciliation_items(user=clerk_a)] == [a.name]

    def test_a_number_on_someone_elses_card_is_unknown_for_this_one(
        self, tmp_path, persons, supervisor
    ):
        a, b, _ = persons
        import_export(export(tmp_path, (a.id_number, "Y1", "制卡成功", "正常", "2020-01-01")))
        import_export(
            export(
                tmp_path,
                (a.id_number, "Y1", "制卡成功", "正常", "2020-01-01"),
                (b.id_number, "Y1", "制卡成功", "正常", "2020-01-01"),
                name="2.xlsx",
            ),
            coverage="complete",
        )
        [item] = reconciliation_items(user=supervisor)
        assert (item.kind, item.name) == (Kind.UNKNOWN_HERE, b.name)
        assert "另一人名下" in item.ours

    def test_another_card_number_there(self, tmp_path, persons, county_admin, supervisor):
        a, *_ = persons
        import_export(export(tmp_path, (a.id_number, "Y1", "制卡成功", "正常", "2020-01-01")))
        issue_to_holder(Card.objects.get(card_number="Y1"), county_admin)
        import_export(
            export(
                tmp_path,
                (a.id_number, "Y1", "制卡成功", "注销", "2020-01-01"),
                (a.id_number, "Y2", "制卡成功", "正常", "2024-01-01"),
                name="2.xlsx",
            ),
            coverage="complete",
        )
        # Listed once, as the number that differs (its advice covers the old card's 注销).
        [item] = reconciliation_items(user=supervisor)
        assert (item.kind, item.card_number) == (Kind.NUMBER_DIFFERS, "Y1")
        assert "Y2" in item.theirs and "收回旧卡" in item.advice

    def test_made_here_absent_from_a_complete_export(
        self, tmp_path, persons, county_admin, supervisor
    ):
        a, *_ = persons
        bank = Bank.objects.create(name=ABC)
        card = card_create(person=a, bank=bank, acting_user=county_admin)
        card_record_event(
            card=card, event=LedgerEvent.PRODUCED, acting_user=county_admin, card_number="M20000009"
        )
        import_export(export(tmp_path, (a.id_number, "", "制卡失败", "", "")))
        [item] = reconciliation_items(user=supervisor)
        assert (item.kind, item.card_number) == (Kind.ABSENT_THERE, "M20000009")
        assert "制卡失败" in item.theirs
        assert "核实前该人员不退回核查队列" in item.advice

    def test_another_bank_there(self, tmp_path, persons, supervisor):
        a, *_ = persons
        import_export(export(tmp_path, (a.id_number, "Y1", "制卡成功", "正常", "2020-01-01")))
        import_export(
            export(
                tmp_path, (a.id_number, "Y1", "制卡成功", "正常", "2020-01-01", CCB), name="2.xlsx"
            ),
            coverage="complete",
        )
        [item] = reconciliation_items(user=supervisor)
        assert (item.kind, item.card_number) == (Kind.BANK_DIFFERS, "Y1")
        assert CCB in item.theirs and ABC in item.ours

    def test_a_bank_spelled_otherwise_is_the_same_bank(self, tmp_path, persons, supervisor):
        a, *_ = persons
        import_export(export(tmp_path, (a.id_number, "Y1", "制卡成功", "正常", "2020-01-01")))
        import_export(
            export(
                tmp_path,
                (a.id_number, "Y1", "制卡成功", "正常", "2020-01-01", f" {ABC} "),
                name="2.xlsx",
            ),
            coverage="complete",
        )
        assert reconciliation_items(user=supervisor) == []

    def test_cancelled_here_but_live_there(self, tmp_path, persons, county_admin, supervisor):
        a, *_ = persons
        import_export(export(tmp_path, (a.id_number, "Y1", "制卡成功", "正常", "2020-01-01")))
        card_record_event(
            card=Card.objects.get(card_number="Y1"),
            event=LedgerEvent.CANCELLED,
            acting_user=county_admin,
            note="持卡人已死亡",
        )
        [item] = reconciliation_items(user=supervisor)
        assert (item.kind, item.card_number) == (Kind.CANCELLED_HERE, "Y1")

    def test_another_card_status_there(self, tmp_path, persons, supervisor):
        a, *_ = persons
        import_export(export(tmp_path, (a.id_number, "Y1", "制卡成功", "挂失", "2020-01-01")))
        [item] = reconciliation_items(user=supervisor)
        assert (item.kind, item.theirs) == (Kind.STATUS_THERE, "卡状态：挂失")


@pytest.mark.django_db
class TestFiguresAndScope:
    @pytest.fixture
    def mixed(self, tmp_path, persons, county_admin, person_b):
        a, b, _ = persons
        import_export(
            export(
                tmp_path,
                (a.id_number, "Y1", "制卡成功", "正常", "2020-01-01"),
                (b.id_number, "Y2", "制卡成功", "正常", "2020-01-01"),
                (person_b.id_number, "Y3", "制卡成功", "正常", "2020-01-01"),
                (NOT_ON_ROSTER, "Y4", "制卡成功", "正常", "2020-01-01"),
            )
        )
        import_export(
            export(
                tmp_path,
                (a.id_number, "Y1", "制卡成功", "正常", "2020-01-01", CCB),
                (b.id_number, "Y2", "制卡成功", "正常", "2020-01-01", CCB),
                (person_b.id_number, "Y3", "制卡成功", "正常", "2020-01-01", CCB),
                (NOT_ON_ROSTER, "Y4", "制卡成功", "正常", "2020-01-01"),
                name="2.xlsx",
            ),
            coverage="complete",
        )

    def test_counts_per_kind_and_township(self, mixed, supervisor, township_a, township_b):
        counts = reconciliation_counts(user=supervisor)
        by_kind = {k["kind"]: k["count"] for k in counts["kinds"]}
        assert (by_kind[Kind.BANK_DIFFERS], by_kind[Kind.UNKNOWN_HERE], counts["total"]) == (
            3,
            1,
            4,
        )
        rows = {row["name"]: row["total"] for row in counts["townships"]}
        assert rows == {township_a.name: 2, township_b.name: 1, "不在本县花名册": 1}
        assert len(reconciliation_items(user=supervisor, township=township_a.code)) == 2
        assert len(reconciliation_items(user=supervisor, township="none")) == 1
        assert len(reconciliation_items(user=supervisor, kind=Kind.UNKNOWN_HERE)) == 1

    def test_each_role_sees_its_scope(self, mixed, clerk_a, clerk_b, banker_a):
        assert len(reconciliation_items(user=clerk_a)) == 2
        assert len(reconciliation_items(user=clerk_b)) == 1
        # The branch's bank is not ABC's: none of these cards are its branch's.
        assert reconciliation_items(user=banker_a) == []

    def test_a_bank_clerk_sees_the_cards_of_the_branch(self, tmp_path, persons, banker_a, branch_a):
        a, *_ = persons
        ours = branch_a.bank.name
        import_export(export(tmp_path, (a.id_number, "Y1", "制卡成功", "正常", "2020-01-01", ours)))
        import_export(
            export(
                tmp_path, (a.id_number, "Y1", "制卡成功", "正常", "2020-01-01", CCB), name="2.xlsx"
            ),
            coverage="complete",
        )
        assert [item.kind for item in reconciliation_items(user=banker_a)] == [Kind.BANK_DIFFERS]


@pytest.mark.django_db
class TestEffectiveExports:
    def test_a_partial_export_after_the_complete_one_speaks_for_its_persons(
        self, tmp_path, persons, county_admin, supervisor
    ):
        a, b, _ = persons
        import_export(
            export(
                tmp_path,
                (a.id_number, "Y1", "制卡成功", "正常", "2020-01-01"),
                (b.id_number, "Y2", "制卡成功", "正常", "2020-01-01"),
            )
        )
        for number in ("Y1", "Y2"):
            issue_to_holder(Card.objects.get(card_number=number), county_admin)
        import_export(
            export(tmp_path, (a.id_number, "Y1", "制卡成功", "注销", "2020-01-01"), name="p.xlsx"),
            coverage="partial",
        )
        assert kinds(supervisor) == {Kind.CANCELLED_THERE: ["Y1"]}
        # A newer complete export that shows the card live again ends the disagreement.
        import_export(
            export(
                tmp_path,
                (a.id_number, "Y1", "制卡成功", "正常", "2020-01-01"),
                (b.id_number, "Y2", "制卡成功", "正常", "2020-01-02"),
                name="3.xlsx",
            ),
            coverage="complete",
        )
        assert kinds(supervisor) == {}


@pytest.mark.django_db
class TestKeptByTheWriters:
    """The items are stored; each write path asks them again of the persons it changed
    (the drift check after every test compares them with a computation from scratch)."""

    def test_a_card_event_lists_and_unlists_its_card(self, tmp_path, persons, county_admin):
        a, *_ = persons
        import_export(export(tmp_path, (a.id_number, "Y1", "制卡成功", "正常", "2020-01-01")))
        card = Card.objects.get(card_number="Y1")
        card_record_event(
            card=card, event=LedgerEvent.CANCELLED, acting_user=county_admin, note="持卡人已死亡"
        )
        assert kinds(county_admin) == {Kind.CANCELLED_HERE: ["Y1"]}
        [item] = reconciliation_items(user=county_admin)
        assert "已注销" in item.ours

    def test_a_bulk_event_is_asked_again_for_every_card(self, tmp_path, persons, county_admin):
        from issuance.services import cards_record_event

        a, b, _ = persons
        import_export(
            export(
                tmp_path,
                (a.id_number, "Y1", "制卡成功", "正常", "2020-01-01"),
                (b.id_number, "Y2", "制卡成功", "正常", "2020-01-01"),
            )
        )
        cards_record_event(
            cards=list(Card.objects.all()),
            event=LedgerEvent.CANCELLED,
            acting_user=county_admin,
            note="批量注销",
        )
        # Both, in the page's order (by holder), whichever the factories' names put first.
        listed = kinds(county_admin)
        assert {k: sorted(v) for k, v in listed.items()} == {Kind.CANCELLED_HERE: ["Y1", "Y2"]}

    def test_a_person_who_moves_is_listed_in_the_new_township(
        self, tmp_path, persons, village_b, supervisor, clerk_a, clerk_b
    ):
        a, *_ = persons
        import_export(export(tmp_path, (a.id_number, "Y1", "制卡成功", "挂失", "2020-01-01")))
        assert len(reconciliation_items(user=clerk_a)) == 1
        a.township, a.village = village_b.township, village_b
        a.save()
        assert reconciliation_items(user=clerk_a) == []
        [item] = reconciliation_items(user=clerk_b)
        assert item.township == village_b.township
        counts = reconciliation_counts(user=supervisor)
        assert [row["code"] for row in counts["townships"]] == [village_b.township.code]

    def test_a_person_listed_after_the_export_takes_over_its_record(self, tmp_path, supervisor):
        from roster.imports import list_import
        from tests.factories import make_id_number
        from tests.roster.listfiles import UNISSUED_HEADER, write_xlsx

        id_number = make_id_number()
        import_export(export(tmp_path, (id_number, "", "制卡成功", "正常", "2020-01-01")))
        [stranger] = reconciliation_items(user=supervisor)
        assert (stranger.kind, stranger.person, stranger.ours) == (
            Kind.UNKNOWN_HERE,
            None,
            "不在本系统花名册中",
        )
        rows = [UNISSUED_HEADER, [1, "后来", "", "彝族", id_number, "", "金碧", ""]]
        path = write_xlsx(tmp_path / "l.xlsx", rows)
        list_import(kind="unissued", path=path, original_name="l.xlsx", source="省第一批")
        [item] = reconciliation_items(user=supervisor)
        assert item.person.id_number == id_number
        assert item.ours == "无此卡（卡务系统记录缺卡号或发卡银行，未能建账）"

    def test_a_person_deleted_leaves_the_record_not_on_the_roster(
        self, tmp_path, persons, supervisor
    ):
        a, *_ = persons
        import_export(export(tmp_path, (a.id_number, "", "制卡成功", "正常", "2020-01-01")))
        [item] = reconciliation_items(user=supervisor)
        assert item.person == a
        a.delete()
        [item] = reconciliation_items(user=supervisor)
        assert (item.person, item.name, item.ours) == (None, "某人", "不在本系统花名册中")

    def test_a_bank_renamed_to_the_exports_spelling_is_no_longer_another_bank(
        self, tmp_path, persons, supervisor
    ):
        a, *_ = persons
        import_export(export(tmp_path, (a.id_number, "Y1", "制卡成功", "正常", "2020-01-01")))
        import_export(
            export(
                tmp_path, (a.id_number, "Y1", "制卡成功", "正常", "2020-01-01", CCB), name="2.xlsx"
            ),
            coverage="complete",
        )
        assert kinds(supervisor) == {Kind.BANK_DIFFERS: ["Y1"]}
        # The card's bank is the one the export names, under the name it now bears.
        other = Bank.objects.get(name=CCB)
        other.name = "中国建设银行（停用）"
        other.save()
        ours = Bank.objects.get(name=ABC)
        ours.name = CCB
        ours.save()
        assert kinds(supervisor) == {}

    def test_a_name_corrected_alone_is_shown_and_ordered_by(self, tmp_path, persons, supervisor):
        a, b, _ = persons
        import_export(
            export(
                tmp_path,
                (a.id_number, "Y1", "制卡成功", "挂失", "2020-01-01"),
                (b.id_number, "Y2", "制卡成功", "挂失", "2020-01-01"),
            )
        )
        a.name, b.name = "Zhang", "Ma"
        a.save(update_fields=["name"])
        b.save(update_fields=["name"])
        assert [item.name for item in reconciliation_items(user=supervisor)] == ["Ma", "Zhang"]

    def test_the_drift_check_finds_a_write_behind_the_writers(self, tmp_path, persons):
        from django.db import connection

        from issuance.reconciliation import reconciliation_drift

        a, *_ = persons
        import_export(export(tmp_path, (a.id_number, "Y1", "制卡成功", "正常", "2020-01-01")))
        assert reconciliation_drift() == {"missing": Counter(), "extra": Counter()}
        with connection.cursor() as cursor:
            cursor.execute("UPDATE issuance_card SET status = 'cancelled'")
        missing = reconciliation_drift()["missing"]
        assert [row[0] for row in missing] == [Kind.CANCELLED_HERE]
        with connection.cursor() as cursor:
            cursor.execute("UPDATE issuance_card SET status = 'in_stock'")


@pytest.mark.django_db
class TestBankScope:
    def test_a_bank_clerk_reads_the_items_the_ledger_and_roster_let_them_see(
        self, tmp_path, persons, banker_a, branch_a, county_admin, supervisor
    ):
        """Items about cards as ``Card.objects.for_user``; about a person without a card
        of ours in the export's number as ``Person.objects.for_user``."""
        a, b, c = persons
        ours = branch_a.bank.name
        card_create(person=c, bank=branch_a.bank, acting_user=county_admin)
        import_export(
            export(
                tmp_path,
                (a.id_number, "Y1", "制卡成功", "挂失", "2020-01-01", ours),
                (b.id_number, "Y2", "制卡成功", "挂失", "2020-01-01", CCB),
                (c.id_number, "Y3", "制卡成功", "正常", "2020-01-01", ""),
            )
        )
        everything = reconciliation_items(user=supervisor)
        assert {item.kind for item in everything} == {Kind.STATUS_THERE, Kind.UNKNOWN_HERE}
        seen = {(item.kind, item.name) for item in reconciliation_items(user=banker_a)}
        cards = Card.objects.for_user(banker_a)
        persons_seen = Person.objects.for_user(banker_a)
        assert seen == {
            (item.kind, item.name)
            for item in everything
            if (item.card and cards.filter(pk=item.card.pk).exists())
            or (item.card is None and persons_seen.filter(pk=item.person.pk).exists())
        }
        assert seen == {(Kind.STATUS_THERE, a.name), (Kind.UNKNOWN_HERE, c.name)}
