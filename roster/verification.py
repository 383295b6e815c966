"""The nine account-opening elements (开户制卡九要素), photo and vital status:
what is missing or inconsistent, in Chinese, and the writes of verification work.
"""

import io
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from dayao_sscard.audit import audit_record, audit_record_many, changed_fields, snapshot
from issuance.models import LIVE_CARD_STATUSES, CancellationRequest, Card

from .id_numbers import birth_date_from_id, gender_from_id, try_normalize_id_number
from .models import IdType, Person, VerificationStatus, VitalStatus
from .validators import phone_problem


@dataclass(frozen=True)
class Problem:
    field: str
    message: str


# Groups shown on the work queue, in the order a collector usually fixes them.
PROBLEM_GROUPS = {
    "photo": "缺少照片",
    "phone": "联系电话缺失或有误",
    "id_validity": "证件有效期缺失或已过期",
    "address": "缺少住址",
    "occupation": "缺少职业",
    "identity": "性别、出生日期与身份证号码不符",
    "nationality": "国籍与证件种类不符",
    "name": "缺少姓名",
    "id_number": "身份证号码有误",
}

ELEMENT_FIELDS = (
    "name",
    "gender",
    "nationality",
    "occupation",
    "address",
    "phone",
    "id_type",
    "id_valid_from",
    "id_valid_until",
    "id_valid_long_term",
)


def person_problems(person: Person, *, today: date | None = None) -> list[Problem]:
    """Everything that keeps this person from card-making, each said in Chinese."""
    today = today or timezone.localdate()
    problems: list[Problem] = []
    if not person.name.strip():
        problems.append(Problem("name", "缺少姓名"))
    id_number, reason = try_normalize_id_number(person.id_number)
    if id_number is None:
        problems.append(Problem("id_number", f"身份证号码{reason}"))
    elif person.id_type in (IdType.RESIDENT_ID, IdType.HMT_RESIDENCE_PERMIT):
        if person.gender and person.gender != gender_from_id(id_number):
            problems.append(Problem("identity", "性别与身份证号码不一致"))
        if not person.gender:
            problems.append(Problem("identity", "缺少性别"))
        if person.birth_date and person.birth_date != birth_date_from_id(id_number):
            problems.append(Problem("identity", "出生日期与身份证号码不一致"))
    problems.extend(_nationality_problems(person, id_number))
    if not person.occupation.strip():
        problems.append(Problem("occupation", "缺少职业"))
    if not person.address.strip():
        problems.append(Problem("address", "缺少住所地或工作单位地址"))
    phone = phone_problem(person.phone)
    if phone:
        problems.append(Problem("phone", phone))
    problems.extend(_validity_problems(person, today))
    if not (person.photo or person.photo_on_12333):
        problems.append(Problem("photo", "缺少照片"))
    return problems


def _nationality_problems(person: Person, id_number: str | None) -> list[Problem]:
    nationality = person.nationality.strip()
    if not nationality:
        return [Problem("nationality", "缺少国籍")]
    if person.id_type == IdType.RESIDENT_ID and nationality not in ("中国", "中华人民共和国"):
        return [Problem("nationality", "持居民身份证者国籍应为中国")]
    if (
        person.id_type == IdType.HMT_RESIDENCE_PERMIT
        and id_number
        and id_number[:2] not in ("81", "82", "83")
    ):
        return [Problem("nationality", "港澳台居民居住证号码应以810000、820000或830000开头")]
    if person.id_type == IdType.FOREIGN_PERMANENT and nationality in ("中国", "中华人民共和国"):
        return [Problem("nationality", "持外国人永久居留身份证者国籍不应为中国")]
    return []


def _validity_problems(person: Person, today: date) -> list[Problem]:
    if person.id_valid_long_term:
        if not person.id_valid_from:
            return [Problem("id_validity", "缺少证件有效期起始日期")]
        return []
    if not person.id_valid_from or not person.id_valid_until:
        return [Problem("id_validity", "缺少证件有效期限")]
    if person.id_valid_until <= person.id_valid_from:
        return [Problem("id_validity", "证件有效期截止日期早于起始日期")]
    if person.id_valid_from > today:
        return [Problem("id_validity", "证件有效期起始日期晚于今天")]
    if person.id_valid_until < today:
        return [Problem("id_validity", f"证件已于{person.id_valid_until:%Y年%m月%d日}过期")]
    return []


class PersonEditConflict(Exception):
    """Someone saved the person after this editor loaded it."""

    def __init__(self, current: Person):
        super().__init__("该人员信息已被他人修改，请核对最新内容后再保存。")
        self.current = current


def locked_for_edit(person: Person, acting_user, expected_version: int | None) -> Person:
    if not acting_user.may_write:
        raise PermissionDenied("当前账号为只读权限，不能修改数据。")
    if not Person.objects.for_user(acting_user).filter(pk=person.pk).exists():
        raise PermissionDenied("该人员不在您的管辖范围内。")
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


def verification_status_for(person: Person) -> str:
    if person.verification_status == VerificationStatus.UNREACHABLE:
        return VerificationStatus.UNREACHABLE
    return VerificationStatus.PENDING if person_problems(person) else VerificationStatus.READY


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
    unknown = set(elements) - set(ELEMENT_FIELDS)
    if unknown:
        raise ValidationError(f"不能在此修改：{'、'.join(sorted(unknown))}")
    with transaction.atomic():
        if photo is not None:
            person = person_set_photo(
                person=person,
                acting_user=acting_user,
                data=photo,
                expected_version=expected_version,
            )
            expected_version = person.version
        locked = locked_for_edit(person, acting_user, expected_version)
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
        for name, value in elements.items():
            setattr(locked, name, value)
        locked.unreachable_reason = unreachable_reason
        locked.unreachable_note = unreachable_note if unreachable_reason else ""
        if unreachable_reason:
            locked.verification_status = VerificationStatus.UNREACHABLE
        else:
            locked.verification_status = VerificationStatus.PENDING
            locked.verification_status = verification_status_for(locked)
        locked.verified_at = timezone.now()
        locked.verified_by = acting_user
        return save_audited(locked, before, acting_user, "roster.person.verified")


PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_MIN_WIDTH, PHOTO_MIN_HEIGHT = 358, 441  # the card's own photo size
PHOTO_KEEP_SIZE = (1200, 1600)  # what is stored; larger photos are scaled down to it
PHOTO_RATIO = (0.70, 0.90)  # width / height: portrait, like a 1-inch ID photo
_SIDEWAYS = (5, 6, 7, 8)  # EXIF orientations that swap width and height
# A PNG is always decoded whole (a JPEG at 1/2 … 1/8 scale): it gets a lower limit than
# settings.IMAGE_MAX_PIXELS. Phones shoot JPEG; a PNG is a scan or a studio's file.
PNG_MAX_PIXELS = 16_000_000


def photo_problem(data: bytes) -> tuple[str | None, Image.Image | None]:
    """Why the photo cannot go on a card, in Chinese; or the upright image.

    The size is judged from the file's header before any pixel is decoded: a 400 KB
    PNG can unpack to 10,000 × 12,500 pixels and more than a gigabyte of memory.
    """
    if len(data) > PHOTO_MAX_BYTES:
        return "照片文件超过10MB，请压缩后重新上传。", None
    if len(data) < 2 * 1024:
        return "照片文件过小，可能已损坏。", None
    unreadable = "无法识别的图片，请上传 JPEG 或 PNG 格式的照片。"
    try:
        image = Image.open(io.BytesIO(data))  # reads the header only
    except Image.DecompressionBombError:
        return _too_many_pixels(None, settings.IMAGE_MAX_PIXELS), None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        return unreadable, None
    image_format = image.format
    if image_format not in ("JPEG", "PNG"):
        return f"照片格式为 {image_format}，请上传 JPEG 或 PNG 格式。", None
    limit = settings.IMAGE_MAX_PIXELS
    if image_format == "PNG":
        limit = min(limit, PNG_MAX_PIXELS)
    if image.width * image.height > limit:
        return _too_many_pixels(image.size, limit), None
    sideways = image.getexif().get(ExifTags.Base.Orientation) in _SIDEWAYS
    width, height = (image.height, image.width) if sideways else image.size
    if width < PHOTO_MIN_WIDTH or height < PHOTO_MIN_HEIGHT:
        return (
            f"照片分辨率过低（{width}×{height}），制卡至少需要 {PHOTO_MIN_WIDTH}×{PHOTO_MIN_HEIGHT} 像素。",
            None,
        )
    ratio = width / height
    if not PHOTO_RATIO[0] <= ratio <= PHOTO_RATIO[1]:
        return (
            "照片比例不符合要求：应为竖版证件照（宽:高约为 3:4 至 5:6），"
            f"当前为 {width}×{height}。请重新拍摄或裁剪。"
        ), None
    keep = PHOTO_KEEP_SIZE[::-1] if sideways else PHOTO_KEEP_SIZE
    if image_format == "JPEG":
        image.draft("RGB", keep)  # decode at 1/2, 1/4 or 1/8 scale where that still fills it
    try:
        image.load()
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
        return unreadable, None
    image.thumbnail(keep)  # at once, so that only the stored size stays in memory
    return None, ImageOps.exif_transpose(image)


def _too_many_pixels(size: tuple[int, int] | None, limit: int) -> str:
    found = f"（{size[0]}×{size[1]}）" if size else ""
    return (
        f"照片像素过大{found}，最多 {limit / 10_000:.0f} 万像素。"
        "请用手机的普通画质拍摄，或缩小后重新上传。"
    )


def person_set_photo(
    *, person: Person, acting_user, data: bytes, expected_version: int | None = None
) -> Person:
    """Check and keep a photo (re-encoded as JPEG, which also drops EXIF such as GPS)."""
    problem, image = photo_problem(data)
    if problem:
        raise ValidationError(problem)
    photo = _jpeg(image.convert("RGB"), max_size=(1200, 1600))
    thumbnail = _jpeg(image.convert("RGB"), max_size=(150, 190))
    with transaction.atomic():
        locked = locked_for_edit(person, acting_user, expected_version)
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
    if death_date > timezone.localdate():
        raise ValidationError("死亡日期不能晚于今天。")
    if not source.strip():
        raise ValidationError("请填写死亡信息来源。")
    with transaction.atomic():
        locked = locked_for_edit(person, acting_user, None)
        if locked.is_deceased:
            raise ValidationError("该人员已登记死亡。")
        before = snapshot(locked, ["vital_status", "death_date", "death_source", "death_note"])
        locked.vital_status = VitalStatus.DECEASED
        locked.death_date, locked.death_source, locked.death_note = death_date, source, note
        saved = save_audited(locked, before, acting_user, "roster.person.marked_deceased")
        cards_queue_cancellation(persons=[saved], acting_user=acting_user)
    return saved


def cards_queue_cancellation(*, persons: list[Person], acting_user) -> int:
    """Queue every live card of these (deceased) persons for 注销, once each."""
    by_pk = {p.pk: p for p in persons}
    pending = CancellationRequest.objects.filter(
        card=OuterRef("pk"), status=CancellationRequest.Status.PENDING
    )
    ids = list(by_pk)
    requests = []
    for start in range(0, len(ids), 500):
        cards = Card.objects.filter(
            person_id__in=ids[start : start + 500], status__in=LIVE_CARD_STATUSES
        ).exclude(Exists(pending))
        for card in cards.order_by("pk"):
            person = card.person = by_pk[card.person_id]
            reason = f"持卡人已死亡（{person.death_date:%Y-%m-%d}，{person.death_source}）"
            requests.append(
                CancellationRequest(card=card, reason=reason[:200], requested_by=acting_user)
            )
    CancellationRequest.objects.bulk_create(requests, batch_size=500)
    audit_record_many(
        actor=acting_user,
        action="issuance.cancellationrequest.created",
        changes=[(request, None, snapshot(request)) for request in requests],
    )
    return len(requests)


def person_undo_deceased(*, person: Person, acting_user, reason: str) -> Person:
    """Correct a wrong death record; needs a reason, withdraws pending cancellations."""
    if not reason.strip():
        raise ValidationError("撤销死亡登记必须说明原因。")
    with transaction.atomic():
        locked = locked_for_edit(person, acting_user, None)
        if not locked.is_deceased:
            raise ValidationError("该人员未登记死亡。")
        before = snapshot(locked, ["vital_status", "death_date", "death_source", "death_note"])
        locked.vital_status = VitalStatus.ALIVE
        locked.death_date, locked.death_source, locked.death_note = None, "", ""
        saved = save_audited(
            locked, before, acting_user, "roster.person.deceased_undone", note=reason
        )
        for request in CancellationRequest.objects.filter(
            card__person=saved, status=CancellationRequest.Status.PENDING
        ):
            request.status = CancellationRequest.Status.WITHDRAWN
            request.closed_at = timezone.now()
            request.close_note = f"撤销死亡登记：{reason}"[:200]
            request.save()
            audit_record(
                actor=acting_user,
                action="issuance.cancellationrequest.withdrawn",
                obj=request,
                after={"status": request.status},
                note=reason,
            )
    return saved
