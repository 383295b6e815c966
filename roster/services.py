"""All writes to people and their lists go through here.

Person edits (verification, photo, contact, death) and 12333 conflicts: permission,
version check, audit. Person exports and list imports: the jobs that run them, the
import itself below in ``imports``.
"""

import io
import tempfile
from collections.abc import Mapping
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Prefetch
from django.utils import timezone
from PIL import Image

from dayao_sscard.audit import audit_record, audit_record_many, changed_fields, snapshot
from dayao_sscard.jobs import (
    JobFailure,
    JobNeedsConfirmation,
    JobProgress,
    job_attach_result,
    job_create,
)
from dayao_sscard.models import Job, JobKind, JobStatus
from dayao_sscard.params import id_param
from dayao_sscard.permissions import may, require, require_all
from dayao_sscard.tasks import job_enqueue
from issuance.services import cancellations_withdraw, cards_queue_cancellation

from .exporters import persons_write_xlsx, problems_write_xlsx
from .figures import FIGURE_LABELS
from .imports import ExportCoverage, ExportShrinks, ListImportError, list_import
from .imports.collection import TRACKED_FIELDS, field_apply
from .models import (
    CardClass,
    CollectionConflict,
    ListEntry,
    ListKind,
    Person,
    Township,
    VerificationStatus,
    Village,
    VitalStatus,
)
from .progress import figures_touch
from .selectors import NO_VILLAGE, PersonFilters, person_list
from .verification import (
    ELEMENT_FIELDS,
    PHOTO_KEEP_SIZE,
    photo_problem,
    verification_status_for,
)

CONTACT_FIELDS = ("phone", "address", "occupation", "group_name")


class PersonEditConflict(Exception):
    """Someone saved the person after this editor loaded it."""

    def __init__(self, current: Person):
        super().__init__("该人员信息已被他人修改，请核对最新内容后再保存。")
        self.current = current


def locked_for_edit(person: Person, expected_version: int | None) -> Person:
    """The person's row, locked; the caller has asked whether the user may change it."""
    locked = Person.objects.select_for_update().get(pk=person.pk)
    if expected_version is not None and locked.version != expected_version:
        raise PersonEditConflict(locked)
    return locked


def save_audited(locked: Person, before: dict, acting_user, action: str, note: str = "") -> Person:
    fields = list(before)
    old, new = changed_fields(before, snapshot(locked, fields))
    if not new:
        return locked
    locked.version = F("version") + 1
    locked.save(update_fields=[*new.keys(), "version", "updated_at"])
    locked.refresh_from_db()
    audit_record(actor=acting_user, action=action, obj=locked, before=old, after=new, note=note)
    return locked


def _refuse_other_fields(changes: Mapping, *, allowed: tuple[str, ...]) -> None:
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ValidationError(f"不能在此修改：{'、'.join(sorted(unknown))}")


def person_verify(
    *,
    person: Person,
    acting_user,
    expected_version: int,
    elements: dict,
    unreachable_reason: str = "",
    unreachable_note: str = "",
    photo: bytes | None = None,
) -> Person:
    """Save the nine elements (and a photo); 待制卡 only when nothing is missing."""
    require(acting_user, "roster.verify_person", person)
    _refuse_other_fields(elements, allowed=ELEMENT_FIELDS)
    wanted = {
        **elements,
        "unreachable_reason": unreachable_reason,
        "unreachable_note": unreachable_note if unreachable_reason else "",
    }
    try:
        return _person_verify(person, acting_user, expected_version, wanted, photo)
    except PersonEditConflict as conflict:
        if _saved_just_so_by(conflict.current, acting_user, wanted):
            return conflict.current
        raise


# A save by the same clerk, with the same values, this soon after theirs is the same form
# sent twice (a double click, a resend after a slow answer).
RESUBMIT_WINDOW = timedelta(minutes=2)


def _saved_just_so_by(current: Person, acting_user, wanted: dict) -> bool:
    """Whether the person is as this clerk's own save left it a moment ago: the form sent
    again is answered as saved, and nothing is written twice. Another clerk's save in
    between, or other values, stay a conflict."""
    return (
        current.verified_by_id == acting_user.pk
        and current.verified_at is not None
        and timezone.now() - current.verified_at <= RESUBMIT_WINDOW
        and all(getattr(current, name) == value for name, value in wanted.items())
    )


def _person_verify(person, acting_user, expected_version, wanted: dict, photo) -> Person:
    with transaction.atomic():
        if photo is not None:
            person = person_set_photo(
                person=person,
                acting_user=acting_user,
                data=photo,
                expected_version=expected_version,
            )
            expected_version = person.version
        locked = locked_for_edit(person, expected_version)
        if locked.is_deceased:
            raise ValidationError("该人员已登记死亡，不再采集信息。")
        tracked = [
            *ELEMENT_FIELDS,
            "verification_status",
            "unreachable_reason",
            "unreachable_note",
            "verified_at",
            "verified_by",
        ]
        before = snapshot(locked, tracked)
        for name, value in wanted.items():
            setattr(locked, name, value)
        if locked.unreachable_reason:
            locked.verification_status = VerificationStatus.UNREACHABLE
        else:
            locked.verification_status = VerificationStatus.PENDING
            locked.verification_status = verification_status_for(locked)
        locked.verified_at = timezone.now()
        locked.verified_by = acting_user
        return save_audited(locked, before, acting_user, "roster.person.verified")


def persons_return_to_verification(*, persons: list[Person], acting_user, note: str) -> int:
    """Card-making failed for these persons: back to the verification queue (待核查).

    The bank's reason stays on each failed card, where the queue and the person's page
    read it; a person marked 无法联系 keeps that status.
    """
    require_all(acting_user, "roster.verify_person", Person, [p.pk for p in persons])
    with transaction.atomic():
        returned = list(
            Person.objects.select_for_update()
            .filter(pk__in=[p.pk for p in persons], verification_status=VerificationStatus.READY)
            .order_by("pk")
        )
        with figures_touch(p.pk for p in returned):
            Person.objects.filter(pk__in=[p.pk for p in returned]).update(
                verification_status=VerificationStatus.PENDING,
                version=F("version") + 1,
                updated_at=timezone.now(),
            )
        audit_record_many(
            actor=acting_user,
            action="roster.person.returned_to_verification",
            changes=[
                (
                    person,
                    {"verification_status": VerificationStatus.READY.value},
                    {"verification_status": VerificationStatus.PENDING.value},
                )
                for person in returned
            ],
            note=note,
        )
    return len(returned)


def person_set_photo(
    *, person: Person, acting_user, data: bytes, expected_version: int | None = None
) -> Person:
    """Check and keep a photo (re-encoded as JPEG, which also drops EXIF such as GPS)."""
    require(acting_user, "roster.verify_person", person)
    problem, image = photo_problem(data)
    if problem:
        raise ValidationError(problem)
    photo = _jpeg(image.convert("RGB"), max_size=PHOTO_KEEP_SIZE)
    thumbnail = _jpeg(image.convert("RGB"), max_size=(150, 190))
    with transaction.atomic():
        locked = locked_for_edit(person, expected_version)
        before = snapshot(locked, ["photo", "photo_thumbnail", "verification_status"])
        # Names, not the FieldFile objects: saving below re-points those at the new files.
        old_names = [f.name for f in (locked.photo, locked.photo_thumbnail) if f]
        storage = locked.photo.storage
        locked.photo.save(f"{locked.pk}.jpg", ContentFile(photo), save=False)
        locked.photo_thumbnail.save(f"{locked.pk}.jpg", ContentFile(thumbnail), save=False)
        if locked.verification_status != VerificationStatus.UNREACHABLE:
            locked.verification_status = verification_status_for(locked)
        saved = save_audited(locked, before, acting_user, "roster.person.photo_uploaded")
        transaction.on_commit(lambda: [storage.delete(name) for name in old_names])
    return saved


def _jpeg(image: Image.Image, *, max_size: tuple[int, int]) -> bytes:
    copy = image.copy()
    copy.thumbnail(max_size)
    out = io.BytesIO()
    copy.save(out, format="JPEG", quality=88)
    return out.getvalue()


def person_mark_deceased(
    *,
    person: Person,
    acting_user,
    death_date: date,
    source: str,
    note: str = "",
) -> Person:
    """The dead get no card: out of every queue, live cards queued for 注销."""
    require(acting_user, "roster.mark_person_deceased", person)
    if death_date > timezone.localdate():
        raise ValidationError("死亡日期不能晚于今天。")
    if not source.strip():
        raise ValidationError("请填写死亡信息来源。")
    with transaction.atomic():
        locked = locked_for_edit(person, None)
        if locked.is_deceased:
            raise ValidationError("该人员已登记死亡。")
        before = snapshot(locked, ["vital_status", "death_date", "death_source", "death_note"])
        locked.vital_status = VitalStatus.DECEASED
        locked.death_date, locked.death_source, locked.death_note = death_date, source, note
        saved = save_audited(locked, before, acting_user, "roster.person.marked_deceased")
        cards_queue_cancellation(persons=[saved], acting_user=acting_user)
    return saved


def person_undo_deceased(*, person: Person, acting_user, reason: str) -> Person:
    """Correct a wrong death record; needs a reason, withdraws pending cancellations."""
    require(acting_user, "roster.undo_person_deceased", person)
    if not reason.strip():
        raise ValidationError("撤销死亡登记必须说明原因。")
    with transaction.atomic():
        locked = locked_for_edit(person, None)
        if not locked.is_deceased:
            raise ValidationError("该人员未登记死亡。")
        before = snapshot(locked, ["vital_status", "death_date", "death_source", "death_note"])
        locked.vital_status = VitalStatus.ALIVE
        locked.death_date, locked.death_source, locked.death_note = None, "", ""
        saved = save_audited(
            locked, before, acting_user, "roster.person.deceased_undone", note=reason
        )
        cancellations_withdraw(person=saved, acting_user=acting_user, reason=reason)
    return saved


def person_update_contact(
    *, person: Person, acting_user, expected_version: int, **changes
) -> Person:
    """Save contact fields only if nobody saved the person since ``expected_version``."""
    require(acting_user, "roster.edit_person_contact", person)
    _refuse_other_fields(changes, allowed=CONTACT_FIELDS)
    with transaction.atomic():
        locked = locked_for_edit(person, expected_version)
        before = snapshot(locked, CONTACT_FIELDS)
        for field, value in changes.items():
            setattr(locked, field, value)
        return save_audited(locked, before, acting_user, "roster.person.updated")


def person_reveal_id_number(*, person: Person, acting_user) -> str:
    """The full ID number, for roles that need it; every look is recorded."""
    require(acting_user, "roster.reveal_person_id", person)
    audit_record(actor=acting_user, action="roster.person.id_number_viewed", obj=person)
    return person.id_number


def conflict_resolve(
    *,
    conflict_ids_and_choices: Mapping[int, str],
    person: Person,
    acting_user,
    expected_version: int,
) -> Person:
    """Keep the system's value or take the 12333 value, per conflict, for one person.

    Raises PersonEditConflict when the person was saved since ``expected_version``;
    then nothing is written.
    """
    require(acting_user, "roster.resolve_conflicts", person)
    Resolution = CollectionConflict.Resolution
    choices = dict(conflict_ids_and_choices)
    if not choices:
        raise ValidationError("请至少为一个字段选择“保留系统值”或“采用12333值”。")
    if set(choices.values()) - {Resolution.KEPT, Resolution.TAKEN}:
        raise ValidationError("处理方式只能是“保留系统值”或“采用12333值”。")
    with transaction.atomic():
        locked = locked_for_edit(person, expected_version)
        conflicts = list(
            CollectionConflict.objects.select_for_update()
            .filter(person=locked, pk__in=list(choices), resolution=Resolution.PENDING)
            .order_by("pk")
        )
        if len(conflicts) != len(choices):
            raise ValidationError("部分字段已由他人处理或不属于该人员，请刷新页面后重新选择。")
        taken = [c for c in conflicts if choices[c.pk] == Resolution.TAKEN]
        fields = [c.field for c in taken]
        if len(set(fields)) != len(fields):
            raise ValidationError("同一字段只能采用一个12333值。")
        if taken and locked.is_deceased:
            raise ValidationError("该人员已登记死亡，不再采集信息。")
        before = snapshot(locked, TRACKED_FIELDS)
        for conflict in taken:
            field_apply(locked, conflict.field, conflict.incoming_value)
        locked.verification_status = verification_status_for(locked)
        saved = save_audited(
            locked, before, acting_user, "roster.person.updated", note="处理12333采集冲突"
        )
        now = timezone.now()
        for conflict in conflicts:
            conflict.person = saved
            conflict.resolution = choices[conflict.pk]
            conflict.resolved_by = acting_user
            conflict.resolved_at = now
        CollectionConflict.objects.bulk_update(
            conflicts, ["resolution", "resolved_by", "resolved_at"]
        )
        audit_record_many(
            actor=acting_user,
            action="roster.collectionconflict.updated",
            changes=[
                (c, {"resolution": Resolution.PENDING.value}, {"resolution": c.resolution})
                for c in conflicts
            ],
            note=f"{saved.name}：处理12333采集冲突",
        )
    return saved


def person_export_start(*, acting_user, filters: dict) -> Job:
    """Create the export job and queue it; the page then follows its progress."""
    require(acting_user, "roster.export_persons")
    with transaction.atomic():
        job = job_create(
            kind=JobKind.EXPORT,
            work="roster.services.person_export_run",
            title="导出人员名单",
            started_by=acting_user,
            params={"filters": filters},
        )
        job_enqueue(job)
    return job


def person_export_run(job: Job, progress: JobProgress) -> dict:
    """Write the user's scoped, filtered person list to an Excel file on the job.

    Full ID numbers and phones only for roles that work with them, list membership
    (subsidies, poverty, disability) only for roles that may see it: a bank clerk's export
    is masked and without it. Every export is in the audit log with its row count.
    """
    user = job.started_by
    require(user, "roster.export_persons")
    filters = PersonFilters(**job.params.get("filters", {}))
    full_values = may(user, "roster.export_persons_in_full")
    with_categories = may(user, "roster.view_person_categories")
    persons = person_list(user=user, filters=filters).order_by(
        "township__code", "village__name", "id"
    )
    if with_categories:
        persons = persons.prefetch_related(
            Prefetch("list_entries", queryset=ListEntry.objects.select_related("source_list"))
        )
    total = persons.count()
    progress(0, total, "正在导出", force=True)
    with tempfile.TemporaryFile() as stream:
        written = persons_write_xlsx(
            persons.iterator(chunk_size=2000),
            stream,
            full_values=full_values,
            with_categories=with_categories,
            total=total,
            progress=progress,
        )
        stream.seek(0)
        name = f"{export_file_label(filters)}_{timezone.localtime():%Y%m%d_%H%M}.xlsx"
        job_attach_result(job, name=name, content=File(stream, name=name))
    audit_record(
        actor=user,
        action="roster.person.list_exported",
        obj=job,
        after={
            "rows": written,
            "full_values": full_values,
            "with_categories": with_categories,
            "filters": job.params.get("filters", {}),
        },
        note=f"导出{'含完整身份证号码和电话的' if full_values else '已脱敏的'}名单 {written} 人",
    )
    return {"导出人数": written}


def export_file_label(filters: PersonFilters) -> str:
    """A file name that says what the list is, e.g. 金碧镇_大河社区_制卡失败_名单."""
    parts = []
    if filters.township:
        parts.append(
            Township.objects.filter(code=filters.township).values_list("name", flat=True).first()
            or ""
        )
    if (village_id := id_param(filters.village)) is not None:
        parts.append(
            Village.objects.filter(pk=village_id).values_list("name", flat=True).first() or ""
        )
    elif filters.village == NO_VILLAGE:
        parts.append("未填村")
    if filters.card_class in CardClass.values:
        parts.append(CardClass(filters.card_class).label)
    if filters.figure in FIGURE_LABELS:
        parts.append(FIGURE_LABELS[filters.figure])
    if filters.project:
        parts.append(filters.project)
    if filters.without_card:
        parts.append("未持卡")
    parts.append("名单" if filters.on_list else "人员名单")
    return "_".join(p for p in parts if p)


def list_import_kinds(*, user) -> list[str]:
    """Which lists this user may upload: the county all, township staff their 12333 results."""
    return [kind for kind in ListKind.values if may(user, f"roster.import_{kind}")]


def list_import_start(*, acting_user, kind: str, source: str, uploaded_file) -> Job:
    """Keep the uploaded file with a new job and queue its import.

    Township staff bring back their own 12333 collection results; every other
    list comes from the county. The import itself only touches people in scope.
    """
    if kind not in ListKind.values:
        raise ValidationError("请选择名单类型。")
    require(acting_user, f"roster.import_{kind}")
    label = ListKind(kind).label
    with transaction.atomic():
        job = job_create(
            kind=JobKind.IMPORT_LIST,
            work="roster.services.list_import_run",
            title=f"导入{label}：{source or uploaded_file.name}",
            started_by=acting_user,
            params={"kind": kind, "source": source},
            input_file=uploaded_file,
            input_name=uploaded_file.name,
        )
        job_enqueue(job)
    return job


# An upload is deleted some time after its job ended (dayao_sscard.retention).
UPLOAD_GONE = "上传的文件已按留存规定删除，请重新上传该文件。"

COVERAGE_LABELS = {
    ExportCoverage.COMPLETE: "按全县完整导出",
    ExportCoverage.PARTIAL: "按部分导出",
}


def list_import_confirm(*, acting_user, job: Job, coverage: str) -> Job:
    """Import a card-system export that stopped at its preview, the way the user chose.

    The same file goes to a new job; the stopped job remembers which one, so a second
    click opens that job instead of importing twice.
    """
    require(acting_user, "roster.import_card_export")
    if coverage not in ExportCoverage.CHOICES:
        raise ValidationError("请选择按全县完整导出还是按部分导出导入。")
    with transaction.atomic():
        stopped = Job.objects.select_for_update().get(pk=job.pk)
        if stopped.status != JobStatus.NEEDS_CONFIRMATION:
            raise ValidationError("该任务不在待确认状态。")
        if stopped.params.get("confirmed_job"):
            return Job.objects.get(pk=stopped.params["confirmed_job"])
        if not stopped.input_file or not stopped.input_file.storage.exists(stopped.input_file.name):
            raise ValidationError(UPLOAD_GONE)
        with stopped.input_file.open("rb") as upload:
            confirmed = job_create(
                kind=JobKind.IMPORT_LIST,
                work="roster.services.list_import_run",
                title=f"{stopped.title}（{COVERAGE_LABELS[coverage]}）"[:200],
                started_by=acting_user,
                params={**stopped.params, "coverage": coverage},
                input_file=File(upload, name=stopped.input_name),
                input_name=stopped.input_name,
            )
        stopped.params = {**stopped.params, "confirmed_job": confirmed.pk}
        stopped.save(update_fields=["params"])
        audit_record(
            actor=acting_user,
            action="roster.sourcelist.coverage_confirmed",
            obj=stopped,
            after={"导出范围": COVERAGE_LABELS[coverage], "文件": stopped.input_name},
        )
        job_enqueue(confirmed)
    return confirmed


def list_import_run(job: Job, progress: JobProgress) -> dict:
    """Import the job's file; attach the error report when some rows could not be used."""
    progress(0, 1, "正在读取文件", force=True)
    if not job.input_file or not job.input_file.storage.exists(job.input_file.name):
        raise JobFailure(UPLOAD_GONE)
    try:
        result = list_import(
            kind=job.params["kind"],
            path=job.input_file.path,
            original_name=job.input_name,
            source=job.params.get("source", ""),
            acting_user=job.started_by,
            job=job,
            progress=progress,
            coverage=job.params.get("coverage", ExportCoverage.UNSAID),
        )
    except ExportShrinks as exc:
        raise JobNeedsConfirmation(str(exc), exc.preview) from exc
    except ListImportError as exc:
        raise JobFailure(str(exc)) from exc
    if result.problems or result.duplicate_rows:
        with tempfile.TemporaryFile() as stream:
            problems_write_xlsx(result, stream)
            stream.seek(0)
            name = f"问题行报告_{job.input_name.rsplit('.', 1)[0]}.xlsx"
            job_attach_result(job, name=name, content=File(stream, name=name))
    return result.summary()
