"""What a person lacks of the nine account-opening elements (开户制卡九要素) and the
photo, said in Chinese, and what is stored of it with the person (``missing_bits``,
``walk_key``). Pure checks over a person's attributes: ``roster.models`` saves with them
(``Person.save``), so this module knows the person's model only by its fields.
"""

from dataclasses import dataclass
from datetime import date
from functools import reduce
from operator import or_

from django.db import models
from django.db.models import Q
from django.utils import timezone

from dayao_sscard.natural import natural_sort_text

from .id_numbers import birth_date_from_id, gender_from_id, try_normalize_id_number
from .validators import phone_problem


class IdType(models.TextChoices):
    RESIDENT_ID = "resident_id", "居民身份证"
    HMT_RESIDENCE_PERMIT = "hmt_residence_permit", "港澳台居民居住证"
    FOREIGN_PERMANENT = "foreign_permanent", "外国人永久居留身份证"


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


def person_problems(person, *, today: date | None = None) -> list[Problem]:
    """Everything that keeps this person from card-making, each said in Chinese."""
    return _problems(person, today or timezone.localdate())


def missing_elements(person) -> int:
    """The groups of ``person_problems`` that hold whatever the day, as ``MISSING_BITS``:
    what ``Person.missing_bits`` stores. An ID document that has expired, or is not valid yet,
    is a matter of the day the list is read, asked then (``document_out_of_date_q``)."""
    return reduce(or_, (MISSING_BITS[p.field] for p in _problems(person, None)), 0)


def walk_key(group_name: str, name: str) -> str:
    """``Person.walk_key``: the group as people count (2组 before 10组), then the name."""
    return (natural_sort_text(group_name) + name)[:255]


def person_derive(person) -> list[str]:
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


def _problems(person, today: date | None) -> list[Problem]:
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


def _nationality_problems(person, id_number: str | None) -> list[Problem]:
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


def _validity_problems(person, today: date | None) -> list[Problem]:
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
