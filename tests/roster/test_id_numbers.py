"""Tests for roster.id_numbers (pure Python: no database, no Django)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roster.id_numbers import (
    REASON_ADDRESS,
    REASON_CHARS,
    REASON_CHECK,
    REASON_DATE,
    REASON_DECIMAL,
    REASON_EMPTY,
    REASON_EXCEL,
    REASON_LENGTH,
    IdNumberError,
    age_on,
    birth_date_from_id,
    compute_check_char,
    gender_from_id,
    is_valid_id_number,
    mask_id_number,
    mask_phone,
    normalize_id_number,
    try_normalize_id_number,
)

TODAY = date(2025, 6, 30)

# Written out independently of the module so the check-char tests are not circular.
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
PROVINCE_CODES = tuple(
    str(code)
    for code in (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43)
    + (44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83)
)
NOISE = (" ", "\u3000", "\u00a0", "\u200b", "\u200c", "\u200d", "\ufeff", "\u2060", "\t", "\n")

# 大姚县 (532326) numbers; check chars computed by hand with WEIGHTS.
DAYAO_IDS = (
    "532326199001011235",
    "53232619850315002X",
    "532326200002290040",
    "532326197007071352",
    "532326199311200082",
    "532326201206050270",
)


def reference_check_char(first17: str) -> str:
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def with_check(first17: str) -> str:
    return first17 + reference_check_char(first17)


def reason_of(raw: object, **kwargs: object) -> str:
    with pytest.raises(IdNumberError) as excinfo:
        normalize_id_number(raw, **kwargs)
    assert str(excinfo.value) == excinfo.value.reason
    return excinfo.value.reason


# --- published and constructed examples ---


def test_gb11643_example_is_valid():
    assert normalize_id_number("11010519491231002X") == "11010519491231002X"
    assert is_valid_id_number("11010519491231002X")


def test_gb11643_1880_example_has_correct_check_but_predates_min_year():
    # 440524188001010014 is the standard's own example, but born 1880 < MIN_BIRTH_YEAR.
    assert compute_check_char("44052418800101001") == "4"
    assert reason_of("440524188001010014") == REASON_DATE


def test_legacy_15_digit_is_upgraded():
    assert normalize_id_number("110105491231002") == "11010519491231002X"
    assert normalize_id_number(110105491231002) == "11010519491231002X"


@pytest.mark.parametrize("id18", DAYAO_IDS)
def test_dayao_examples_are_valid(id18):
    assert normalize_id_number(id18, today=TODAY) == id18
    assert compute_check_char(id18[:17]) == id18[17]


def test_number_ending_000_with_correct_check_is_accepted():
    assert compute_check_char("53232619900101200") == "0"
    assert normalize_id_number("532326199001012000") == "532326199001012000"
    assert normalize_id_number(532326199001012000) == "532326199001012000"


def test_int_input_that_validates_is_accepted():
    assert normalize_id_number(532326199001011235) == "532326199001011235"


@pytest.mark.parametrize("prefix", ["810000", "820000", "830000", "710000"])
def test_hk_macau_taiwan_codes_are_valid(prefix):
    assert is_valid_id_number(with_check(f"{prefix}19900101123"))


# --- cleanup ---


@pytest.mark.parametrize(
    "raw",
    [
        "５３２３２６１９９００１０１１２３５",
        "532326\u30001990\u30000101\u30001235",
        "\u3000532326199001011235\u3000",
        "532326\u00a0199001011235",
        "\u200b532326\u200c19900101\u200d1235\ufeff",
        "\u2060532326199001011235",
        " 532326\t19900101\n1235\r\n",
        "'532326199001011235",
        "‘532326199001011235",
        "’532326199001011235",
        "`532326199001011235",
        "' 532326199001011235 ",
    ],
)
def test_cleanup(raw):
    assert normalize_id_number(raw) == "532326199001011235"


@pytest.mark.parametrize("x", ["x", "X", "Ｘ", "ｘ"])
def test_check_x_variants(x):
    assert normalize_id_number(f"11010519491231002{x}") == "11010519491231002X"


# --- refusals ---


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("532326199001011234", REASON_CHECK),
        ("110105194912310020", REASON_CHECK),
        (with_check("53232619900230123"), REASON_DATE),
        (with_check("53232619000229123"), REASON_DATE),
        (with_check("53232619901301123"), REASON_DATE),
        (with_check("53232619900100123"), REASON_DATE),
        (with_check("53232618891231123"), REASON_DATE),
        (with_check("53232620250701123"), REASON_DATE),
        ("110105490230002", REASON_DATE),
        (5.32326199001011e17, REASON_EXCEL),
        (532326199001011235.0, REASON_EXCEL),
        (110105491231002.0, REASON_EXCEL),
        ("5.32326E+17", REASON_EXCEL),
        ("5.32326199001011E+17", REASON_EXCEL),
        ("5.32326199001011e+17", REASON_EXCEL),
        (" 5.32326E+17 ", REASON_EXCEL),
        ("532326199001011000", REASON_EXCEL),
        (532326199001011000, REASON_EXCEL),
        ("532326199001011235.0", REASON_DECIMAL),
        ("110105491231002.0", REASON_DECIMAL),
        ("53232619900101123A", REASON_CHARS),
        ("5323261990O1011235", REASON_CHARS),
        ("53232619900X011235", REASON_CHARS),
        ("532326-19900101-1235", REASON_CHARS),
        ("11010549123100X", REASON_CHARS),
        (-532326199001011235, REASON_CHARS),
        (True, REASON_CHARS),
        ("53232619900101123", REASON_LENGTH),
        ("5323261990010112350", REASON_LENGTH),
        ("1101054912310021", REASON_LENGTH),
        ("X", REASON_LENGTH),
        (with_check("91232619900101123"), REASON_ADDRESS),
        (with_check("00232619900101123"), REASON_ADDRESS),
        (with_check("10232619900101123"), REASON_ADDRESS),
        (with_check("84000019900101123"), REASON_ADDRESS),
        ("910105491231002", REASON_ADDRESS),
        (None, REASON_EMPTY),
        ("", REASON_EMPTY),
        (" \u3000\u200b\t", REASON_EMPTY),
        (float("nan"), REASON_EMPTY),
    ],
)
def test_refusals(raw, reason):
    assert reason_of(raw, today=TODAY) == reason
    assert try_normalize_id_number(raw, today=TODAY) == (None, reason)
    assert not is_valid_id_number(raw, today=TODAY)


def test_reason_texts():
    assert REASON_CHECK == "校验位错误"
    assert REASON_DATE == "出生日期无效"
    assert REASON_LENGTH == "长度应为18位（或15位旧号码）"
    assert REASON_EXCEL == "疑似被Excel转换为科学计数法，尾数已丢失，无法恢复"
    assert REASON_CHARS == "含有非法字符"
    assert REASON_ADDRESS == "地址码无效"
    assert REASON_EMPTY == "为空"


def test_error_is_value_error():
    assert issubclass(IdNumberError, ValueError)


def test_future_date_against_real_today():
    today = date.today()
    born_today = with_check(f"532326{today:%Y%m%d}123")
    born_tomorrow = with_check(f"532326{today + timedelta(days=1):%Y%m%d}123")
    assert is_valid_id_number(born_today)
    assert try_normalize_id_number(born_tomorrow) == (None, REASON_DATE)


def test_today_boundary():
    assert is_valid_id_number(with_check("53232620250630123"), today=TODAY)
    assert not is_valid_id_number(with_check("53232620250701123"), today=TODAY)


def test_leap_day():
    assert is_valid_id_number(with_check("53232620000229123"))
    assert is_valid_id_number(with_check("53232619960229123"))
    assert not is_valid_id_number(with_check("53232619970229123"))


@pytest.mark.parametrize(
    "bad", ["1234567890123456", "1234567890123456789", "12345678901234567a", ""]
)
def test_compute_check_char_rejects_bad_input(bad):
    with pytest.raises(IdNumberError):
        compute_check_char(bad)


# --- derived data ---


def test_birth_date_and_gender():
    assert birth_date_from_id("11010519491231002X") == date(1949, 12, 31)
    assert gender_from_id("11010519491231002X") == "female"
    assert birth_date_from_id("532326197007071352") == date(1970, 7, 7)
    assert gender_from_id("532326197007071352") == "male"
    assert gender_from_id("110105491231002") == "female"


def test_derivation_rejects_invalid():
    with pytest.raises(IdNumberError):
        birth_date_from_id("532326199001011234")
    with pytest.raises(IdNumberError):
        gender_from_id("")


def test_age_on():
    id18 = "532326199001011235"
    assert age_on(id18, date(1990, 1, 1)) == 0
    assert age_on(id18, date(2020, 12, 31)) == 30
    assert age_on(id18, date(2021, 1, 1)) == 31
    leap = "532326200002290040"
    assert age_on(leap, date(2018, 2, 28)) == 17
    assert age_on(leap, date(2018, 3, 1)) == 18
    assert age_on(leap, date(2020, 2, 29)) == 20
    with pytest.raises(ValueError):
        age_on(id18, date(1989, 12, 31))


# --- masks ---


def test_mask_id_number():
    assert mask_id_number("532326199001011234") == "532326********1234"
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_id_number("") == ""
    assert mask_id_number(None) == ""
    assert mask_id_number("110105491231002") == "***********1002"
    assert mask_id_number("12345") == "*2345"
    assert mask_id_number("123") == "***"


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812341234", "138****1234"),
        ("138 1234 1234", "138****1234"),
        ("+86 138-1234-1234", "138****1234"),
        (13812341234, "138****1234"),
        ("0878-6221234", "0878-***1234"),
        ("08786221234", "0878-***1234"),
        ("010-62211234", "010-****1234"),
        ("01062211234", "010-****1234"),
        ("", ""),
        (None, ""),
        ("123", "***"),
        ("ext 5678", "***5678"),
    ],
)
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


# --- properties ---


@st.composite
def valid_ids(draw):
    province = draw(st.sampled_from(PROVINCE_CODES))
    county = draw(st.integers(0, 9999))
    born = draw(st.dates(min_value=date(1890, 1, 1), max_value=TODAY))
    seq = draw(st.integers(0, 999))
    first17 = f"{province}{county:04d}{born.year:04d}{born.month:02d}{born.day:02d}{seq:03d}"
    return first17 + compute_check_char(first17), born, seq


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_check_char_matches_reference(first17):
    assert compute_check_char(first17) == reference_check_char(first17)


@given(valid_ids())
def test_valid_round_trip(case):
    id18, born, seq = case
    assert normalize_id_number(id18, today=TODAY) == id18
    assert birth_date_from_id(id18) == born
    assert gender_from_id(id18) == ("male" if seq % 2 else "female")
    assert age_on(id18, born) == 0


@given(valid_ids(), st.integers(0, 16), st.integers(1, 9))
def test_single_digit_substitution_is_detected(case, position, delta):
    id18 = case[0]
    new_digit = str((int(id18[position]) + delta) % 10)
    mutated = id18[:position] + new_digit + id18[position + 1 :]
    assert reference_check_char(mutated[:17]) != mutated[17]
    assert not is_valid_id_number(mutated, today=TODAY)


@given(valid_ids(), st.sampled_from("0123456789X"))
def test_wrong_check_char_is_detected(case, check):
    id18 = case[0]
    if check != id18[17]:
        assert not is_valid_id_number(id18[:17] + check, today=TODAY)


@given(valid_ids(), st.lists(st.tuples(st.integers(0, 18), st.sampled_from(NOISE)), max_size=8))
def test_noise_does_not_change_result(case, noise):
    id18 = case[0]
    chars = list(id18)
    for position, char in sorted(noise, reverse=True):
        chars.insert(position, char)
    assert normalize_id_number("".join(chars), today=TODAY) == id18


@given(valid_ids(), st.lists(st.booleans(), min_size=18, max_size=18), st.booleans())
def test_full_width_and_apostrophe(case, widen, quote):
    id18 = case[0]
    noisy = "".join(
        (chr(0xFF10 + int(c)) if c.isdigit() else "ｘ") if w else c
        for c, w in zip(id18, widen, strict=True)
    )
    assert normalize_id_number(("'" if quote else "") + noisy, today=TODAY) == id18


@given(
    st.one_of(
        st.text(),
        st.text(alphabet="0123456789xX \u3000\u200b'.E+"),
        st.integers(),
        st.floats(),
        st.none(),
        valid_ids().map(lambda c: c[0]),
    )
)
def test_never_raises_and_is_idempotent(raw):
    value, reason = try_normalize_id_number(raw)
    assert (value is None) != (reason is None)
    if value is not None:
        assert len(value) == 18
        assert normalize_id_number(value) == value
        assert try_normalize_id_number(value) == (value, None)


@given(valid_ids())
def test_mask_hides_middle(case):
    id18 = case[0]
    masked = mask_id_number(id18)
    assert len(masked) == 18
    assert masked.startswith(id18[:6])
    assert masked.endswith(id18[-4:])
    assert id18[6:14] not in masked


@given(st.text(alphabet="0123456789", max_size=30))
def test_mask_never_reveals_more_than_last_four(digits):
    masked = mask_id_number(digits)
    assert len(masked) == len(digits)
    if len(digits) != 18:
        assert masked[:-4].strip("*") == ""


@given(st.one_of(st.text(), st.integers(), st.floats(), st.none()))
def test_masks_never_raise(value):
    assert isinstance(mask_id_number(value), str)
    assert isinstance(mask_phone(value), str)
