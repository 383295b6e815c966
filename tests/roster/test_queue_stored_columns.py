"""What a person lacks and their walking order, stored with the person: every writer
keeps them, the day's part (an ID document's expiry) is asked when the queue is read,
and the queue pages, counts and walks on from them across villages."""

import datetime

import pytest
from django.urls import reverse

from roster import services
from roster.imports import list_import
from roster.models import Person
from roster.selectors import WorkQueue, work_queue_next
from roster.verification import MISSING_BITS, missing_elements, walk_key
from tests.factories import PersonFactory, VillageFactory, make_id_number
from tests.roster.listfiles import write_xlsx

QUEUE = reverse("roster:work-queue")
HEADER = [
    "序号",
    "姓名",
    "民族",
    "公民身份号码",
    "联系电话",
    "乡镇",
    "村（社区）",
    "住址",
    "村民小组",
]


def bits(*keys) -> int:
    return sum(MISSING_BITS[key] for key in keys)


def import_rows(tmp_path, rows, name="l.xlsx", source="省第一批"):
    path = write_xlsx(tmp_path / name, [HEADER, *rows])
    return list_import(kind="unissued", path=path, original_name=name, source=source)


@pytest.mark.django_db
class TestEveryWriterKeepsThem:
    def test_a_listed_person_is_written_with_what_they_lack(self, tmp_path):
        ids = [make_id_number() for _ in range(3)]
        import_rows(
            tmp_path,
            [
                [1, "张三", "彝族", ids[0], "13887654321", "金碧镇", "大河社区", "大河3组", "3组"],
                [2, "李四", "彝族", ids[1], "", "金碧镇", "大河社区", "", "10组"],
                [3, "王五", "彝族", ids[2], "123", "金碧镇", "大河社区", "大河2组", ""],
            ],
        )
        persons = {p.name: p for p in Person.objects.all()}
        always = bits("occupation", "id_validity", "photo")
        assert persons["张三"].missing_bits == always
        assert persons["李四"].missing_bits == always | bits("phone", "address")
        assert persons["王五"].missing_bits == always | bits("phone")
        for person in persons.values():
            assert person.missing_bits == missing_elements(person)
            assert person.walk_key == walk_key(person.group_name, person.name)

    def test_a_blank_filled_by_a_second_list_is_no_longer_missing(self, tmp_path):
        id_number = make_id_number()
        row = [1, "张三", "彝族", id_number, "", "金碧镇", "大河社区", "", ""]
        import_rows(tmp_path, [row])
        assert Person.objects.get().missing_bits & bits("phone", "address")
        row[4], row[7], row[8] = "13887654321", "大河3组", "3组"
        import_rows(tmp_path, [row], name="m.xlsx", source="州第二批")
        person = Person.objects.get()
        assert person.missing_bits == bits("occupation", "id_validity", "photo")
        assert person.walk_key == walk_key("3组", "张三")

    def test_verifying_clears_what_was_supplied(self, clerk_a, village_a):
        person = PersonFactory(village=village_a, phone="", card_class="no_card_info")
        assert person.missing_bits == bits("phone", "id_validity", "photo")
        saved = services.person_verify(
            person=person,
            acting_user=clerk_a,
            expected_version=person.version,
            elements={
                "phone": "13887654321",
                "id_valid_from": datetime.date(2015, 3, 1),
                "id_valid_long_term": True,
            },
        )
        saved.refresh_from_db()
        assert saved.missing_bits == bits("photo")

    def test_a_new_group_moves_the_person_in_the_walk(self, clerk_a, village_a):
        person = PersonFactory(village=village_a, group_name="2组")
        saved = services.person_update_contact(
            person=person,
            acting_user=clerk_a,
            expected_version=person.version,
            group_name="10组",
        )
        saved.refresh_from_db()
        assert saved.walk_key == walk_key("10组", person.name)
        assert walk_key("2组", "张") < walk_key("10组", "张") < walk_key("十一组", "张")


@pytest.mark.django_db
class TestTheDayIsAskedWhenRead:
    @pytest.fixture
    def expiring(self, village_a):
        """Complete but for the photo; the ID card runs out on 2026-12-31."""
        return PersonFactory(
            village=village_a,
            card_class="no_card_info",
            id_valid_from=datetime.date(2016, 12, 31),
            id_valid_until=datetime.date(2026, 12, 31),
        )

    def test_an_expired_document_joins_the_group_without_any_write(
        self, client, collector_a, expiring, time_machine
    ):
        assert expiring.missing_bits == bits("photo")
        time_machine.move_to(datetime.datetime(2026, 12, 1, 10, 0))
        assert WorkQueue(user=collector_a).group_counts() == {"photo": 1}
        time_machine.move_to(datetime.datetime(2027, 1, 2, 10, 0))
        client.force_login(collector_a)
        response = client.get(QUEUE)
        assert response.context["groups"] == {"id_validity": 1, "photo": 1}
        [row] = client.get(QUEUE, {"group": "id_validity"}).context["page"]
        assert row == expiring and row.missing == ["id_validity", "photo"]

    def test_a_document_not_valid_yet_is_missing_until_it_is(
        self, collector_a, village_a, time_machine
    ):
        time_machine.move_to(datetime.datetime(2026, 11, 1, 10, 0))
        person = PersonFactory(
            village=village_a,
            card_class="no_card_info",
            id_valid_from=datetime.date(2026, 12, 1),
            id_valid_long_term=True,
        )
        # Long-term documents are not checked against the day, as person_problems does.
        assert WorkQueue(user=collector_a).group_counts() == {"photo": 1}
        person.id_valid_long_term, person.id_valid_until = False, datetime.date(2046, 12, 1)
        person.save()
        assert WorkQueue(user=collector_a).group_counts() == {"id_validity": 1, "photo": 1}
        time_machine.move_to(datetime.datetime(2026, 12, 2, 10, 0))
        assert WorkQueue(user=collector_a).group_counts() == {"photo": 1}


@pytest.mark.django_db
class TestAcrossVillages:
    @pytest.fixture
    def walk(self, township_a, village_a):
        """Two villages and the township's persons without one; 大河社区 sorts before
        龙街村委会 by character, so the walk is: no village, 大河社区, 龙街村委会."""
        other = VillageFactory(township=township_a, name="龙街村委会")

        def make(name, village, group="", **fields):
            return PersonFactory(
                township=township_a,
                village=village,
                name=name,
                group_name=group,
                card_class="no_card_info",
                **fields,
            )

        return [
            make("无村", None),
            make("甲", village_a, "2组"),
            make("乙", village_a, "10组", phone=""),
            make("丙", other, "1组", phone=""),
            make("丁", other, "3组"),
        ]

    def test_pages_run_on_from_one_village_to_the_next(self, clerk_a, walk):
        everyone = WorkQueue(user=clerk_a).persons()
        assert everyone.count() == 5
        assert [p.name for p in everyone[0:5]] == ["无村", "甲", "乙", "丙", "丁"]
        assert [p.name for p in everyone[2:4]] == ["乙", "丙"]
        assert [p.name for p in WorkQueue(user=clerk_a).persons("phone")[0:2]] == ["乙", "丙"]

    def test_the_page_count_and_the_village_filter(self, client, clerk_a, village_a, walk):
        client.force_login(clerk_a)
        response = client.get(QUEUE, {"village": village_a.pk})
        assert response.context["total"] == 2
        assert [p.name for p in response.context["page"]] == ["甲", "乙"]
        assert response.context["groups"]["phone"] == 1

    def test_save_and_next_crosses_villages_and_wraps_round(self, clerk_a, walk):
        names = {p.name: p for p in walk}
        assert work_queue_next(user=clerk_a, after=names["无村"]) == names["甲"]
        assert work_queue_next(user=clerk_a, after=names["乙"]) == names["丙"]
        assert work_queue_next(user=clerk_a, after=names["丁"]) == names["无村"]

    def test_next_after_someone_who_left_the_queue(self, clerk_a, walk):
        names = {p.name: p for p in walk}
        Person.objects.filter(pk=names["乙"].pk).update(verification_status="ready")
        after = Person.objects.get(pk=names["乙"].pk)
        assert work_queue_next(user=clerk_a, after=after) == names["丙"]

    def test_nobody_else_left(self, collector_a, village_a):
        only = PersonFactory(village=village_a, card_class="no_card_info")
        assert work_queue_next(user=collector_a, after=only) is None
