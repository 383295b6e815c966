"""Times, durations, totals and place order as every page writes them."""

import datetime
import zoneinfo

import pytest

from dayao_sscard.natural import chinese_numeral_value, natural_key
from dayao_sscard.templatetags.display import day, duration, minus, sum_of, when

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def test_when_shows_the_countys_clock():
    moment = datetime.datetime(2026, 7, 2, 6, 5, 59, tzinfo=datetime.UTC)
    assert when(moment) == "2026-07-02 14:05"
    assert when(datetime.date(2026, 7, 2)) == "2026-07-02"
    assert when(None) == ""


def test_day_of_a_moment_is_its_local_date():
    late_evening_utc = datetime.datetime(2026, 7, 1, 17, 30, tzinfo=datetime.UTC)
    assert day(late_evening_utc) == "2026-07-02"
    assert day(datetime.date(2026, 7, 2)) == "2026-07-02"
    assert day("") == ""


@pytest.mark.parametrize(
    ("since", "today", "expected"),
    [
        ("2026-07-02", "2026-11-23", "4个月"),  # timesince says 4月，3周: read as April
        ("2026-07-02", "2026-07-02", "不到1天"),
        ("2026-07-02", "2026-07-07", "5天"),
        ("2026-07-02", "2026-07-25", "3周"),
        ("2026-07-02", "2026-08-01", "4周"),
        ("2026-07-02", "2026-08-02", "1个月"),
        ("2025-05-02", "2026-07-02", "1年2个月"),
        ("2024-07-02", "2026-07-02", "2年"),
    ],
)
def test_duration_in_chinese(since, today, expected):
    start, end = datetime.date.fromisoformat(since), datetime.date.fromisoformat(today)
    assert duration(start, end) == expected


def test_duration_of_a_moment_counts_local_days():
    moment = datetime.datetime(2026, 7, 1, 17, 0, tzinfo=datetime.UTC)  # 07-02 01:00 local
    assert duration(moment, datetime.date(2026, 7, 3)) == "1天"


def test_sum_of_and_minus_make_total_rows():
    rows = [{"n": 3}, {"n": 4}, {"n": None}]
    assert sum_of(rows, "n") == 7
    assert minus(17, 10) == 7


def test_groups_and_villages_sort_naturally():
    names = ["10组", "2组", "1组", "十一组", "三组", "第二村民小组", "三家村委会"]
    assert sorted(names, key=natural_key) == [
        "1组",
        "2组",
        "三组",
        "10组",
        "十一组",
        "三家村委会",  # 三 before 家 is a name, not a number
        "第二村民小组",
    ]


@pytest.mark.parametrize(
    ("numerals", "value"),
    [("三", 3), ("十", 10), ("十一", 11), ("二十", 20), ("二十三", 23), ("一百零五", 105)],
)
def test_chinese_numerals(numerals, value):
    assert chinese_numeral_value(numerals) == value
