"""Every person write refuses a role without the action and a person outside the scope,
and writes nothing when it refuses."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from dayao_sscard.models import AuditEvent, Job
from issuance.models import CancellationRequest, Card, CardStatus
from roster.imports import list_import
from roster.models import CollectionConflict, ListKind, Person, SourceList, VitalStatus
from roster.services import (
    conflict_resolve,
    list_import_start,
    person_mark_deceased,
    person_reveal_id_number,
    person_set_photo,
    person_undo_deceased,
    person_update_contact,
    person_verify,
)
from tests.roster.photos import photo_bytes


@pytest.fixture
def holder(person_a, branch_a):
    """A person of township A whose live card is at bank branch A: in the bank clerk's scope."""
    Card.objects.create(person=person_a, bank=branch_a.bank, status=CardStatus.ISSUED)
    return person_a


def fresh(person):
    return Person.objects.get(pk=person.pk)


def nothing_written():
    return not AuditEvent.objects.exists()


def edit_phone(person, user):
    return person_update_contact(
        person=person, acting_user=user, expected_version=person.version, phone="13912345678"
    )


def verify(person, user):
    return person_verify(
        person=person,
        acting_user=user,
        expected_version=person.version,
        elements={"occupation": "教师"},
    )


def mark_deceased(person, user):
    return person_mark_deceased(
        person=person, acting_user=user, death_date=datetime.date(2026, 1, 5), source="村委会报告"
    )


def set_photo(person, user):
    return person_set_photo(person=person, acting_user=user, data=photo_bytes())


WRITES = {
    "edit_phone": edit_phone,
    "verify": verify,
    "set_photo": set_photo,
    "mark_deceased": mark_deceased,
    "reveal_id": lambda person, user: person_reveal_id_number(person=person, acting_user=user),
}


@pytest.mark.django_db
class TestABankClerk:
    """Sees the holders of the branch's cards, changes nothing about them."""

    @pytest.mark.parametrize(
        "write", ["edit_phone", "verify", "set_photo", "mark_deceased"], ids=str
    )
    def test_may_not_change_a_holder(self, banker_a, holder, write):
        with pytest.raises(PermissionDenied, match="合作银行网点工作人员不能"):
            WRITES[write](holder, banker_a)
        assert fresh(holder).version == holder.version
        assert nothing_written()
        assert not CancellationRequest.objects.exists()

    def test_may_reveal_a_holders_id_number_at_the_counter(self, banker_a, holder):
        assert person_reveal_id_number(person=holder, acting_user=banker_a) == holder.id_number
        assert AuditEvent.objects.filter(action="roster.person.id_number_viewed").count() == 1

    def test_may_not_reveal_anyone_elses(self, banker_a, holder, person_a2):
        with pytest.raises(PermissionDenied, match="不在您的管辖范围内"):
            person_reveal_id_number(person=person_a2, acting_user=banker_a)
        assert nothing_written()


@pytest.mark.django_db
@pytest.mark.parametrize("write", sorted(WRITES), ids=str)
class TestOutOfScope:
    def test_another_townships_clerk_is_refused(self, clerk_b, person_a, write):
        with pytest.raises(PermissionDenied, match="该人员不在您的管辖范围内"):
            WRITES[write](person_a, clerk_b)
        assert fresh(person_a).version == person_a.version
        assert nothing_written()

    def test_a_collector_of_another_village_is_refused(self, collector_a, person_a2, write):
        with pytest.raises(PermissionDenied, match="不在您的管辖范围内"):
            WRITES[write](person_a2, collector_a)
        assert nothing_written()

    def test_the_supervisor_only_reads(self, supervisor, person_a, write):
        with pytest.raises(PermissionDenied, match="只读"):
            WRITES[write](person_a, supervisor)
        assert nothing_written()


@pytest.mark.django_db
class TestUndoingADeath:
    @pytest.fixture
    def deceased(self, person_a, county_admin):
        return mark_deceased(person_a, county_admin)

    def test_a_collector_may_register_a_death_but_not_undo_it(self, collector_a, deceased):
        with pytest.raises(PermissionDenied, match="村（社区）信息采集员不能撤销死亡登记"):
            person_undo_deceased(person=deceased, acting_user=collector_a, reason="登记错误")
        assert fresh(deceased).vital_status == VitalStatus.DECEASED

    def test_another_townships_clerk_cannot_undo(self, clerk_b, deceased):
        with pytest.raises(PermissionDenied, match="不在您的管辖范围内"):
            person_undo_deceased(person=deceased, acting_user=clerk_b, reason="登记错误")

    def test_the_townships_clerk_may(self, clerk_a, deceased):
        undone = person_undo_deceased(person=deceased, acting_user=clerk_a, reason="登记错误")
        assert undone.vital_status == VitalStatus.ALIVE


@pytest.mark.django_db
class TestConflictsAndImports:
    @pytest.fixture
    def conflict(self, holder):
        source = SourceList.objects.create(
            kind=ListKind.COLLECTION_12333, source="12333", file_name="c.xlsx", file_sha256="c"
        )
        return CollectionConflict.objects.create(
            person=holder,
            source_list=source,
            row_number=2,
            field="occupation",
            incoming_value="教师",
        )

    @pytest.mark.parametrize("persona", ["banker_a", "supervisor", "clerk_b"])
    def test_only_those_in_scope_who_collect_resolve_a_conflict(self, request, conflict, persona):
        with pytest.raises(PermissionDenied):
            conflict_resolve(
                conflict_ids_and_choices={conflict.pk: "taken"},
                person=conflict.person,
                acting_user=request.getfixturevalue(persona),
                expected_version=conflict.person.version,
            )
        assert CollectionConflict.objects.get().resolution == "pending"

    @pytest.mark.parametrize("kind", ListKind.values)
    def test_a_bank_clerk_imports_no_list(self, banker_a, kind):
        upload = SimpleUploadedFile("list.csv", "身份证号码\n".encode())
        with pytest.raises(PermissionDenied):
            list_import_start(acting_user=banker_a, kind=kind, source="x", uploaded_file=upload)
        assert not Job.objects.exists()

    def test_the_import_itself_asks_too(self, tmp_path, collector_a):
        path = tmp_path / "12333.csv"
        path.write_text("身份证号码,职业\n", encoding="utf-8")
        with pytest.raises(PermissionDenied, match="不能导入12333采集结果"):
            list_import(
                kind=ListKind.COLLECTION_12333,
                path=path,
                original_name=path.name,
                acting_user=collector_a,
            )
        assert not SourceList.objects.exists()
