"""The nine account-opening elements (开户制卡九要素), photo and vital status:
what is missing or inconsistent, in Chinese. Pure checks: the writes are in ``services``.
"""

import io
from dataclasses import dataclass
from datetime import date
from functools import reduce
from operator import or_

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from dayao_sscard.natural import natural_sort_text

from .id_numbers import birth_date_from_id, gender_from_id, try_normalize_id_number
from .models import IdType, Person, VerificationStatus
from .validators import phone_problem


@dataclass(frozen=True)
class Problem:
    field: str
    message: str


# What can be missing or wrong, named by the element a collector fixes, in the order of
# the nine account-opening elements on the form, then the photo.
PROBLEM_GROUPS = {
    "name": "姓名",
    "identity": "性别、出生日期",
    "nationality": "国籍",
    "occupation": "职业",
    "address": "住所地或工作单位地址",
    "phone": "联系电话",
    "id_number": "证件号码",
    "id_validity": "证件有效期限",
    "photo": "照片",
}

# Each group's bit in ``Person.missing_bits``, in PROBLEM_GROUPS' order.
MISSING_BITS = {key: 1 << index for index, key in enumerate(PROBLEM_GROUPS)}

# The nine account-opening elements (开户制卡九要素) as the form shows them: the label,
# the person's fields that hold it, and the problem keys that concern it.
NINE_ELEMENTS = (
    ("name", "姓名", ("name",), ("name",)),
    ("gender", "性别", ("gender",), ("identity",)),
    ("nationality", "国籍", ("nationality",), ("nationality",)),
    ("occupation", "职业", ("occupation",), ("occupation",)),
    ("address", "住所地或工作单位地址", ("address",), ("address",)),
    ("phone", "联系电话", ("phone",), ("phone",)),
    ("id_type", "证件种类", ("id_type",), ()),
    ("id_number", "证件号码", (), ("id_number",)),
    (
        "id_validity",
        "证件有效期限",
        ("id_valid_from", "id_valid_until", "id_valid_long_term"),
        ("id_validity",),
    ),
)

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
    return _problems(person, today or timezone.localdate())


def missing_elements(person: Person) -> int:
    """The groups of ``person_problems`` that hold whatever the day, as ``MISSING_BITS``:
    what ``Person.missing_bits`` stores. An ID document that has expired, or is not valid yet,
    is a matter of the day the list is read, asked then (``document_out_of_date_q``)."""
    return reduce(or_, (MISSING_BITS[p.field] for p in _problems(person, None)), 0)


def walk_key(group_name: str, name: str) -> str:
    """``Person.walk_key``: the group as people count (2组 before 10组), then the name."""
    return (natural_sort_text(group_name) + name)[:255]


def person_derive(person: Person) -> list[str]:
    """Set ``missing_bits`` and ``walk_key`` from the person's fields; the names of those that
    changed. Every writer of persons calls it (``Person.save`` does)."""
    changed = []
    for name, value in (
        ("missing_bits", missing_elements(person)),
        ("walk_key", walk_key(person.group_name, person.name)),
    ):
        if getattr(person, name) != value:
            setattr(person, name, value)
            changed.append(name)
    return changed


def document_out_of_date_q(today: date) -> Q:
    """Persons whose ID document the day has put out of date (expired, or not valid yet):
    the part of the id_validity group that ``missing_bits`` cannot hold."""
    return Q(id_valid_long_term=False) & (Q(id_valid_from__gt=today) | Q(id_valid_until__lt=today))


def _problems(person: Person, today: date | None) -> list[Problem]:
    """``person_problems``; without the checks against the day when ``today`` is None."""
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


def _validity_problems(person: Person, today: date | None) -> list[Problem]:
    if person.id_valid_long_term:
        if not person.id_valid_from:
            return [Problem("id_validity", "缺少证件有效期起始日期")]
        return []
    if not person.id_valid_from or not person.id_valid_until:
        return [Problem("id_validity", "缺少证件有效期限")]
    if person.id_valid_until <= person.id_valid_from:
        return [Problem("id_validity", "证件有效期截止日期早于起始日期")]
    if today is None:
        return []
    if person.id_valid_from > today:
        return [Problem("id_validity", "证件有效期起始日期晚于今天")]
    if person.id_valid_until < today:
        return [Problem("id_validity", f"证件已于{person.id_valid_until:%Y年%m月%d日}过期")]
    return []


def verification_status_for(person: Person) -> str:
    if person.verification_status == VerificationStatus.UNREACHABLE:
        return VerificationStatus.UNREACHABLE
    return VerificationStatus.PENDING if person_problems(person) else VerificationStatus.READY


PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_MIN_WIDTH, PHOTO_MIN_HEIGHT = 358, 441  # the card's own photo size
PHOTO_KEEP_SIZE = (1200, 1600)  # what is stored; larger photos are scaled down to it
PHOTO_RATIO = (0.70, 0.90)  # width / height: portrait, like a 1-inch ID photo
_SIDEWAYS = (5, 6, 7, 8)  # EXIF orientations that swap width and height
# A PNG is always decoded whole (a JPEG at 1/2 … 1/8 scale): it gets a lower limit than
# settings.IMAGE_MAX_PIXELS. Phones shoot JPEG; a PNG is a scan or a studio's file.
PNG_MAX_PIXELS = 16_000_000


def image_pixel_limit(image_format: str) -> int:
    """How many pixels an uploaded image of this format may have (PNGs fewer)."""
    limit = settings.IMAGE_MAX_PIXELS
    return min(limit, PNG_MAX_PIXELS) if image_format == "PNG" else limit


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
    limit = image_pixel_limit(image_format)
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
