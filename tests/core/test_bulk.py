"""bulk_insert and reserve_ids: the fast write path of the million-row imports."""

import datetime

import pytest

from dayao_sscard.bulk import bulk_insert, reserve_ids
from roster.models import CardSystemRecord, SourceList, Township, Village

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
