"""The nine account-opening elements (开户制卡九要素), photo and vital status:
what is missing or inconsistent, in Chinese. Pure checks: the writes are in ``services``.
"""

import io

from django.conf import settings
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from .elements import MISSING_BITS as MISSING_BITS
from .elements import PROBLEM_GROUPS as PROBLEM_GROUPS
from .elements import Problem as Problem
from .elements import document_out_of_date_q as document_out_of_date_q
from .elements import missing_elements as missing_elements
from .elements import person_derive as person_derive
from .elements import person_problems
from .elements import walk_key as walk_key
from .models import Person, VerificationStatus

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
