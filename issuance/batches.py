"""批量制卡: application batches, the bank's batch file and the bank's result.

A township clerk (or the county) puts 待制卡 persons into a batch for a partner bank;
each gets a card, 已申领. Sending the batch starts production (制卡中). The bank's result
file makes each card 已制卡（库存）at the bank or 制卡失败, which sends the person back to
verification with the bank's reason. Every write here asks ``require`` and runs in one
transaction with its audit rows; the cards move only through the ledger's services.
"""

import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from dayao_sscard.audit import audit_record, audit_record_many, snapshot
from dayao_sscard.permissions import require
from dayao_sscard.spreadsheets import XlsxWorkbook
from roster.id_numbers import REASON_EXCEL, mask_id_number, try_normalize_id_number
from roster.imports.base import file_sha256
from roster.imports.tables import TableError, cell_text, open_tables
from roster.models import Person, Township
from roster.progress import figures_touch
from roster.services import persons_return_to_verification
from roster.witnesses import card_refusals

from .card_numbers import HOLDER_ID_NUMBER, card_number_clean, card_number_for_holder
from .models import (
    ApplicationBatch,
    Bank,
    BatchMember,
    BatchStatus,
    Card,
    CardStatus,
    CustodyKind,
    LedgerEvent,
    MemberOutcome,
)
from .services import CardOutcome, Custody, cards_apply, cards_record_event

# ---- making up a batch ------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """A person who could not go into the batch, and why (Chinese, for the clerk)."""

    person_id: int
    name: str
    masked_id_number: str
    reason: str

    def __str__(self) -> str:
        # A person outside the clerk's scope has no number shown, and no empty brackets.
        if not self.masked_id_number:
            return f"{self.name}：{self.reason}"
        return f"{self.name}（{self.masked_id_number}）：{self.reason}"


@dataclass
class BatchCreated:
    batch: ApplicationBatch | None
    refusals: list[Refusal] = field(default_factory=list)


def batch_create(
    *, acting_user, bank: Bank, township: Township | None, person_ids: Iterable[int]
) -> BatchCreated:
    """A draft batch of the given persons who may have a card applied for now.

    Each refused person is named with the reason and the others go in; with nobody left
    no batch is made. The persons' rows are locked (in id order) before anything is
    checked, so two clerks or a double click never put one person into two open batches;
    the database refuses a second open membership as well.
    """
    require(acting_user, "issuance.create_batch")
    if not acting_user.is_county_wide and (
        township is None or township.pk != acting_user.township_id
    ):
        raise PermissionDenied("乡镇工作人员只能为本乡镇的人员建立申领批次。")
    wanted = list(dict.fromkeys(int(pk) for pk in person_ids))
    if not wanted:
        raise ValidationError("请至少选择一名待制卡人员。")
    try:
        with transaction.atomic():
            return _batch_create(acting_user, bank, township, wanted)
    except IntegrityError as exc:
        if "one_open_batch_per_person" in str(exc) or "one_live_card_per_person" in str(exc):
            raise ValidationError(
                "所选人员中有人刚被他人加入其他申领批次，本次未建立批次，请刷新后重新选择。"
            ) from exc
        raise


def _batch_create(acting_user, bank, township, wanted: list[int]) -> BatchCreated:
    persons = {
        p.pk: p
        for p in Person.objects.select_for_update()
        .filter(pk__in=wanted)
        .select_related("township")
        .order_by("pk")
    }
    refusals: list[Refusal] = []
    accepted: list[Person] = []
    reasons = _refusal_reasons(acting_user, township, persons)
    for pk in wanted:
        person = persons.get(pk)
        if person is None or reasons.get(pk) == OUT_OF_SCOPE:
            # Nothing of a person outside the clerk's scope is shown, not even the name.
            refusals.append(Refusal(pk, OUT_OF_SCOPE_NAME, "", OUT_OF_SCOPE))
        elif reason := reasons.get(pk):
            refusals.append(Refusal(pk, person.name, person.masked_id_number, reason))
        else:
            accepted.append(person)
    if not accepted:
        return BatchCreated(batch=None, refusals=refusals)
    batch = _new_batch(acting_user, bank, township)
    cards = cards_apply(
        persons=accepted, bank=bank, acting_user=acting_user, note=f"申领批次{batch.number}"
    )
    with figures_touch(card.person_id for card in cards):
        members = BatchMember.objects.bulk_create(
            [BatchMember(batch=batch, person=card.person, card=card) for card in cards],
            batch_size=500,
        )
    audit_record(
        actor=acting_user,
        action="issuance.applicationbatch.created",
        obj=batch,
        after=snapshot(batch),
        note=f"{len(members)}人；未加入{len(refusals)}人" if refusals else f"{len(members)}人",
    )
    audit_record_many(
        actor=acting_user,
        action="issuance.batchmember.created",
        changes=[(m, None, snapshot(m)) for m in members],
    )
    return BatchCreated(batch=batch, refusals=refusals)


OUT_OF_SCOPE_NAME = "无权查看的人员"
OUT_OF_SCOPE = "不在您的管辖范围内，或系统中没有该人员。"


def _refusal_reasons(acting_user, township, persons: dict[int, Person]) -> dict[int, str]:
    """Why each person who may not go into a batch now may not: outside the clerk's scope or
    the batch's township, else what keeps them from a card (``card_refusals``, as the
    counter and the 待制卡 figures ask it)."""
    in_scope = set(
        Person.objects.for_user(acting_user)
        .filter(pk__in=list(persons))
        .values_list("pk", flat=True)
    )
    reasons: dict[int, str] = {}
    for pk, person in persons.items():
        if pk not in in_scope:
            reasons[pk] = OUT_OF_SCOPE
        elif township is not None and person.township_id != township.pk:
            reasons[pk] = f"不是{township}的人员，不能加入本乡镇的批次。"
    reasons.update(card_refusals(p for pk, p in persons.items() if pk not in reasons))
    return reasons


_NUMBER_ATTEMPTS = 5


def _new_batch(acting_user, bank: Bank, township: Township | None) -> ApplicationBatch:
    """The batch with the next number of its year and township: 2026-金碧-0001."""
    year = timezone.localdate().year
    prefix = f"{year}-{township.short_name if township else '全县'}-"
    for _ in range(_NUMBER_ATTEMPTS):
        taken = ApplicationBatch.objects.filter(number__startswith=prefix).count()
        try:
            with transaction.atomic():
                return ApplicationBatch.objects.create(
                    number=f"{prefix}{taken + 1:04d}",
                    bank=bank,
                    township=township,
                    created_by=acting_user,
                )
        except IntegrityError:
            # Another clerk of the township took the number a moment ago: take the next.
            continue
    raise ValidationError("批次号生成冲突，请稍后重试。")


def batch_remove_member(*, member: BatchMember, acting_user) -> BatchMember:
    """Take a person out of a draft batch; their card application is withdrawn (注销)."""
    require(acting_user, "issuance.change_batch", member.batch)
    with transaction.atomic():
        batch = ApplicationBatch.objects.select_for_update().get(pk=member.batch_id)
        locked = BatchMember.objects.select_for_update().select_related("person").get(pk=member.pk)
        if batch.status != BatchStatus.DRAFT:
            raise ValidationError(f"批次{batch.get_status_display()}，不能再移出人员。")
        if locked.outcome != MemberOutcome.PENDING:
            raise ValidationError(f"{locked.person.name}已{locked.get_outcome_display()}。")
        cards_record_event(
            cards=[locked.card],
            event=LedgerEvent.CANCELLED,
            acting_user=acting_user,
            note=f"从申领批次{batch.number}中移出，撤回申领",
        )
        before = snapshot(locked)
        locked.outcome = MemberOutcome.REMOVED
        locked.outcome_at = timezone.now()
        locked.save(update_fields=["outcome", "outcome_at"])
        audit_record(
            actor=acting_user,
            action="issuance.batchmember.removed",
            obj=locked,
            before=before,
            after=snapshot(locked),
        )
    return locked


def batch_send(*, batch: ApplicationBatch, acting_user) -> ApplicationBatch:
    """The batch file went to the bank: every member's card is 制卡中."""
    require(acting_user, "issuance.send_batch", batch)
    with transaction.atomic():
        locked = (
            ApplicationBatch.objects.select_for_update(of=("self",))
            .select_related("bank")
            .get(pk=batch.pk)
        )
        if locked.status != BatchStatus.DRAFT:
            when = timezone.localtime(locked.sent_at)
            raise ValidationError(f"该批次已于 {when:%Y-%m-%d %H:%M} 报送，无需再次报送。")
        members = list(locked.members.filter(outcome=MemberOutcome.PENDING).select_related("card"))
        if not members:
            raise ValidationError("批次中没有人员，不能报送。")
        cards_record_event(
            cards=[m.card for m in members],
            event=LedgerEvent.PRODUCTION_STARTED,
            acting_user=acting_user,
            note=f"申领批次{locked.number}报送{locked.bank}",
        )
        before = snapshot(locked)
        locked.status = BatchStatus.SENT
        locked.sent_at = timezone.now()
        locked.sent_by = acting_user
        locked.save(update_fields=["status", "sent_at", "sent_by"])
        audit_record(
            actor=acting_user,
            action="issuance.applicationbatch.sent",
            obj=locked,
            before=before,
            after=snapshot(locked),
            note=f"{len(members)}人",
        )
    return locked


# ---- the batch file for the bank --------------------------------------------------------

# The nine account-opening elements (开户制卡九要素) as the bank's sheet names them, with
# what a bank also asks (民族, 出生日期, where the person lives) and the photo's file name.
# The result columns are left empty for the bank: the same sheet filled in comes back as
# the result file, and its headers are among those the result import knows.
BATCH_FILE_HEADER = (
    "序号",
    "姓名",
    "性别",
    "民族",
    "出生日期",
    "国籍",
    "证件种类",
    "证件号码",
    "证件有效期起始日期",
    "证件有效期截止日期",
    "职业",
    "联系电话",
    "住所地或工作单位地址",
    "乡镇",
    "村（社区）",
    "照片文件名",
    "制卡结果",
    "社会保障卡卡号",
    "失败原因",
)
PHOTO_FOLDER = "照片"


@dataclass
class BatchFile:
    file_name: str
    rows: int
    photos: int


def batch_file_name(batch: ApplicationBatch) -> str:
    return f"申领批次{batch.number}（{batch.bank}）.zip"


def batch_file_write(*, batch: ApplicationBatch, acting_user, stream: BinaryIO) -> BatchFile:
    """The zip the bank needs: the sheet of the batch's members and their photos, each
    named by its ID number. Full ID numbers (the bank opens accounts with them): the
    download is audited with its row count."""
    require(acting_user, "issuance.download_batch_file", batch)
    members = list(
        batch.members.exclude(outcome=MemberOutcome.REMOVED)
        .select_related("person", "person__township", "person__village")
        .order_by("person__village__name", "person__group_name", "person__name", "id")
    )
    workbook = XlsxWorkbook()
    sheet = workbook.sheet(
        f"申领批次{batch.number}",
        header=BATCH_FILE_HEADER,
        widths={"B": 10, "H": 22, "I": 14, "J": 14, "M": 36, "P": 24},
    )
    photos = 0
    with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for number, member in enumerate(members, start=1):
            person = member.person
            photo_name = ""
            if person.photo:
                photo_name = f"{person.id_number}.jpg"
                with person.photo.open("rb") as photo:
                    # JPEG does not shrink further: stored, not deflated (much faster).
                    archive.writestr(
                        f"{PHOTO_FOLDER}/{photo_name}",
                        photo.read(),
                        compress_type=zipfile.ZIP_STORED,
                    )
                photos += 1
            elif person.photo_on_12333:
                photo_name = "（照片已在12333采集）"
            sheet.append(_batch_row(number, person, photo_name))
        with archive.open(f"申领批次{batch.number}.xlsx", "w") as xlsx:
            workbook.save(xlsx)
        audit_record(
            actor=acting_user,
            action="issuance.applicationbatch.file_downloaded",
            obj=batch,
            note=f"{len(members)}行，照片{photos}张",
        )
    return BatchFile(file_name=batch_file_name(batch), rows=len(members), photos=photos)


def _batch_row(number: int, person: Person, photo_name: str) -> list:
    def day(value) -> str:
        return f"{value:%Y-%m-%d}" if value else ""

    return [
        number,
        person.name,
        person.get_gender_display(),
        person.ethnicity,
        day(person.birth_date),
        person.nationality,
        person.get_id_type_display(),
        person.id_number,
        day(person.id_valid_from),
        "长期" if person.id_valid_long_term else day(person.id_valid_until),
        person.occupation,
        person.phone,
        person.address,
        person.township.name,
        person.village.name if person.village_id else "",
        photo_name,
        "",
        "",
        "",
    ]


# ---- the bank's result ------------------------------------------------------------------

RESULT_REQUIRED = ("id_number", "production_status")
# Header spellings of banks' result files, beside the shared ones (社会保障号码, 卡号,
# 失败原因, 制卡状态…). A bank account number (银行卡号/账号) is not the card number.
RESULT_ALIASES = {
    "production_status": (
        "制卡结果",
        "制卡情况",
        "回盘结果",
        "处理结果",
        "结果",
        "状态",
        "是否成功",
        "是否制卡成功",
    ),
    "card_number": ("社会保障卡号", "社保卡号", "社会保障卡卡号(卡面号)", "卡面号"),
    "failure_reason": ("原因", "失败说明", "错误原因", "错误信息", "失败原因说明", "不成功原因"),
}
RESULT_LABELS = {"production_status": "制卡结果（或制卡状态）"}
MADE_WORDS = frozenset(
    {"成功", "制卡成功", "已制卡", "已制成", "是", "通过", "1", "y", "yes", "ok", "success"}
)
FAILED_WORDS = frozenset(
    {"失败", "制卡失败", "否", "未通过", "不通过", "退回", "0", "n", "no", "fail", "failed"}
)
NO_REASON = "回盘文件未注明失败原因"


@dataclass
class ResultRow:
    sheet: str
    row: int
    name: str
    shown_id_number: str  # as a problem row shows it: masked
    id_number: str | None
    outcome: str
    card_number: str
    failure_reason: str


@dataclass
class ResultImport:
    file_name: str
    rows_read: int = 0
    made: int = 0
    failed: int = 0
    unchanged: int = 0
    problems: list[dict] = field(default_factory=list)
    closed: bool = False

    def counts(self) -> dict:
        return {
            "读取行数": self.rows_read,
            "制卡成功": self.made,
            "制卡失败（已退回核查）": self.failed,
            "已导入过、未变化": self.unchanged,
            "问题行（未处理）": len(self.problems),
        }

    def problem(self, row: ResultRow, reason: str) -> None:
        self.problems.append(
            {
                "sheet": row.sheet,
                "row": row.row,
                "name": row.name,
                "id_number": row.shown_id_number,
                "reason": reason,
            }
        )


# The problems kept on the batch to be shown again; the page says how many more there were.
KEPT_PROBLEMS = 1000


def batch_result_import(
    *, batch: ApplicationBatch, acting_user, path: Path, original_name: str
) -> ResultImport:
    """Bring back the bank's result for a sent batch.

    The whole file is read and checked first (a file that cannot be read writes
    nothing); then, in one transaction, each row's person of this batch gets their card
    made (card number, 已制卡（库存）at the bank) or failed (the bank's reason; back to
    verification). Rows naming nobody of the batch, unusable ID numbers, card numbers
    already taken and rows contradicting an earlier result are reported, never guessed.
    The same result imported again changes nothing.
    """
    require(acting_user, "issuance.import_batch_result", batch)
    if ApplicationBatch.objects.get(pk=batch.pk).status == BatchStatus.DRAFT:
        raise ValidationError("该批次尚未报送银行，不能导入回盘结果。")
    result = ResultImport(file_name=original_name)
    try:
        rows = _read_result_rows(path, original_name, result)
    except TableError as exc:
        raise ValidationError(str(exc)) from exc
    if not rows and not result.problems:
        raise ValidationError("回盘文件中没有数据行，本次未导入任何数据。")
    # Read the whole file once more for its digest before the batch's lock is taken, not
    # while a second import of the batch waits on it.
    digest = file_sha256(path)
    try:
        with transaction.atomic():
            _apply_result(batch, acting_user, rows, result, digest, original_name)
    except IntegrityError as exc:
        raise ValidationError(
            "其他人正在同时导入含相同卡号的回盘，本次未导入任何数据，请稍后重试。"
        ) from exc
    return result


def _read_result_rows(path: Path, original_name: str, result: ResultImport) -> list[ResultRow]:
    tables = open_tables(
        path,
        original_name=original_name,
        required=RESULT_REQUIRED,
        aliases=RESULT_ALIASES,
        labels=RESULT_LABELS,
    )
    rows: list[ResultRow] = []
    for table in tables:
        columns = table.columns

        def cell(cells: list, name: str, columns=columns):
            position = columns.get(name, -1)
            value = cells[position] if 0 <= position < len(cells) else ""
            return "" if value is None else value

        for number, cells in table.rows:
            result.rows_read += 1
            raw_id = cell(cells, "id_number")
            id_number, id_problem = try_normalize_id_number(raw_id)
            word = cell_text(cell(cells, "production_status"))
            row = ResultRow(
                sheet=table.sheet,
                row=number,
                name=cell_text(cell(cells, "name"))[:50],
                shown_id_number=_shown_id_number(raw_id, id_number, id_problem),
                id_number=id_number,
                outcome=_outcome_of(word),
                card_number=card_number_clean(cell_text(cell(cells, "card_number"))),
                failure_reason=cell_text(cell(cells, "failure_reason"))[:200],
            )
            if id_number is None:
                result.problem(row, f"身份证号码{id_problem}，未处理。")
            elif not row.outcome:
                shown = f"“{word}”" if word else "为空"
                result.problem(row, f"制卡结果{shown}，无法识别（应为“成功”或“失败”），未处理。")
            elif row.outcome == MemberOutcome.MADE and not row.card_number:
                result.problem(row, "制卡成功但缺少社会保障卡卡号，未处理。")
            elif row.outcome == MemberOutcome.MADE and (wrong := _card_number_problem(row)):
                result.problem(row, f"{wrong}，未处理。")
            else:
                rows.append(row)
    return rows


def _shown_id_number(raw, id_number: str | None, id_problem: str | None) -> str:
    """The row's ID number for the clerk: masked (first 6 and last 4) whether or not it
    validates. A number Excel turned into ``5.32326E+17`` is shown as Excel shows it: the
    digits that would identify the person are lost already (not so 18 digits ending in 000).
    """
    if id_number:
        return mask_id_number(id_number)
    if isinstance(raw, float):
        return f"{raw:.6G}"
    text = cell_text(raw)[:40]
    if id_problem == REASON_EXCEL and not text.isdigit():
        return text
    return mask_id_number(text)


def _card_number_problem(row: ResultRow) -> str:
    """Why the row's card number cannot be a made card's, with the number as typed unless it
    is the holder's ID number (shown nowhere in full)."""
    try:
        card_number_for_holder(row.card_number, id_number=row.id_number)
    except ValidationError as wrong:
        said = wrong.messages[0].rstrip("。")
        if wrong.error_list[0].code == HOLDER_ID_NUMBER:
            return said
        return f"{said}：“{row.card_number[:40]}”"
    return ""


def _outcome_of(word: str) -> str:
    key = word.replace(" ", "").lower()
    if key in FAILED_WORDS or "失败" in key or "不成功" in key:
        return MemberOutcome.FAILED
    if key in MADE_WORDS or "成功" in key:
        return MemberOutcome.MADE
    return ""


MEMBER_RESULT_FIELDS = ("outcome", "outcome_at")


def _apply_result(batch, acting_user, rows: list[ResultRow], result: ResultImport, digest, name):
    locked = (
        ApplicationBatch.objects.select_for_update(of=("self",))
        .select_related("bank")
        .get(pk=batch.pk)
    )
    members = {
        m.person.id_number: m
        for m in locked.members.select_related("person", "card").order_by("pk")
        if m.outcome != MemberOutcome.REMOVED
    }
    wanted_numbers = {r.card_number for r in rows if r.outcome == MemberOutcome.MADE}
    taken = dict(
        Card.objects.filter(card_number__in=wanted_numbers).values_list("card_number", "pk")
    )
    seen_ids: dict[str, int] = {}
    seen_numbers: dict[str, int] = {}
    made: dict[int, tuple[BatchMember, ResultRow]] = {}
    failed: dict[int, tuple[BatchMember, ResultRow]] = {}
    for row in rows:
        member = members.get(row.id_number)
        if member is None:
            result.problem(row, "该身份证号码不在本批次中（或已移出本批次），未处理。")
            continue
        if row.id_number in seen_ids:
            result.problem(row, f"与第 {seen_ids[row.id_number]} 行是同一人，本行未处理。")
            continue
        seen_ids[row.id_number] = row.row
        if reason := _contradiction(member, row):
            result.problem(row, reason)
            continue
        if member.outcome != MemberOutcome.PENDING:
            result.unchanged += 1
            continue
        if member.card.status != CardStatus.IN_PRODUCTION:
            result.problem(
                row, f"该人员的社保卡当前为“{member.card.get_status_display()}”，未处理。"
            )
            continue
        if row.outcome == MemberOutcome.MADE:
            owner = taken.get(row.card_number)
            if owner is not None and owner != member.card_id:
                result.problem(row, f"卡号 {row.card_number} 已属于另一张社保卡，未处理。")
                continue
            if row.card_number in seen_numbers:
                line = seen_numbers[row.card_number]
                result.problem(row, f"卡号 {row.card_number} 与第 {line} 行重复，未处理。")
                continue
            seen_numbers[row.card_number] = row.row
            made[member.card_id] = (member, row)
        else:
            failed[member.card_id] = (member, row)
    bank = str(locked.bank)
    cards_record_event(
        cards=[m.card for m, _ in made.values()],
        event=LedgerEvent.PRODUCED,
        acting_user=acting_user,
        custody=Custody(kind=CustodyKind.BANK, party=bank, location=bank),
        outcomes={pk: CardOutcome(card_number=r.card_number) for pk, (_, r) in made.items()},
        note=f"申领批次{locked.number}回盘：制卡成功",
    )
    cards_record_event(
        cards=[m.card for m, _ in failed.values()],
        event=LedgerEvent.PRODUCTION_FAILED,
        acting_user=acting_user,
        outcomes={
            pk: CardOutcome(
                failure_reason=r.failure_reason or NO_REASON,
                note=f"申领批次{locked.number}回盘：{r.failure_reason or NO_REASON}",
            )
            for pk, (_, r) in failed.items()
        },
    )
    now = timezone.now()
    for outcome, group in ((MemberOutcome.MADE, made), (MemberOutcome.FAILED, failed)):
        changed = [member for member, _ in group.values()]
        pks = [member.pk for member in changed]
        with figures_touch(member.person_id for member in changed):
            for start in range(0, len(pks), 1000):
                BatchMember.objects.filter(pk__in=pks[start : start + 1000]).update(
                    outcome=outcome, outcome_at=now
                )
        changes = []
        for member in changed:
            before = snapshot(member, MEMBER_RESULT_FIELDS)
            member.outcome, member.outcome_at = outcome, now
            changes.append((member, before, snapshot(member, MEMBER_RESULT_FIELDS)))
        audit_record_many(
            actor=acting_user,
            action="issuance.batchmember.result_recorded",
            changes=changes,
            note=f"申领批次{locked.number}回盘",
        )
    if failed:
        persons_return_to_verification(
            persons=[m.person for m, _ in failed.values()],
            acting_user=acting_user,
            note=f"申领批次{locked.number}制卡失败",
        )
    result.made, result.failed = len(made), len(failed)
    result.problems.sort(key=lambda problem: (problem["sheet"], problem["row"]))
    before = snapshot(locked)
    result.closed = not locked.members.filter(outcome=MemberOutcome.PENDING).exists()
    # A result imported again changes nothing, not even what the batch shows of the last one.
    if made or failed or not locked.result_imported_at:
        if result.closed:
            locked.status = BatchStatus.CLOSED
        locked.result_file_name = name[:255]
        locked.result_file_sha256 = digest
        locked.result_imported_at = now
        locked.result_imported_by = acting_user
        locked.result_counts = result.counts()
        locked.result_problems = result.problems[:KEPT_PROBLEMS]
        locked.save()
    audit_record(
        actor=acting_user,
        action="issuance.applicationbatch.result_imported",
        obj=locked,
        before={k: before[k] for k in ("status",)},
        after={"status": locked.status},
        note=f"{name}：" + "，".join(f"{k}{v}" for k, v in result.counts().items()),
    )


def _contradiction(member: BatchMember, row: ResultRow) -> str:
    """Why a row disagrees with the result this member already has, or ''."""
    if member.outcome == MemberOutcome.MADE:
        number = member.card.card_number
        if row.outcome != MemberOutcome.MADE or row.card_number != number:
            return f"该人员已回盘为制卡成功（卡号 {number}），与本行不一致，未修改。"
    if member.outcome == MemberOutcome.FAILED and row.outcome == MemberOutcome.MADE:
        return "该人员已回盘为制卡失败并退回核查，与本行不一致，未修改；请重新申领。"
    return ""
