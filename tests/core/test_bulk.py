"""bulk_insert and reserve_ids: the fast write path of the million-row imports."""

import datetime

import pytest
from django.db import IntegrityError, connection, connections, transaction

from dayao_sscard.bulk import bulk_insert, indexes_built_after, reserve_ids
from roster.models import CardSystemRecord, ListEntry, Person, SourceList, Township, Village
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

AWKWARD_NAMES = [
    "逗号,在中间",
    '引号"在中间"',
    "换行\n在中间",
    "回车\r在中间",
    "None",
    "反斜杠\\在中间",
    "  前后空格  ",
    "",
    "平常的名字",
]


def test_values_that_need_quoting_arrive_unchanged():
    township = Township.objects.first()
    ids = reserve_ids(Village._meta.db_table, len(AWKWARD_NAMES))
    rows = [(pk, township.pk, name, "") for pk, name in zip(ids, AWKWARD_NAMES, strict=True)]

    assert bulk_insert(Village._meta.db_table, ("id", "township_id", "name", "code"), rows) == 9

    stored = dict(Village.objects.values_list("id", "name"))
    assert [stored[pk] for pk in ids] == AWKWARD_NAMES


def test_empty_is_null_except_in_text_columns_and_constants_fill_every_row():
    snapshot = SourceList.objects.create(kind="card_export", source="导出", file_sha256="x")
    columns = ("row_number", "id_number", "name", "made_on")
    rows = [
        (1, "532326198005170011", None, ""),
        (2, "532326198005170012", "", None),
        (3, "532326198005170013", "王五", datetime.date(2020, 1, 2)),
    ]
    constants = {
        "snapshot_id": snapshot.pk,
        "card_number": "",
        "bank_name": "中国农业银行",
        "production_type": "批量制卡",
        "production_status": "制卡成功",
        "failure_reason": "",
        "card_status": "正常",
    }

    assert bulk_insert(CardSystemRecord._meta.db_table, columns, rows, constants=constants) == 3

    records = list(CardSystemRecord.objects.order_by("row_number"))
    assert [(r.name, r.made_on) for r in records] == [
        ("", None),
        ("", None),
        ("王五", datetime.date(2020, 1, 2)),
    ]
    assert {(r.snapshot_id, r.bank_name, r.card_status) for r in records} == {
        (snapshot.pk, "中国农业银行", "正常")
    }


def test_reserved_keys_are_never_handed_out_again():
    township = Township.objects.first()
    gone = Village.objects.create(township=township, name="已撤并村")
    gone_pk = gone.pk
    gone.delete()

    reserved = list(reserve_ids(Village._meta.db_table, 3))
    created = Village.objects.create(township=township, name="新村")

    assert len(set(reserved)) == 3
    assert gone_pk not in reserved
    assert created.pk not in reserved
    assert min(reserved) > gone_pk


def test_reserving_nothing_touches_nothing():
    assert list(reserve_ids(Village._meta.db_table, 0)) == []


PERSONS, ENTRIES = Person._meta.db_table, ListEntry._meta.db_table
ON_POSTGRESQL = connection.vendor == "postgresql"


def secondary_indexes(table):
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return {
        name: (tuple(c["columns"]), c["unique"])
        for name, c in found.items()
        if (c["index"] or c["unique"]) and not c["primary_key"]
    }


def test_empty_tables_are_filled_without_their_indexes_and_get_them_back():
    before = {table: secondary_indexes(table) for table in (PERSONS, ENTRIES)}
    assert ("id_number",) in {columns for columns, _ in before[PERSONS].values()}

    with transaction.atomic():
        with indexes_built_after(PERSONS, ENTRIES) as taken:
            assert taken == ([PERSONS, ENTRIES] if ON_POSTGRESQL else [])
            assert secondary_indexes(PERSONS) == ({} if ON_POSTGRESQL else before[PERSONS])
            PersonFactory()
        assert {table: secondary_indexes(table) for table in before} == before

    # The unique constraint is back and enforced, not just listed.
    with pytest.raises(IntegrityError), transaction.atomic():
        PersonFactory(id_number=Person.objects.get().id_number)


def test_a_table_with_rows_keeps_its_indexes():
    PersonFactory()
    before = secondary_indexes(PERSONS)

    with transaction.atomic(), indexes_built_after(PERSONS) as taken:
        assert taken == []
        assert secondary_indexes(PERSONS) == before


def test_an_error_inside_brings_the_indexes_back_with_the_rollback():
    before = secondary_indexes(PERSONS)

    with pytest.raises(RuntimeError), transaction.atomic(), indexes_built_after(PERSONS):
        PersonFactory()
        raise RuntimeError("导入中途出错")

    assert secondary_indexes(PERSONS) == before
    assert not Person.objects.exists()


@pytest.mark.skipif(not ON_POSTGRESQL, reason="SQLite has no table locks to wait for")
def test_a_table_someone_is_reading_keeps_its_indexes():
    before = secondary_indexes(PERSONS)
    reader = connections.create_connection("default")
    try:
        reader.set_autocommit(False)
        with reader.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {PERSONS} IN ACCESS SHARE MODE")

        with transaction.atomic(), indexes_built_after(PERSONS) as taken:
            assert taken == []
            assert secondary_indexes(PERSONS) == before
            PersonFactory()
    finally:
        reader.rollback()
        reader.close()
