"""批量制卡: making up batches, sending them, taking persons out, and the bank's zip."""

import datetime
import io
import threading
import zipfile

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from dayao_sscard.models import AuditEvent
from issuance.batches import (
    BATCH_FILE_HEADER,
    batch_create,
    batch_file_write,
    batch_remove_member,
    batch_send,
)
from issuance.models import (
    ApplicationBatch,
    BatchMember,
    BatchStatus,
    Card,
    CardStatus,
    LedgerEntry,
    MemberOutcome,
)
from issuance.services import (
    CardOutcome,
    Custody,
    card_create,
    card_record_event,
    cards_apply,
    cards_record_event,
)
from roster.models import VerificationStatus, VitalStatus
from tests.factories import BankFactory, UserFactory

from .batchdata import bank, make_batch, ready_person


def numbers_of(batch: ApplicationBatch) -> list[str]:
    return sorted(batch.members.values_list("person__name", flat=True))


@pytest.mark.django_db
class TestMakingABatch:
    def test_ready_persons_go_in_and_each_gets_a_card_applied_for(self, clerk_a, village_a):
        persons = [ready_person(village_a, name=n) for n in ("甲一", "乙二", "丙三")]

        created = batch_create(
            acting_user=clerk_a,
            bank=bank(),
            township=village_a.township,
            person_ids=[p.pk for p in persons],
        )

        batch = created.batch
        assert created.refusals == []
        assert batch.status == BatchStatus.DRAFT
        assert batch.number == f"{timezone.localdate().year}-金碧-0001"
        assert batch.township == village_a.township and batch.created_by == clerk_a
        assert numbers_of(batch) == ["丙三", "乙二", "甲一"]
        for member in batch.members.select_related("card"):
            card = member.card
            assert member.outcome == MemberOutcome.PENDING
            assert (card.status, card.production_type) == (CardStatus.APPLIED, "batch")
            entry = card.ledger_entries.get()
            assert (entry.sequence, entry.event, entry.status_after) == (1, "applied", "applied")
            assert entry.note == f"申领批次{batch.number}" and entry.recorded_by == clerk_a
        audited = AuditEvent.objects.filter(actor=clerk_a)
        assert audited.filter(action="issuance.applicationbatch.created").count() == 1
        assert audited.filter(action="issuance.card.created").count() == 3
        assert audited.filter(action="issuance.card.applied").count() == 3
        assert audited.filter(action="issuance.ledger_entry.created").count() == 3
        assert set(
            audited.filter(action="issuance.card.applied").values_list("township", flat=True)
        ) == {village_a.township_id}

    def test_the_second_batch_of_the_township_takes_the_next_number(self, clerk_a, village_a):
        make_batch(clerk_a, [ready_person(village_a)])
        second = make_batch(clerk_a, [ready_person(village_a)])
        assert second.number.endswith("-金碧-0002")

    def test_each_refused_person_is_named_with_the_reason_and_the_others_go_in(
        self, clerk_a, village_a, person_b, branch_a, fixed_clock
    ):
        good = ready_person(village_a, name="合格")
        dead = ready_person(
            village_a,
            name="已故",
            vital_status=VitalStatus.DECEASED,
            death_date=datetime.date(2026, 1, 5),
        )
        incomplete = ready_person(village_a, name="缺职业", occupation="")
        unverified = ready_person(
            village_a, name="未核查", verification_status=VerificationStatus.PENDING
        )
        in_batch = ready_person(village_a, name="已在批次")
        earlier = make_batch(clerk_a, [in_batch])
        holder = ready_person(village_a, name="有卡")
        Card.objects.create(person=holder, bank=branch_a.bank, status=CardStatus.IN_STOCK)
        made_there = ready_person(village_a, name="已制卡", card_class="card_made")

        created = batch_create(
            acting_user=clerk_a,
            bank=bank(),
            township=village_a.township,
            person_ids=[
                p.pk
                for p in (
                    good,
                    dead,
                    incomplete,
                    unverified,
                    in_batch,
                    holder,
                    made_there,
                    person_b,
                )
            ],
        )

        assert numbers_of(created.batch) == ["合格"]
        reasons = {r.name: r.reason for r in created.refusals}
        assert reasons["已故"] == "已登记死亡，不再制卡。"
        assert reasons["缺职业"] == "资料不全：缺少职业。请先由乡镇社保中心核查补齐。"
        assert reasons["未核查"].startswith("尚未核查完毕（待核查）")
        assert reasons["已在批次"].startswith(f"已在申领批次 {earlier.number} 中")
        assert reasons["有卡"].startswith("已有一张有效社保卡（已制卡（库存））")
        assert reasons["已制卡"].startswith("卡务系统比对结果为“已制卡”（一人一卡），不能再申领")
        assert person_b.name not in reasons, "nothing of a person outside the scope is shown"
        outside = next(r for r in created.refusals if r.person_id == person_b.pk)
        assert (outside.name, outside.masked_id_number) == ("无权查看的人员", "")
        assert outside.reason == "不在您的管辖范围内，或系统中没有该人员。"
        assert str(outside) == "无权查看的人员：不在您的管辖范围内，或系统中没有该人员。"
        assert str(next(r for r in created.refusals if r.person_id == dead.pk)) == (
            f"已故（{dead.masked_id_number}）：{reasons['已故']}"
        )
        inside = [r for r in created.refusals if r is not outside]
        assert all(r.masked_id_number.count("*") == 8 for r in inside)
        assert Card.objects.filter(person__in=[dead, incomplete, unverified, person_b]).count() == 0

    def test_nobody_acceptable_makes_no_batch(self, clerk_a, village_a):
        dead = ready_person(
            village_a, vital_status=VitalStatus.DECEASED, death_date=datetime.date(2025, 3, 1)
        )
        created = batch_create(
            acting_user=clerk_a, bank=bank(), township=village_a.township, person_ids=[dead.pk]
        )
        assert created.batch is None and len(created.refusals) == 1
        assert not ApplicationBatch.objects.exists() and not Card.objects.exists()

    def test_an_empty_selection_is_refused(self, clerk_a, village_a):
        with pytest.raises(ValidationError, match="请至少选择一名"):
            batch_create(
                acting_user=clerk_a, bank=bank(), township=village_a.township, person_ids=[]
            )

    def test_the_county_may_make_a_county_wide_batch(self, county_admin, village_a, village_b):
        persons = [ready_person(village_a), ready_person(village_b)]
        created = batch_create(
            acting_user=county_admin, bank=bank(), township=None, person_ids=[p.pk for p in persons]
        )
        assert created.batch.township is None and created.batch.number.endswith("-全县-0001")
        assert created.batch.members.count() == 2

    def test_a_township_batch_takes_only_its_township(self, county_admin, village_a, village_b):
        other = ready_person(village_b)
        created = batch_create(
            acting_user=county_admin,
            bank=bank(),
            township=village_a.township,
            person_ids=[ready_person(village_a).pk, other.pk],
        )
        assert created.refusals[0].reason == "不是金碧镇的人员，不能加入本乡镇的批次。"

    @pytest.mark.parametrize("persona", ["supervisor", "collector_a", "banker_a"])
    def test_other_roles_may_not_make_batches(self, request, persona, village_a):
        user = request.getfixturevalue(persona)
        with pytest.raises(PermissionDenied):
            batch_create(
                acting_user=user,
                bank=bank(),
                township=village_a.township,
                person_ids=[ready_person(village_a).pk],
            )
        assert not Card.objects.exists()

    def test_a_township_clerk_makes_no_batch_of_another_township_or_the_county(
        self, clerk_a, village_a, village_b
    ):
        for township in (village_b.township, None):
            with pytest.raises(PermissionDenied, match="只能为本乡镇"):
                batch_create(
                    acting_user=clerk_a,
                    bank=bank(),
                    township=township,
                    person_ids=[ready_person(village_a).pk],
                )

    def test_the_database_refuses_a_second_open_batch_for_a_person(self, clerk_a, village_a):
        person = ready_person(village_a)
        batch = make_batch(clerk_a, [person])
        other_card = Card.objects.create(
            person=person, bank=batch.bank, status=CardStatus.FAILED, failure_reason="照片不合格"
        )
        with pytest.raises(IntegrityError), transaction.atomic():
            BatchMember.objects.create(batch=batch, person=person, card=other_card)


@pytest.mark.django_db(transaction=True)
def test_two_clerks_making_batches_at_once_put_each_person_in_one(village_a, ledger_flushable):
    clerks = [
        UserFactory(username=f"clerk{n}", role="township_staff", township=village_a.township)
        for n in range(2)
    ]
    persons = [ready_person(village_a) for _ in range(30)]
    ids = [p.pk for p in persons]
    bank_ = BankFactory()
    barrier = threading.Barrier(2)
    results, errors = [], []

    def make(clerk, order):
        try:
            barrier.wait()
            results.append(
                batch_create(
                    acting_user=clerk, bank=bank_, township=village_a.township, person_ids=order
                )
            )
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=make, args=(clerks[0], ids)),
        threading.Thread(target=make, args=(clerks[1], list(reversed(ids)))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    made = [r for r in results if r.batch is not None]
    assert len(made) == 1, "the second clerk finds every person already in the first batch"
    assert BatchMember.objects.filter(outcome="pending").count() == 30
    assert Card.objects.count() == 30
    refused = next(r for r in results if r.batch is None)
    assert len(refused.refusals) == 30
    assert all("已在申领批次" in r.reason for r in refused.refusals)


@pytest.mark.django_db
class TestSendingAndRemoving:
    def test_sending_starts_production_of_every_card(self, clerk_a, village_a):
        batch = make_batch(clerk_a, [ready_person(village_a) for _ in range(3)])

        sent = batch_send(batch=batch, acting_user=clerk_a)

        assert sent.status == BatchStatus.SENT and sent.sent_by == clerk_a and sent.sent_at
        cards = Card.objects.filter(batch_member__batch=batch)
        assert set(cards.values_list("status", flat=True)) == {CardStatus.IN_PRODUCTION}
        started = LedgerEntry.objects.filter(event="production_started", card__in=cards)
        assert started.count() == 3
        assert set(started.values_list("sequence", flat=True)) == {2}
        assert AuditEvent.objects.filter(action="issuance.card.production_started").count() == 3

    def test_sending_twice_is_refused_and_writes_nothing(self, clerk_a, village_a):
        batch = make_batch(clerk_a, [ready_person(village_a)], send=True)
        with pytest.raises(ValidationError, match="已于 .* 报送"):
            batch_send(batch=batch, acting_user=clerk_a)
        assert LedgerEntry.objects.filter(event="production_started").count() == 1

    def test_a_supervisor_may_not_send(self, clerk_a, supervisor, village_a):
        batch = make_batch(clerk_a, [ready_person(village_a)])
        with pytest.raises(PermissionDenied, match="只读"):
            batch_send(batch=batch, acting_user=supervisor)

    def test_a_clerk_of_another_township_may_not_send(self, clerk_a, clerk_b, village_a):
        batch = make_batch(clerk_a, [ready_person(village_a)])
        with pytest.raises(PermissionDenied, match="不在您的管辖范围内"):
            batch_send(batch=batch, acting_user=clerk_b)

    def test_removing_from_a_draft_withdraws_the_application(self, clerk_a, village_a):
        person, other = ready_person(village_a), ready_person(village_a)
        batch = make_batch(clerk_a, [person, other])
        member = batch.members.get(person=person)

        batch_remove_member(member=member, acting_user=clerk_a)

        member.refresh_from_db()
        assert member.outcome == MemberOutcome.REMOVED
        assert member.card.status == CardStatus.CANCELLED
        assert member.card.ledger_entries.last().note == f"从申领批次{batch.number}中移出，撤回申领"
        # Out of the open batch and without a live card: ready for another batch.
        again = make_batch(clerk_a, [person])
        assert again.members.get().person == person

    def test_nobody_leaves_a_sent_batch(self, clerk_a, village_a):
        batch = make_batch(clerk_a, [ready_person(village_a)], send=True)
        with pytest.raises(ValidationError, match="已报送"):
            batch_remove_member(member=batch.members.get(), acting_user=clerk_a)

    def test_an_empty_batch_is_not_sent(self, clerk_a, village_a):
        batch = make_batch(clerk_a, [ready_person(village_a)])
        batch_remove_member(member=batch.members.get(), acting_user=clerk_a)
        with pytest.raises(ValidationError, match="没有人员"):
            batch_send(batch=batch, acting_user=clerk_a)


@pytest.mark.django_db
class TestTheBankFile:
    def test_the_zip_holds_the_nine_elements_and_the_photos_named_by_id_number(
        self, clerk_a, village_a
    ):
        with_photo = ready_person(village_a, name="有照片", photo=True, phone="13987651234")
        on_12333 = ready_person(village_a, name="十二三三", address='=HYPERLINK("http://x")')
        batch = make_batch(clerk_a, [with_photo, on_12333])
        stream = io.BytesIO()

        written = batch_file_write(batch=batch, acting_user=clerk_a, stream=stream)

        assert (written.rows, written.photos) == (2, 1)
        assert written.file_name == f"申领批次{batch.number}（农信社）.zip"
        archive = zipfile.ZipFile(io.BytesIO(stream.getvalue()))
        assert sorted(archive.namelist()) == sorted(
            [f"照片/{with_photo.id_number}.jpg", f"申领批次{batch.number}.xlsx"]
        )
        assert archive.read(f"照片/{with_photo.id_number}.jpg")[:2] == b"\xff\xd8"
        sheet = openpyxl.load_workbook(
            io.BytesIO(archive.read(f"申领批次{batch.number}.xlsx"))
        ).active
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert tuple(rows[0]) == BATCH_FILE_HEADER
        by_name = {r[1]: dict(zip(BATCH_FILE_HEADER, r, strict=True)) for r in rows[1:]}
        row = by_name["有照片"]
        assert row["证件号码"] == with_photo.id_number
        assert (row["性别"], row["国籍"], row["证件种类"]) == ("男", "中国", "居民身份证")
        assert (row["证件有效期起始日期"], row["证件有效期截止日期"]) == ("2016-04-01", "长期")
        assert (row["职业"], row["联系电话"]) == ("农民", "13987651234")
        assert row["照片文件名"] == f"{with_photo.id_number}.jpg"
        assert by_name["十二三三"]["照片文件名"] == "（照片已在12333采集）"
        assert by_name["十二三三"]["住所地或工作单位地址"] == '=HYPERLINK("http://x")'
        assert sheet.cell(row=3, column=13).data_type == "s"  # text, never a formula
        event = AuditEvent.objects.get(action="issuance.applicationbatch.file_downloaded")
        assert (event.actor, event.note) == (clerk_a, "2行，照片1张")

    def test_removed_persons_are_not_in_the_file(self, clerk_a, village_a):
        kept, removed = ready_person(village_a, name="留下"), ready_person(village_a, name="移出")
        batch = make_batch(clerk_a, [kept, removed])
        batch_remove_member(member=batch.members.get(person=removed), acting_user=clerk_a)
        stream = io.BytesIO()
        assert batch_file_write(batch=batch, acting_user=clerk_a, stream=stream).rows == 1

    def test_a_supervisor_does_not_download_full_id_numbers(self, clerk_a, supervisor, village_a):
        batch = make_batch(clerk_a, [ready_person(village_a)])
        with pytest.raises(PermissionDenied):
            batch_file_write(batch=batch, acting_user=supervisor, stream=io.BytesIO())
        assert not AuditEvent.objects.filter(action__endswith="file_downloaded").exists()


@pytest.mark.django_db
def test_a_card_applied_at_the_counter_keeps_the_person_out_of_a_batch(clerk_a, village_a):
    person = ready_person(village_a)
    card_create(person=person, bank=bank(), acting_user=clerk_a, production_type="instant")
    created = batch_create(
        acting_user=clerk_a, bank=bank(), township=village_a.township, person_ids=[person.pk]
    )
    assert created.batch is None
    assert "已有一张有效社保卡（已申领）" in created.refusals[0].reason


@pytest.mark.django_db
def test_the_bulk_ledger_writes_what_the_one_card_services_write(clerk_a, village_a):
    """cards_apply / cards_record_event against card_create / card_record_event."""
    one, many = ready_person(village_a), ready_person(village_a)
    bank_ = bank()
    single = card_create(person=one, bank=bank_, acting_user=clerk_a, note="申领")
    (bulk,) = cards_apply(persons=[many], bank=bank_, acting_user=clerk_a, note="申领")
    custody = Custody(kind="bank", party="农信社", location="农信社")
    for event, number in (("production_started", ""), ("produced", "J55000001")):
        single = card_record_event(
            card=single, event=event, acting_user=clerk_a, custody=custody, card_number=number
        )
        (bulk,) = cards_record_event(
            cards=[bulk],
            event=event,
            acting_user=clerk_a,
            custody=custody,
            outcomes={bulk.pk: CardOutcome(card_number=number + "6" if number else "")},
        )

    def ledger(card):
        return list(
            card.ledger_entries.values_list(
                "sequence", "event", "status_before", "status_after", "to_party", "custody_kind"
            )
        )

    def audit(card):
        return sorted(
            AuditEvent.objects.filter(
                object_type="issuance.card", object_id=str(card.pk)
            ).values_list("action", "township", "actor")
        )

    assert ledger(bulk) == ledger(single)
    assert audit(bulk) == audit(single)
    bulk.refresh_from_db()
    single.refresh_from_db()
    fields = ("status", "custody_kind", "custodian", "custody_location", "made_on")
    assert [getattr(bulk, f) for f in fields] == [getattr(single, f) for f in fields]
    assert (single.card_number, bulk.card_number) == ("J55000001", "J550000016")
