"""Review of the progress figures (issue 11): write paths that change what a figure reads,
and the figures' conditions against the witnesses (``roster.witnesses``)."""

import datetime
from collections import defaultdict

import pytest
from django.db import connection

from issuance.batches import batch_result_import
from issuance.models import Card, CardStatus
from issuance.services import card_make_instant
from roster.figures import counted_conditions, persons_meeting, subsidy_projects
from roster.models import (
    CardClass,
    DailyFigures,
    FigureCount,
    ListKind,
    Person,
    SourceList,
    UnreachableReason,
    VerificationStatus,
    VitalStatus,
)
from roster.progress import figures_drift, figures_snapshot
from roster.selectors import on_unissued_list
from roster.witnesses import DISAGREEMENT, card_class_q, needs_card_q, ready_for_card_q
from tests.factories import put_on_list
from tests.issuance.batchdata import RESULT_XLSX, fixture_persons, make_batch, ready_person


def a_complete_card_export() -> SourceList:
    """A card-system export imported before today's writes, as in production every day."""
    return SourceList.objects.create(
        kind=ListKind.CARD_EXPORT, source="卡务系统导出", file_name="导出.xlsx", file_sha256="x"
    )


@pytest.mark.django_db
class TestACardMadeAfterTheLatestExport:
    """A card made after the latest export is simply not exported yet: no disagreement. Its
    making is known from the PRODUCED ledger entry, written after the card's own row."""

    def test_an_instant_card(self, village_a, banker_a):
        a_complete_card_export()
        person = ready_person(village_a)
        put_on_list(person)

        card_make_instant(person=person, card_number="M20261201", acting_user=banker_a)

        assert figures_drift() == {}

    def test_a_batch_result(self, village_a, clerk_a):
        a_complete_card_export()
        persons = fixture_persons(village_a)
        put_on_list(*persons)
        batch = make_batch(clerk_a, persons, send=True)

        batch_result_import(
            batch=batch, acting_user=clerk_a, path=RESULT_XLSX, original_name=RESULT_XLSX.name
        )

        assert figures_drift() == {}


@pytest.fixture
def tricky(village_a, village_b, banker_a, branch_a, clerk_a):
    """A person in each state the figures and the witnesses could tell apart."""
    a_complete_card_export()
    bank = branch_a.bank
    dead = {"vital_status": VitalStatus.DECEASED, "death_date": datetime.date(2026, 1, 5)}
    persons = {
        "未比对": ready_person(village_a, card_class=None),
        "待制卡": ready_person(village_a),
        "制卡失败待重办": ready_person(village_a, card_class=CardClass.CARD_FAILED),
        "导出前已制卡": ready_person(village_a),
        "导出后即时制卡": ready_person(village_a),
        "卡务已制卡": ready_person(village_a, card_class=CardClass.CARD_MADE),
        "两方已制卡": ready_person(village_a, card_class=CardClass.CARD_MADE),
        "卡务制卡中": ready_person(village_a, card_class=CardClass.IN_PRODUCTION),
        "已申领": ready_person(village_b),
        "台账制卡失败": ready_person(village_b, card_class=CardClass.CARD_FAILED),
        "在批次中": ready_person(village_a),
        "已故": ready_person(village_a, **dead),
        "已故有卡": ready_person(village_b, **dead),
        "无法联系": ready_person(
            village_b,
            verification_status=VerificationStatus.UNREACHABLE,
            unreachable_reason=UnreachableReason.values[0],
        ),
        "待核查": ready_person(village_b, verification_status=VerificationStatus.PENDING),
        "不在名单": ready_person(village_b),
    }
    put_on_list(*[p for name, p in persons.items() if name != "不在名单"])
    put_on_list(persons["不在名单"], persons["待制卡"], kind=ListKind.SUBSIDY, source="补贴")
    for name in ("导出前已制卡", "两方已制卡", "已故有卡"):
        Card.objects.create(person=persons[name], bank=bank, status=CardStatus.IN_STOCK)
    Card.objects.create(person=persons["已申领"], bank=bank, status=CardStatus.APPLIED)
    Card.objects.create(
        person=persons["台账制卡失败"],
        bank=bank,
        status=CardStatus.FAILED,
        failure_reason="照片不合格",
    )
    card_make_instant(
        person=persons["导出后即时制卡"], card_number="M20261202", acting_user=banker_a
    )
    make_batch(clerk_a, [persons["在批次中"]])
    return persons


def names(persons) -> set[str]:
    return set(persons.values_list("name", flat=True))


@pytest.mark.django_db
class TestTheFiguresAskTheWitnesses:
    def test_each_comparison_class_and_the_disagreement(self, tricky):
        everyone = Person.objects.all()
        listed = Person.objects.filter(on_unissued_list())
        for card_class in (*CardClass.values, DISAGREEMENT):
            witnessed = listed.filter(card_class_q(card_class)).distinct()
            assert names(persons_meeting(everyone, f"class_{card_class}")) == names(witnessed), (
                card_class
            )
        disagreeing = persons_meeting(everyone, f"class_{DISAGREEMENT}")
        assert {p.pk for p in disagreeing} == {tricky["导出前已制卡"].pk, tricky["已故有卡"].pk}

    def test_ready_and_the_verification_work(self, tricky):
        everyone = Person.objects.all()
        ready = persons_meeting(everyone, "ready")
        assert names(ready) == names(everyone.filter(ready_for_card_q()))
        assert {p.pk for p in ready} == {
            tricky[name].pk for name in ("待制卡", "制卡失败待重办", "台账制卡失败", "不在名单")
        }
        assert names(persons_meeting(everyone, "work_in_scope")) == names(
            everyone.filter(needs_card_q())
        )

    def test_the_counters_count_the_persons_behind_each_number(self, tricky):
        counted = defaultdict(int)
        for key, n in FigureCount.objects.values_list("key", "n"):
            counted[key] += n
        projects = subsidy_projects()
        for key in counted_conditions(projects):
            assert counted[key] == persons_meeting(Person.objects.all(), key).count(), key


def figure_count_locked_exclusively() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND mode = 'ExclusiveLock'"
            " AND relation = %s::regclass",
            [FigureCount._meta.db_table],
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db
class TestTheHourlySnapshot:
    def test_counters_in_step_are_not_locked_against_the_clerks(self, village_a):
        put_on_list(ready_person(village_a))

        figures_snapshot()

        assert not figure_count_locked_exclusively()
        assert DailyFigures.objects.get().figures["listed"] == 1

    def test_a_drift_is_repaired_under_the_lock(self, village_a):
        put_on_list(ready_person(village_a))
        FigureCount.objects.filter(key="listed").update(n=5)

        figures_snapshot()

        assert figure_count_locked_exclusively()
        assert DailyFigures.objects.get().figures["listed"] == 1
        assert figures_drift() == {}
