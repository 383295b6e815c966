"""The match (roster.imports.matching.classify_all): results kept apart from the person row."""

import datetime
import itertools
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from dayao_sscard.models import AuditEvent
from roster.imports.matching import classify_all, classify_unclassified
from roster.models import (
    CardClass,
    CardSystemRecord,
    ClassificationChange,
    ListKind,
    Person,
    PersonClass,
    SourceList,
)
from roster.reports import classification_report
from roster.selectors import PersonFilters, person_list
from tests.factories import PersonFactory, classify, make_id_number

_exports = itertools.count(1)


def export(*records: tuple[Person, str, str]) -> SourceList:
    """A card-system export naming each person with a 制卡状态 and a failure reason."""
    snapshot = SourceList.objects.create(
        kind=ListKind.CARD_EXPORT,
        source="卡务系统导出",
        file_name="export.xlsx",
        file_sha256=f"export-{next(_exports)}",
    )
    CardSystemRecord.objects.bulk_create(
        CardSystemRecord(
            snapshot=snapshot,
            row_number=n,
            id_number=person.id_number,
            production_status=status,
            failure_reason=reason,
            card_status="正常",
        )
        for n, (person, status, reason) in enumerate(records, start=1)
    )
    return snapshot


def results() -> dict[int, tuple]:
    return {
        row["person_id"]: (
            row["card_class"],
            row["failure_reason"],
            row["snapshot_id"],
            row["classified_at"],
        )
        for row in PersonClass.objects.values()
    }


@pytest.fixture
def people(village_a):
    return [PersonFactory(township=village_a.township, village=village_a) for _ in range(4)]


@pytest.mark.django_db
class TestClassifyAll:
    def test_nothing_to_match_without_an_export(self, people):
        assert classify_all() == {}
        assert not PersonClass.objects.exists()

    def test_the_first_match_classifies_everyone_without_recording_changes(self, people):
        a, b, c, d = people
        snapshot = export((a, "制卡成功", ""), (b, "制卡失败", "照片不合格"), (c, "已申领", ""))
        counts = classify_all()
        assert counts == {"变化人数": 0, "首次比对人数": 4}
        assert not ClassificationChange.objects.exists()
        assert {pk: r[:3] for pk, r in results().items()} == {
            a.pk: (CardClass.CARD_MADE, "", snapshot.pk),
            b.pk: (CardClass.CARD_FAILED, "照片不合格", snapshot.pk),
            c.pk: (CardClass.IN_PRODUCTION, "", snapshot.pk),
            d.pk: (CardClass.NO_CARD_INFO, "", snapshot.pk),
        }
        event = AuditEvent.objects.get(action="roster.sourcelist.classified")
        assert event.after == counts

    def test_a_second_export_changes_exactly_the_person_whose_class_changed(self, people):
        a, b, c, d = people
        first = export((a, "制卡中", ""), (b, "制卡失败", "照片不合格"))
        classify_all()
        before = results()
        second = export((a, "制卡成功", ""), (b, "制卡失败", "照片不合格"))
        assert classify_all() == {"变化人数": 1, "首次比对人数": 0}
        change = ClassificationChange.objects.get()
        assert (change.snapshot_id, change.person_id) == (second.pk, a.pk)
        assert (change.previous_class, change.new_class) == (
            CardClass.IN_PRODUCTION,
            CardClass.CARD_MADE,
        )
        after = results()
        assert after[a.pk][:3] == (CardClass.CARD_MADE, "", second.pk)
        assert after[a.pk][3] > before[a.pk][3]
        # Everyone else keeps the row written by the first match, untouched.
        assert {pk: r for pk, r in after.items() if pk != a.pk} == {
            pk: r for pk, r in before.items() if pk != a.pk
        }
        assert before[b.pk][2] == first.pk

    def test_a_new_failure_reason_alone_is_a_change(self, people):
        a, *_ = people
        export((a, "制卡失败", "照片不合格"))
        classify_all()
        export((a, "制卡失败", "身份信息校验不通过"))
        assert classify_all() == {"变化人数": 1, "首次比对人数": 0}
        change = ClassificationChange.objects.get()
        assert (change.previous_class, change.new_class, change.new_failure_reason) == (
            CardClass.CARD_FAILED,
            CardClass.CARD_FAILED,
            "身份信息校验不通过",
        )
        assert PersonClass.objects.get(person=a).failure_reason == "身份信息校验不通过"

    def test_matching_again_changes_nothing(self, people):
        a, b, *_ = people
        export((a, "制卡成功", ""), (b, "制卡失败", "照片不合格"))
        classify_all()
        before = results()
        assert classify_all() == {"变化人数": 0, "首次比对人数": 0}
        out = StringIO()
        call_command("match", stdout=out)
        assert "比对结果变化 0 人，首次比对 0 人。" in out.getvalue()
        assert results() == before
        assert not ClassificationChange.objects.exists()

    def test_a_person_added_after_the_match_is_classified_by_the_next(self, people, village_a):
        a, *_ = people
        export((a, "制卡成功", ""))
        classify_all()
        later = PersonFactory(township=village_a.township, village=village_a)
        assert later.card_class == ""
        assert classify_all() == {"变化人数": 0, "首次比对人数": 1}
        assert PersonClass.objects.get(person=later).card_class == CardClass.NO_CARD_INFO
        assert not ClassificationChange.objects.exists()

    def test_the_person_row_is_never_written(self, people):
        a, b, *_ = people
        export((a, "制卡中", ""))
        classify_all()
        export((a, "制卡成功", ""), (b, "制卡失败", "照片不合格"))
        with CaptureQueriesContext(connection) as queries:
            assert classify_all() == {"变化人数": 2, "首次比对人数": 0}
        written = [
            q["sql"]
            for q in queries.captured_queries
            if re.match(r'\s*(UPDATE|INSERT INTO|DELETE FROM)\s+"?roster_person"?\s', q["sql"])
        ]
        assert written == []


@pytest.mark.django_db
class TestClassifyUnclassified:
    """After a person list: only the persons without a result are compared."""

    def test_nothing_to_match_without_an_export(self, people):
        assert classify_unclassified() == {}
        assert not PersonClass.objects.exists()

    def test_newcomers_are_classified_and_every_result_already_written_stands(
        self, people, village_a
    ):
        a, b, *_ = people
        newcomer_id = make_id_number(male=False)
        snapshot = export((a, "制卡中", ""), (b, "制卡成功", ""))
        CardSystemRecord.objects.create(
            snapshot=snapshot,
            row_number=9,
            id_number=newcomer_id,
            production_status="制卡失败",
            failure_reason="照片不合格",
            card_status="正常",
        )
        classify_all()
        before = results()
        newcomer = PersonFactory(
            id_number=newcomer_id, township=village_a.township, village=village_a
        )
        other = PersonFactory(township=village_a.township, village=village_a)

        counts = classify_unclassified()

        assert counts == {"变化人数": 0, "首次比对人数": 2}
        after = results()
        assert {pk: r for pk, r in after.items() if pk in before} == before
        assert after[newcomer.pk][:3] == (CardClass.CARD_FAILED, "照片不合格", snapshot.pk)
        assert after[other.pk][:3] == (CardClass.NO_CARD_INFO, "", snapshot.pk)
        assert not ClassificationChange.objects.exists()
        event = AuditEvent.objects.filter(action="roster.sourcelist.classified").latest("pk")
        assert event.after == counts
        # The full match agrees with what the newcomers were given.
        assert classify_all() == {"变化人数": 0, "首次比对人数": 0}

    def test_a_list_looks_only_at_the_persons_from_its_first_new_key(self, people, village_a):
        a, b, *_ = people
        export((a, "制卡成功", ""), (b, "制卡成功", ""))
        newcomer = PersonFactory(township=village_a.township, village=village_a)
        assert classify_unclassified(person_ids_from=b.pk) == {"变化人数": 0, "首次比对人数": 4}
        assert set(PersonClass.objects.values_list("person_id", flat=True)) == {
            p.pk for p in people[1:] + [newcomer]
        }

    def test_a_newcomer_named_in_a_later_partial_export_takes_its_word(self, people, village_a):
        a, *_ = people
        newcomer_id = make_id_number(birth=datetime.date(1990, 1, 2))
        export((a, "制卡成功", ""))
        classify_all()
        partial = SourceList.objects.create(
            kind=ListKind.CARD_EXPORT,
            source="部分导出",
            file_name="p.xlsx",
            file_sha256="partial",
            is_partial=True,
        )
        CardSystemRecord.objects.create(
            snapshot=partial,
            row_number=1,
            id_number=newcomer_id,
            production_status="已申领",
            card_status="正常",
        )
        newcomer = PersonFactory(
            id_number=newcomer_id, township=village_a.township, village=village_a
        )
        assert classify_unclassified() == {"变化人数": 0, "首次比对人数": 1}
        assert PersonClass.objects.get(person=newcomer).card_class == CardClass.IN_PRODUCTION


@pytest.mark.django_db
class TestReadingResults:
    def test_an_unclassified_person_reads_blank(self, person_a):
        person = Person.objects.select_related("classification").get(pk=person_a.pk)
        assert (person.card_class, person.card_failure_reason) == ("", "")
        assert person.get_card_class_display() == ""

    def test_a_classified_person_reads_the_result(self, person_a):
        classify(person_a, CardClass.CARD_FAILED, "照片不合格")
        person = Person.objects.get(pk=person_a.pk)
        assert (person.card_class, person.card_failure_reason) == ("card_failed", "照片不合格")
        assert person.get_card_class_display() == "制卡失败"

    def test_filters_treat_unclassified_persons_as_without_a_card(
        self, county_admin, village_a, django_assert_num_queries
    ):
        made, failed, unclassified = (
            PersonFactory(township=village_a.township, village=village_a) for _ in range(3)
        )
        classify(made, CardClass.CARD_MADE)
        classify(failed, CardClass.CARD_FAILED)

        def pks(**filters):
            return {p.pk for p in person_list(user=county_admin, filters=PersonFilters(**filters))}

        assert pks(without_card=True) == {failed.pk, unclassified.pk}
        assert pks(card_class="unclassified") == {unclassified.pk}
        assert pks(card_class="card_made") == {made.pk}
        with django_assert_num_queries(1):
            labels = [p.get_card_class_display() for p in person_list(user=county_admin)]
        assert sorted(labels) == ["", "制卡失败", "已制卡"]

    def test_the_report_counts_unclassified_subsidy_recipients_as_without_a_card(self, village_a):
        subsidy = SourceList.objects.create(
            kind=ListKind.SUBSIDY, source="耕地地力保护补贴", file_name="s.csv", file_sha256="s"
        )
        made, unclassified = (
            PersonFactory(township=village_a.township, village=village_a) for _ in range(2)
        )
        classify(made, CardClass.CARD_MADE)
        for row, person in enumerate((made, unclassified), start=1):
            subsidy.entries.create(person=person, row_number=row)
        total = classification_report()["total"]
        assert (total["subsidy_recipients"], total["subsidy_without_card"]) == (2, 1)


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_results_off_the_person_row(village_a):
    before = [("roster", "0007_person_places_without_db_constraint")]
    after = [("roster", "0008_personclass")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    old_person = old.get_model("roster", "Person")
    snapshot = old.get_model("roster", "SourceList").objects.create(
        kind="card_export", source="卡务系统导出", file_name="e.xlsx", file_sha256="e"
    )
    common = {"township_id": village_a.township_id, "village_id": village_a.pk, "name": "某人"}
    failed = old_person.objects.create(
        id_number="532326198005170011",
        card_class="card_failed",
        card_failure_reason="照片不合格",
        **common,
    )
    unclassified = old_person.objects.create(id_number="532326198005170038", **common)

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps
    rows = list(new.get_model("roster", "PersonClass").objects.values())
    assert [
        (r["person_id"], r["card_class"], r["failure_reason"], r["snapshot_id"]) for r in rows
    ] == [(failed.pk, "card_failed", "照片不合格", snapshot.pk)]
    assert rows[0]["classified_at"] is not None

    executor = MigrationExecutor(connection)
    executor.migrate(before)
    restored = executor.loader.project_state(before).apps.get_model("roster", "Person")
    assert dict(restored.objects.values_list("pk", "card_class")) == {
        failed.pk: "card_failed",
        unclassified.pk: "",
    }
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
