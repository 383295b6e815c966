"""Every completeness and consistency rule of the nine elements, photo and validity."""

import datetime

import pytest

from roster.id_numbers import birth_date_from_id, compute_check_char, gender_from_id
from roster.models import IdType, Person, VerificationStatus
from roster.verification import person_problems, photo_problem
from tests.roster.photos import photo_bytes

TODAY = datetime.date(2026, 11, 26)
BORN_1980_05_17 = "53232619800517001"  # the 17 digits before the check character; odd: a man


def complete_person(**changes) -> Person:
    # Not from make_id_number, which moves the date after many numbers: the cases below
    # need a man born 1980-05-17 (the person is never saved, so it need not be unique).
    id_number = BORN_1980_05_17 + compute_check_char(BORN_1980_05_17)
    person = Person(
        id_number=id_number,
        name="李明",
        gender=gender_from_id(id_number),
        birth_date=birth_date_from_id(id_number),
        nationality="中国",
        occupation="农民",
        address="大姚县金碧镇大河社区3组",
        phone="13887654321",
        id_type=IdType.RESIDENT_ID,
        id_valid_from=datetime.date(2015, 3, 1),
        id_valid_until=datetime.date(2035, 3, 1),
        photo_on_12333=True,
    )
    for name, value in changes.items():
        setattr(person, name, value)
    return person


def messages(person) -> list[str]:
    return [p.message for p in person_problems(person, today=TODAY)]


def test_a_complete_person_has_no_problems():
    assert messages(complete_person()) == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": " "}, "缺少姓名"),
        ({"gender": "female"}, "性别与身份证号码不一致"),
        ({"gender": ""}, "缺少性别"),
        ({"birth_date": datetime.date(1980, 5, 18)}, "出生日期与身份证号码不一致"),
        ({"nationality": ""}, "缺少国籍"),
        ({"nationality": "缅甸"}, "持居民身份证者国籍应为中国"),
        ({"occupation": ""}, "缺少职业"),
        ({"address": ""}, "缺少住所地或工作单位地址"),
        ({"phone": ""}, "缺少联系电话"),
        ({"phone": "1388765432"}, "联系电话格式不正确（应为11位手机号或带区号的固定电话）"),
        ({"phone": "23887654321"}, "联系电话格式不正确（应为11位手机号或带区号的固定电话）"),
        ({"id_valid_until": None}, "缺少证件有效期限"),
        ({"id_valid_until": datetime.date(2026, 11, 25)}, "证件已于2026年11月25日过期"),
        ({"id_valid_until": datetime.date(2014, 1, 1)}, "证件有效期截止日期早于起始日期"),
        (
            {
                "id_valid_from": datetime.date(2027, 1, 1),
                "id_valid_until": datetime.date(2037, 1, 1),
            },
            "证件有效期起始日期晚于今天",
        ),
        (
            {"id_valid_long_term": True, "id_valid_from": None, "id_valid_until": None},
            "缺少证件有效期起始日期",
        ),
        ({"photo_on_12333": False}, "缺少照片"),
    ],
)
def test_each_rule_says_what_is_wrong(changes, message):
    assert message in messages(complete_person(**changes))


def test_a_bad_check_character_is_reported():
    person = complete_person()
    last = person.id_number[-1]
    person.id_number = person.id_number[:-1] + ("0" if last != "0" else "1")
    assert "身份证号码校验位错误" in messages(person)


@pytest.mark.parametrize("phone", ["13887654321", "0878-6221234", "08786221234", "17278966800"])
def test_valid_phones(phone):
    assert messages(complete_person(phone=phone)) == []


def test_long_term_validity_is_fine():
    person = complete_person(id_valid_long_term=True, id_valid_until=None)
    assert messages(person) == []


def test_id_valid_until_today_is_still_valid():
    assert messages(complete_person(id_valid_until=TODAY)) == []


def test_nationality_must_fit_the_id_type():
    hk = complete_person(id_type=IdType.HMT_RESIDENCE_PERMIT)
    assert "港澳台居民居住证号码应以810000、820000或830000开头" in messages(hk)
    foreigner = complete_person(id_type=IdType.FOREIGN_PERMANENT)
    assert "持外国人永久居留身份证者国籍不应为中国" in messages(foreigner)
    assert messages(complete_person(id_type=IdType.FOREIGN_PERMANENT, nationality="缅甸")) == []


class TestPhotoRules:
    def test_a_portrait_jpeg_passes(self):
        problem, image = photo_problem(photo_bytes())
        assert problem is None and image.size == (480, 600)

    def test_png_passes(self):
        assert photo_problem(photo_bytes(fmt="PNG"))[0] is None

    def test_other_formats_are_refused(self):
        assert "请上传 JPEG 或 PNG" in photo_problem(photo_bytes(fmt="GIF"))[0]

    def test_not_an_image(self):
        assert "无法识别的图片" in photo_problem(b"%PDF-1.4" + b"x" * 5000)[0]

    def test_landscape_is_refused_with_the_reason(self):
        assert "竖版证件照" in photo_problem(photo_bytes(width=800, height=600))[0]

    def test_too_small_for_the_card(self):
        assert "分辨率过低" in photo_problem(photo_bytes(width=240, height=300))[0]

    def test_too_large_a_file(self):
        assert "超过10MB" in photo_problem(b"\xff" * (10 * 1024 * 1024 + 1))[0]

    def test_a_phone_photo_rotated_by_exif_is_judged_upright(self):
        # Stored landscape, but the camera says "rotate 90°": it is a portrait photo.
        problem, image = photo_problem(photo_bytes(width=600, height=480, exif_orientation=6))
        assert problem is None and image.size == (480, 600)


@pytest.mark.django_db
def test_ready_only_when_everything_is_complete(person_a):
    from roster.verification import verification_status_for

    assert verification_status_for(person_a) == VerificationStatus.PENDING
    person_a.photo_on_12333 = True
    person_a.id_valid_long_term = True
    person_a.id_valid_from = datetime.date(2010, 1, 1)
    assert verification_status_for(person_a) == VerificationStatus.READY
