"""How a person list lands in the tables: new persons written directly, known ones merged."""

import pytest

from roster.id_numbers import birth_date_from_id
from roster.imports import ListImportError, list_import, person_lists
from roster.models import (
    Category,
    ListEntry,
    Person,
    PersonCategory,
    SourceList,
    Village,
    VitalStatus,
)
from tests.factories import make_id_number
from tests.roster.listfiles import write_csv, write_xlsx

pytestmark = pytest.mark.django_db

HEADER = [
    "序号",
    "姓名",
    "民族",
    "公民身份号码",
    "联系电话",
    "户籍地址",
    "乡镇",
    "村（社区）",
    "人员类别",
]


def person_list(path, source="省第一批", kind="unissued"):
    return list_import(kind=kind, path=path, original_name=path.name, source=source)


def test_new_persons_get_every_default_of_the_model(tmp_path):
    id_number = make_id_number()
    path = write_xlsx(
        tmp_path / "l.xlsx",
        [HEADER, [1, "张三", "彝族", id_number, "", "", "金碧", "大河社区", ""]],
    )

    person_list(path)

    person = Person.objects.get()
    assert (person.nationality, person.vital_status, person.version) == (
        "中国",
        VitalStatus.ALIVE,
        1,
    )
    assert person.created_at is not None and person.updated_at is not None
    assert (person.phone, person.death_date, person.village.name) == ("", None, "大河社区")
    # make_id_number moves the date once a run has used many numbers: read it from the ID.
    assert person.birth_date == birth_date_from_id(id_number)


def test_text_that_needs_quoting_is_stored_exactly(tmp_path):
    awkward = [
        ("王,小明", '金碧镇"东"街1号'),
        ('李"四"', "金碧镇\n新街"),
        ("None", "反斜杠\\地址"),
    ]
    rows = [HEADER] + [
        [n, name, "汉族", make_id_number(), "", address, "金碧", "", ""]
        for n, (name, address) in enumerate(awkward, start=1)
    ]

    result = person_list(write_xlsx(tmp_path / "l.xlsx", rows))

    assert result.persons_new == 3
    assert sorted(Person.objects.values_list("name", "address")) == sorted(awkward)


def test_known_persons_are_merged_not_duplicated(tmp_path):
    known, new = make_id_number(), make_id_number()
    person_list(
        write_xlsx(
            tmp_path / "a.xlsx", [HEADER, [1, "张三", "", known, "", "", "金碧", "", "低保户"]]
        )
    )
    second = [
        HEADER,
        [1, "张三", "彝族", known, "13887654321", "", "金碧", "大河社区", "低保户、残疾人"],
        [2, "李四", "", new, "", "", "金碧", "大河社区", ""],
    ]

    result = person_list(write_csv(tmp_path / "b.csv", second, encoding="gbk"), source="州第二批")

    assert (result.persons_new, result.persons_existing, result.persons_filled) == (1, 1, 1)
    zhang = Person.objects.get(id_number=known)
    assert (zhang.ethnicity, zhang.phone, zhang.village.name) == (
        "彝族",
        "13887654321",
        "大河社区",
    )
    assert Village.objects.filter(name="大河社区").count() == 1
    assert Person.objects.get(id_number=new).village_id == zhang.village_id
    assert ListEntry.objects.filter(person=zhang).count() == 2
    assert set(PersonCategory.objects.filter(person=zhang).values_list("category", flat=True)) == {
        Category.DISABLED,
        Category.MINIMUM_LIVING,
    }


def test_a_later_list_fills_only_blanks_and_counts_every_known_person(tmp_path):
    complete, villageless, unchanged = (make_id_number() for _ in range(3))
    person_list(
        write_xlsx(
            tmp_path / "a.xlsx",
            [
                HEADER,
                [1, "张三", "汉族", complete, "13800000001", "地址一", "金碧", "大河社区", ""],
                [2, "李四", "汉族", villageless, "13800000002", "地址二", "金碧", "", ""],
                [3, "王五", "汉族", unchanged, "13800000003", "地址三", "金碧", "大河社区", ""],
            ],
        )
    )
    second = [
        HEADER,
        [1, "张三", "彝族", complete, "13999999999", "别的地址", "金碧", "龙街村委会", ""],
        [2, "李四", "", villageless, "", "", "金碧", "大河社区", ""],
        [3, "王五", "", unchanged, "", "", "金碧", "", ""],
    ]

    result = person_list(write_csv(tmp_path / "b.csv", second), kind="subsidy", source="补贴")

    assert (result.persons_new, result.persons_existing, result.persons_filled) == (0, 3, 1)
    people = {p.id_number: p for p in Person.objects.select_related("village")}
    assert (people[complete].phone, people[complete].ethnicity, people[complete].address) == (
        "13800000001",
        "汉族",
        "地址一",
    )
    assert people[complete].village.name == "大河社区"
    assert people[villageless].village.name == "大河社区"
    assert PersonCategory.objects.filter(category=Category.SUBSIDY_RECIPIENT).count() == 3


def test_subsidy_lists_mark_every_recipient_once(tmp_path):
    ids = [make_id_number(), make_id_number()]
    rows = [HEADER] + [[n, "某人", "", i, "", "", "金碧", "", ""] for n, i in enumerate(ids, 1)]
    person_list(write_xlsx(tmp_path / "a.xlsx", rows), source="耕地地力保护补贴", kind="subsidy")
    person_list(write_csv(tmp_path / "b.csv", rows), source="森林生态效益补偿", kind="subsidy")

    recipients = PersonCategory.objects.filter(category=Category.SUBSIDY_RECIPIENT)
    assert sorted(recipients.values_list("person__id_number", flat=True)) == sorted(ids)


def test_a_file_naming_too_many_villages_is_refused_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(person_lists, "MAX_NEW_VILLAGES", 2)
    rows = [HEADER] + [
        [n, "某人", "", make_id_number(), "", "", "金碧", f"第{n}村", ""] for n in range(1, 4)
    ]

    with pytest.raises(ListImportError, match="村（社区）名称超过 2 个"):
        person_list(write_xlsx(tmp_path / "l.xlsx", rows))

    assert not Person.objects.exists()
    assert not Village.objects.exists()
    assert not SourceList.objects.exists()


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_csv_without_a_final_newline_imports_every_row(tmp_path, newline):
    ids = [make_id_number() for _ in range(3)]
    lines = [",".join(HEADER)] + [f"{n},某人,,{i},,,金碧,," for n, i in enumerate(ids, 1)]
    path = tmp_path / "l.csv"
    path.write_bytes(newline.join(lines).encode("gbk"))

    result = person_list(path)

    assert (result.rows_read, result.persons_new) == (3, 3)
    assert sorted(Person.objects.values_list("id_number", flat=True)) == sorted(ids)
