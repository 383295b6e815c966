"""All writes to people go through here: scope, permission, version check, audit."""

import tempfile

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from dayao_sscard.audit import audit_record, snapshot
from dayao_sscard.jobs import (
    JobFailure,
    JobProgress,
    job_attach_result,
    job_create,
    job_enqueue,
)
from dayao_sscard.models import Job, JobKind
from dayao_sscard.roles import Role

from .exporters import persons_write_xlsx, problems_write_xlsx
from .importers import ListImportError, list_import
from .models import CardClass, ListEntry, ListKind, Person, Township, Village
from .selectors import PersonFilters, person_list
from .tasks import export_persons, import_list_file
from .verification import locked_for_edit, save_audited

CONTACT_FIELDS = ("phone", "address", "occupation", "group_name")


def person_update_contact(
    *, person: Person, acting_user, expected_version: int, **changes
) -> Person:
    """Save contact fields only if nobody saved the person since ``expected_version``."""
    unknown = set(changes) - set(CONTACT_FIELDS)
    if unknown:
        raise ValidationError(f"不能在此修改：{'、'.join(sorted(unknown))}")
    with transaction.atomic():
        locked = locked_for_edit(person, acting_user, expected_version)
        before = snapshot(locked, CONTACT_FIELDS)
        for field, value in changes.items():
            setattr(locked, field, value)
        return save_audited(locked, before, acting_user, "roster.person.updated")


def person_reveal_id_number(*, person: Person, acting_user) -> str:
    """The full ID number, for roles that need it; every look is recorded."""
    if not acting_user.may_view_full_id:
        raise PermissionDenied("当前角色不能查看完整身份证号码。")
    if not Person.objects.for_user(acting_user).filter(pk=person.pk).exists():
        raise PermissionDenied("该人员不在您的管辖范围内。")
    audit_record(actor=acting_user, action="roster.person.id_number_viewed", obj=person)
    return person.id_number


def person_export_start(*, acting_user, filters: dict) -> Job:
    """Create the export job and queue it; the page then follows its progress."""
    with transaction.atomic():
        job = job_create(
            kind=JobKind.EXPORT,
            title="导出人员名单",
            started_by=acting_user,
            params={"filters": filters},
        )
        job_enqueue(job, export_persons)
    return job


def person_export_run(job: Job, progress: JobProgress) -> dict:
    """Write the user's scoped, filtered person list to an Excel file on the job."""
    user = job.started_by
    filters = PersonFilters(**job.params.get("filters", {}))
    persons = (
        person_list(user=user, filters=filters)
        .order_by("township__code", "village__name", "id")
        .prefetch_related(
            Prefetch("list_entries", queryset=ListEntry.objects.select_related("source_list"))
        )
    )
    total = persons.count()
    full_values = user.may_view_full_id
    progress(0, total, "正在导出", force=True)
    with tempfile.TemporaryFile() as stream:
        written = persons_write_xlsx(
            persons.iterator(chunk_size=2000),
            stream,
            full_values=full_values,
            total=total,
            progress=progress,
        )
        stream.seek(0)
        name = f"{export_file_label(filters)}_{timezone.localtime():%Y%m%d_%H%M}.xlsx"
        job_attach_result(job, name=name, content=File(stream, name=name))
    if full_values:
        audit_record(
            actor=user,
            action="roster.person.list_exported",
            obj=job,
            note=f"导出含完整身份证号码的名单 {written} 人",
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
    if filters.village.isdigit():
        parts.append(
            Village.objects.filter(pk=int(filters.village)).values_list("name", flat=True).first()
            or ""
        )
    if filters.card_class in CardClass.values:
        parts.append(CardClass(filters.card_class).label)
    if filters.project:
        parts.append(filters.project)
    if filters.without_card:
        parts.append("未持卡")
    parts.append("名单" if filters.on_list else "人员名单")
    return "_".join(p for p in parts if p)


def list_import_kinds(*, user) -> list[str]:
    """Which lists this user may upload: the county all, township staff their 12333 results."""
    if user.may_import:
        return list(ListKind.values)
    if user.role == Role.TOWNSHIP_STAFF and user.may_write:
        return [ListKind.COLLECTION_12333]
    return []


def list_import_start(*, acting_user, kind: str, source: str, uploaded_file) -> Job:
    """Keep the uploaded file with a new job and queue its import.

    Township staff bring back their own 12333 collection results; every other
    list comes from the county. The import itself only touches people in scope.
    """
    if kind not in list_import_kinds(user=acting_user):
        raise PermissionDenied(
            "只有县人社局管理员可以导入名单（乡镇工作人员可导入12333采集结果）。"
        )
    if kind not in ListKind.values:
        raise ValidationError("请选择名单类型。")
    label = ListKind(kind).label
    with transaction.atomic():
        job = job_create(
            kind=JobKind.IMPORT_LIST,
            title=f"导入{label}：{source or uploaded_file.name}",
            started_by=acting_user,
            params={"kind": kind, "source": source},
            input_file=uploaded_file,
            input_name=uploaded_file.name,
        )
        job_enqueue(job, import_list_file)
    return job


def list_import_run(job: Job, progress: JobProgress) -> dict:
    """Import the job's file; attach the error report when some rows could not be used."""
    progress(0, 1, "正在读取文件", force=True)
    try:
        result = list_import(
            kind=job.params["kind"],
            path=job.input_file.path,
            original_name=job.input_name,
            source=job.params.get("source", ""),
            acting_user=job.started_by,
            job=job,
            progress=progress,
        )
    except ListImportError as exc:
        raise JobFailure(str(exc)) from exc
    if result.problems or result.duplicate_rows:
        with tempfile.TemporaryFile() as stream:
            problems_write_xlsx(result, stream)
            stream.seek(0)
            name = f"问题行报告_{job.input_name.rsplit('.', 1)[0]}.xlsx"
            job_attach_result(job, name=name, content=File(stream, name=name))
    return result.summary()
