"""Audit that cannot be bypassed: every bulk path that writes personal data (COPY, raw
INSERT … SELECT and UPDATE … FROM, QuerySet.update, bulk_update) leaves a DataChange row
saying who, when, which rows and which columns, with the personal values before and after.

PostgreSQL only: the statement triggers with transition tables are PostgreSQL's (SQLite,
the embedded default, keeps the services' own audit rows). CI runs on PostgreSQL.
"""

import pytest
from django.db import connection
from django.urls import reverse

from dayao_sscard.models import DataChange
from dayao_sscard.row_audit import audit_actor
from issuance.models import Bank, Card, CardStatus, LedgerEvent
from issuance.services import card_create, card_record_event
from roster.imports import list_import
from roster.models import Person, VerificationStatus, VitalStatus
from roster.services import persons_return_to_verification
from tests.factories import PersonFactory, make_id_number
from tests.roster.listfiles import EXPORT_HEADER, UNISSUED_HEADER, write_xlsx

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the statement triggers are PostgreSQL's"
    ),
]
ABC = "中国农业银行大姚县支行"


def changes(table: str, operation: str, **fields):
    return DataChange.objects.filter(table_name=table, operation=operation, **fields)


def covered(change: DataChange) -> set[int]:
    return {pk for first, last in change.row_ids for pk in range(first, last + 1)}


def import_list(tmp_path, kind, rows, *, name, acting_user, source="省第一批"):
    path = write_xlsx(tmp_path / name, rows, footer=False)
    return list_import(
        kind=kind, path=path, original_name=name, source=source, acting_user=acting_user
    )


def listed(*people):
    return [UNISSUED_HEADER] + [
        [n, name, "", "彝族", id_number, phone, "金碧", village]
        for n, (name, id_number, phone, village) in enumerate(people, start=1)
    ]


def exported(*records):
    return [EXPORT_HEADER] + [
        [n, "某人", id_number, card, ABC, "批量制卡", status, "", card_status, "2020-01-01"]
        for n, (id_number, card, status, card_status) in enumerate(records, start=1)
    ]


class TestImports:
    def test_a_list_copied_in_is_one_row_per_table_with_who_and_which_rows(
        self, tmp_path, county_admin, township_a
    ):
        ids = [make_id_number() for _ in range(3)]
        result = import_list(
            tmp_path,
            "unissued",
            listed(*[(f"人{i}", id_number, "", "") for i, id_number in enumerate(ids)]),
            name="省第一批.xlsx",
            acting_user=county_admin,
        )
        assert result.persons_new == 3

        persons = changes("roster_person", "INSERT").get()  # COPY: one statement
        assert persons.row_count == 3
        assert covered(persons) == set(Person.objects.values_list("pk", flat=True))
        assert (persons.actor_id, persons.actor_username) == (county_admin.pk, "admin")
        assert persons.context == "导入名单：省第一批.xlsx"
        assert persons.db_user and persons.transaction_id
        entries = changes("roster_listentry", "INSERT").get()
        assert entries.row_count == 3 and entries.transaction_id == persons.transaction_id

    def test_blanks_filled_by_a_later_list_keep_their_before_and_after(
        self, tmp_path, county_admin, township_a
    ):
        """roster.imports.person_lists: ``bulk_update`` of the persons a list completes."""
        id_number = make_id_number()
        import_list(
            tmp_path,
            "unissued",
            listed(("张三", id_number, "", "")),
            name="a.xlsx",
            acting_user=county_admin,
        )
        import_list(
            tmp_path,
            "unissued",
            listed(("张三", id_number, "13912345678", "")),
            name="b.xlsx",
            acting_user=county_admin,
            source="州第二批",
        )
        person = Person.objects.get()
        update = changes("roster_person", "UPDATE").get()
        assert "phone" in update.columns and update.row_count == 1
        assert update.before == {str(person.pk): {"phone": ""}}
        assert update.after == {str(person.pk): {"phone": "13912345678"}}
        assert update.actor_username == "admin"

    def test_a_subsidy_list_records_the_categories_it_adds(
        self, tmp_path, county_admin, township_a
    ):
        """roster.imports.person_lists: INSERT … SELECT into roster_personcategory."""
        import_list(
            tmp_path,
            "subsidy",
            listed(("李四", make_id_number(), "", "")),
            name="补贴.xlsx",
            acting_user=county_admin,
            source="耕地地力保护补贴",
        )
        added = changes("roster_personcategory", "INSERT").get()
        assert added.row_count == 1 and added.actor_username == "admin"

    def test_deaths_recorded_person_by_person_with_queryset_update(
        self, tmp_path, county_admin, person_a
    ):
        """roster.imports.known_persons.save_changed: ``QuerySet.update`` per person."""
        rows = [
            ["序号", "姓名", "公民身份号码", "死亡日期"],
            [1, "", person_a.id_number, "2022-05-03"],
        ]
        import_list(
            tmp_path, "deaths", rows, name="火化.xlsx", acting_user=county_admin, source="民政"
        )
        update = changes("roster_person", "UPDATE").get()
        assert {"vital_status", "death_date"} <= set(update.columns)
        assert update.before[str(person_a.pk)]["vital_status"] == VitalStatus.ALIVE
        assert update.after[str(person_a.pk)] == {
            "vital_status": "deceased",
            "death_date": "2022-05-03",
            "death_source": "民政",
            "death_note": "名单导入：火化.xlsx 第2行",
        }
        assert update.context == "导入名单：火化.xlsx"

    def test_a_card_export_copied_in_matched_and_opened_in_the_ledger(
        self, tmp_path, county_admin, person_a
    ):
        """COPY into roster_cardsystemrecord, the match's INSERT … SELECT into
        roster_personclass, the opening's INSERT … SELECT into issuance_card."""
        import_list(
            tmp_path,
            "card_export",
            exported((person_a.id_number, "Y00000001", "制卡成功", "正常")),
            name="导出1.xlsx",
            acting_user=county_admin,
            source="",
        )
        for table in ("roster_cardsystemrecord", "roster_personclass", "issuance_card"):
            inserted = changes(table, "INSERT").get()
            assert inserted.row_count == 1 and inserted.actor_username == "admin", table
        card = Card.objects.get()
        assert covered(changes("issuance_card", "INSERT").get()) == {card.pk}

        import_list(
            tmp_path,
            "card_export",
            exported(
                (person_a.id_number, "Y00000001", "制卡成功", "注销"),
                (person_a.id_number, "Y00000002", "制卡成功", "正常"),
            ),
            name="导出2.xlsx",
            acting_user=county_admin,
            source="",
        )
        # The opening's UPDATE … WHERE id IN (…): the old card cancelled.
        cancelled = changes("issuance_card", "UPDATE", columns=["status"]).get()
        assert covered(cancelled) == {card.pk} and cancelled.before is None

    def test_a_new_export_rewrites_the_classes_it_changes(self, tmp_path, county_admin, person_a):
        """roster.imports.matching: UPDATE roster_personclass … FROM match_new."""
        for n, status in enumerate(("制卡中", "制卡失败")):
            import_list(
                tmp_path,
                "card_export",
                exported((person_a.id_number, "", status, "")),
                name=f"导出{n}.xlsx",
                acting_user=county_admin,
                source="",
            )
        update = changes("roster_personclass", "UPDATE").get()
        assert covered(update) == {person_a.pk}  # keyed by the person
        assert "card_class" in update.columns and update.before is None
        assert update.context == "导入名单：导出1.xlsx"

    def test_the_opening_writes_the_card_number_of_an_applied_card(
        self, tmp_path, county_admin, person_a
    ):
        """issuance.opening: UPDATE issuance_card … FROM opening_plan, a personal field."""
        applied = card_create(
            person=person_a, bank=Bank.objects.create(name=ABC), acting_user=county_admin
        )
        card_record_event(
            card=applied, event=LedgerEvent.PRODUCTION_STARTED, acting_user=county_admin
        )
        import_list(
            tmp_path,
            "card_export",
            exported((person_a.id_number, "Y00000009", "制卡成功", "正常")),
            name="导出.xlsx",
            acting_user=county_admin,
            source="",
        )
        produced = changes("issuance_card", "UPDATE", context="导入名单：导出.xlsx").get()
        assert produced.after == {str(applied.pk): {"card_number": "Y00000009"}}
        assert "status" in produced.columns


class TestServicesAndRequests:
    def test_persons_sent_back_to_verification_by_one_update(self, county_admin, village_a):
        """roster.services.persons_return_to_verification: ``QuerySet.update``."""
        persons = PersonFactory.create_batch(
            2,
            township=village_a.township,
            village=village_a,
            verification_status=VerificationStatus.READY,
        )
        with audit_actor(county_admin, "测试"):
            persons_return_to_verification(persons=persons, acting_user=county_admin, note="")
        update = changes("roster_person", "UPDATE").get()
        assert covered(update) == {p.pk for p in persons}
        assert update.after == {
            str(p.pk): {"verification_status": VerificationStatus.PENDING} for p in persons
        }

    def test_card_events_in_bulk_and_card_numbers_by_bulk_update(self, county_admin, person_a):
        """issuance.services._save_cards: ``QuerySet.update`` and ``bulk_update``."""
        card = card_create(
            person=person_a, bank=Bank.objects.create(name=ABC), acting_user=county_admin
        )
        Card.objects.bulk_update([Card(pk=card.pk, card_number="Y00000077")], ["card_number"])
        update = changes("issuance_card", "UPDATE").latest("id")
        assert update.columns == ["card_number"]
        assert update.after == {str(card.pk): {"card_number": "Y00000077"}}
        assert card.status == CardStatus.APPLIED

    def test_a_web_request_names_the_signed_in_user(self, client, clerk_a, person_a):
        client.force_login(clerk_a)
        form = {
            "phone": "13700001111",
            "address": person_a.address,
            "occupation": person_a.occupation,
            "group_name": person_a.group_name,
            "version": person_a.version,
        }
        response = client.post(reverse("roster:person-edit", args=[person_a.pk]), form)
        assert response.status_code == 302
        update = changes("roster_person", "UPDATE").get()
        assert (update.actor_id, update.actor_username) == (clerk_a.pk, "clerk_a")
        assert update.context.startswith("POST /")
        assert update.after[str(person_a.pk)]["phone"] == "13700001111"

    def test_raw_sql_from_outside_the_application_is_recorded_too(self, person_a):
        with connection.cursor() as cursor:
            # A column nothing is worked out from: the person stays consistent for the
            # after-test checks, and the statement is still one a clerk never made.
            cursor.execute(
                "UPDATE roster_person SET unreachable_note = '外出务工' WHERE id = %s",
                [person_a.pk],
            )
            cursor.execute("DELETE FROM roster_personclass")  # no rows: no record
        update = changes("roster_person", "UPDATE").get()
        assert update.actor_id is None and update.actor_username == ""
        assert update.db_user == connection.settings_dict["USER"]
        assert update.before == {str(person_a.pk): {"unreachable_note": person_a.unreachable_note}}
        assert update.after == {str(person_a.pk): {"unreachable_note": "外出务工"}}
        assert not changes("roster_personclass", "DELETE").exists()

    def test_a_deleted_person_keeps_its_personal_fields_in_the_record(self, person_a):
        pk = person_a.pk
        person_a.delete()
        deleted = changes("roster_person", "DELETE").get()
        kept = deleted.before[str(pk)]
        assert (kept["name"], kept["id_number"]) == (person_a.name, person_a.id_number)
        assert "version" not in kept
