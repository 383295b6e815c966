import pytest

from roster.models import County, Township
from roster.places import township_resolve, village_normalize_name

EXPECTED = {
    "532326101": "金碧镇",
    "532326102": "石羊镇",
    "532326103": "六苴镇",
    "532326104": "龙街镇",
    "532326105": "新街镇",
    "532326106": "赵家店镇",
    "532326107": "三岔河镇",
    "532326108": "桂花镇",
    "532326204": "昙华乡",
    "532326206": "湾碧傣族傈僳族乡",
    "532326207": "铁锁乡",
    "532326208": "三台乡",
}


@pytest.mark.django_db
def test_migrate_gives_exactly_the_twelve_townships():
    assert dict(Township.objects.values_list("code", "name")) == EXPECTED
    assert County.objects.get().code == "532326"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("金碧", "532326101"),
        ("金碧镇", "532326101"),
        (" 大姚县金碧镇 ", "532326101"),
        ("湾碧乡", "532326206"),
        ("湾碧傣族傈僳族自治乡", "532326206"),
        ("湾碧", "532326206"),
        ("三岔河", "532326107"),
        ("三台", "532326208"),
        ("三台乡", "532326208"),
        ("532326204", "532326204"),
        ("532326204000", "532326204"),
        ("新街乡", "532326105"),
        ("赵家店", "532326106"),
        ("昙华乡", "532326204"),
        ("铁锁", "532326207"),
    ],
)
def test_loose_township_names_resolve(text, code):
    assert township_resolve(text).code == code


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["", "昆明市", "三", "532399101", None])
def test_unknown_township_names_do_not_resolve(text):
    assert township_resolve(text) is None


def test_village_names_normalise():
    assert village_normalize_name(" 大河村民委员会 ") == "大河村委会"
    assert village_normalize_name("大河社区居委会") == "大河社区"
    assert village_normalize_name("石羊\u3000社区") == "石羊社区"
