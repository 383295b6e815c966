"""What the demo county is made of: its townships and villages, banks, names,
and how often each card journey happens; and the small helpers drawing from them."""

from __future__ import annotations

import random
from datetime import date

from roster.models import Category, Gender, UnreachableReason

CAMPAIGN_NAME = "大姚县社会保障卡应发尽发工作方案（演示）"
SYSTEM_USERNAME = "system"
COUNTY_CODE = "532326"
BATCH_SIZE = 1000

# Relative population of the townships (金碧镇, the county seat, is by far the largest),
# and their 村委会/社区.
TOWNSHIP_PLAN: dict[str, tuple[int, tuple[str, ...]]] = {
    "532326101": (
        30,
        (
            "大河社区",
            "东街社区",
            "南街社区",
            "新城社区",
            "西山社区",
            "白鹤村委会",
            "石洞村委会",
            "三家村委会",
        ),
    ),
    "532326102": (
        9,
        ("石羊社区", "大坝村委会", "小坝村委会", "长坡村委会", "松子园村委会", "妙峰村委会"),
    ),
    "532326103": (5, ("六苴社区", "大平地村委会", "小河村委会", "倮目村委会", "他克村委会")),
    "532326104": (
        8,
        ("龙街社区", "大坪子村委会", "小龙街村委会", "河底村委会", "大村村委会", "马游村委会"),
    ),
    "532326105": (7, ("新街社区", "大井村委会", "三合村委会", "麻栗村委会", "中屯村委会")),
    "532326106": (6, ("赵家店社区", "岔河村委会", "白马口村委会", "麦地村委会", "大湾村委会")),
    "532326107": (
        6,
        ("三岔河社区", "麦地冲村委会", "白鹤塘村委会", "朵苴村委会", "松坪村委会", "大村村委会"),
    ),
    "532326108": (6, ("桂花社区", "大过口村委会", "四家村委会", "永丰村委会", "龙泉村委会")),
    "532326204": (5, ("昙华村委会", "大村村委会", "松子园村委会", "桃园村委会")),
    "532326206": (5, ("湾碧社区", "大村村委会", "小村村委会", "坝头村委会", "丫口村委会")),
    "532326207": (4, ("铁锁社区", "凹掌村委会", "大箐村委会", "西村村委会")),
    "532326208": (5, ("三台村委会", "多底河村委会", "老厂村委会", "赵家村委会", "大德村委会")),
}

RCC_NAME = "云南省农村信用社（大姚县联社）"
BANKS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (RCC_NAME, "农信社", ("农村信用社", "大姚县农村信用合作联社", "云南农信", "农信")),
    ("中国农业银行", "农行", ("农业银行", "中国农业银行大姚支行")),
    ("中国邮政储蓄银行", "邮储银行", ("邮政储蓄银行", "邮储", "邮政银行")),
    ("中国建设银行", "建行", ("建设银行",)),
    ("富滇银行", "富滇银行", ("富滇",)),
)
# Branch names omit the bank: ``str(branch)`` prefixes the bank's short name ("农行大姚支行").
COUNTY_SEAT_BRANCHES: tuple[tuple[str, str, str], ...] = (
    ("中国农业银行", "大姚支行", "大姚县金碧镇新城路"),
    ("中国邮政储蓄银行", "大姚县支行", "大姚县金碧镇东街"),
    ("中国建设银行", "大姚支行", "大姚县金碧镇金碧路"),
)
# Which bank a card is opened with. 富滇银行 has no branch in the county, so no cards.
CARD_BANK_WEIGHTS: tuple[tuple[str, int], ...] = (
    (RCC_NAME, 70),
    ("中国农业银行", 14),
    ("中国邮政储蓄银行", 10),
    ("中国建设银行", 6),
)

PROVINCE_CENTRE = "省卡管中心"
PROVINCE_LOCATION = "云南省社会保障卡制卡中心"
COUNTY_BUREAU = "大姚县人力资源和社会保障局"


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _weights(text: str) -> tuple[tuple[str, int], ...]:
    """``"李12 杨8"`` → ``(("李", 12), ("杨", 8))``: keeps the long name tables readable."""
    return tuple((item[0], int(item[1:])) for item in text.split())


SURNAMES: dict[str, tuple[tuple[str, int], ...]] = {
    "彝族": _weights("李12 杨8 罗8 普6 者4 起4 鲁4 毕4 施4 杞3 自3 苏3 字3 张2 王2 周1"),
    "汉族": _weights(
        "李10 张8 杨7 王7 陈5 刘5 赵4 周3 何3 朱3 段3 罗3 尹2 苏2 胡2 彭2 郭2 孙2 黄2 吴2 "
        "徐2 谢2 夏2 施1 毕1 鲁1 许1 杜1"
    ),
    "傈僳族": _weights("余3 李3 杨2 熊1 胡1 密1"),
    "傣族": _weights("刀3 李2 罗2 杨2 陶1"),
    "苗族": _weights("王3 杨3 熊2 陶2 李2 项1"),
    "回族": _weights("马6 纳2 沙2 丁2 白1"),
}
# Given names by generation (born before 1960, 1960–1989, 1990–2004, from 2005).
GIVEN_NAMES: dict[str, tuple[tuple[str, ...], ...]] = {
    Gender.MALE: (
        _words(
            "建国 国华 正荣 文贵 有才 发祥 开明 德明 学文 家福 兴才 绍康 光明 荣华 世昌 国富 正华 "
            "永昌"
        ),
        _words(
            "伟 勇 强 军 涛 斌 磊 海 建华 云龙 志明 光辉 德华 金平 文明 云飞 绍华 志华 正文 永红"
        ),
        _words("鹏 杰 浩 俊 宇 家豪 俊杰 文杰 云峰 志强 子明 天宇 明辉 晓东 海龙"),
        _words("浩然 宇轩 子豪 宇航 子轩 浩宇 梓豪 思源 博文 一鸣 晨阳 天佑 明轩 俊熙"),
    ),
    Gender.FEMALE: (
        _words("秀英 桂英 玉兰 秀兰 桂芬 琼芬 玉芬 翠英 凤英 兰芬 会芬 春梅 美英 文秀 正芬 秀珍"),
        _words("丽 艳 敏 燕 娟 丽华 春艳 海燕 红梅 晓燕 丽萍 云仙 琼 美玲 金凤 兰英 桂兰"),
        _words("婷 倩 雪 丹 佳 思雨 雨婷 丽娟 晓丽 春燕 梦瑶 玉婷 雪梅 佳丽"),
        _words("梓萱 欣怡 子涵 雨涵 诗琪 可馨 思彤 雨桐 紫涵 佳怡 欣悦 梦琪 艺涵 若曦"),
    ),
}
# Older 彝族 people often carry a traditional 阿- name.
YI_ELDER_NAMES: dict[str, tuple[str, ...]] = {
    Gender.MALE: ("阿发", "阿福", "阿贵", "阿才", "阿三", "阿四"),
    Gender.FEMALE: ("阿妹", "阿芬", "阿兰", "阿秀", "阿凤", "阿英"),
}
BIRTH_YEAR_BANDS: tuple[tuple[int, int, int], ...] = (
    (1930, 1939, 2),
    (1940, 1949, 5),
    (1950, 1959, 11),
    (1960, 1969, 16),
    (1970, 1979, 16),
    (1980, 1989, 15),
    (1990, 1999, 13),
    (2000, 2009, 10),
    (2010, 2019, 10),
    (2020, 2024, 4),
)
MOBILE_PREFIXES = _words(
    "130 131 132 133 135 136 137 138 139 150 151 152 153 155 156 157 158 159 177 180 181 182 "
    "183 185 186 187 188 189 191 199"
)
ADULT_OCCUPATIONS: tuple[tuple[str, int], ...] = (
    ("农民", 55),
    ("务工", 25),
    ("个体", 10),
    ("灵活就业", 5),
    ("机关事业单位职工", 3),
    ("教师", 2),
)
FAILURE_REASONS = (
    "照片不合格",
    "身份证件信息与公安不一致",
    "银行开户失败：手机号码无效",
    "证件已过期",
)
# Why a person cannot be reached, and how a failed second issuance reads on the ledger.
UNREACHABLE: tuple[tuple[str, str], ...] = (
    (UnreachableReason.WORKING_ELSEWHERE, "持卡人长期外出务工，多次联系未果"),
    (UnreachableReason.MOVED_AWAY, "持卡人已迁出本县"),
    (UnreachableReason.REFUSED, "持卡人拒绝领取"),
)
CATEGORY_SOURCES = {
    Category.MINIMUM_LIVING: "县民政局低保对象名单",
    Category.EXTREME_POVERTY: "县民政局特困供养人员名单",
    Category.DISABLED: "县残联持证残疾人名单",
    Category.SUBSIDY_RECIPIENT: "县农业农村局惠民惠农补贴对象名单",
}
DEATH_SOURCE = "民政火化信息"

# What happens to a card_made person's card, and how often.
MADE_PLANS: tuple[tuple[str, int], ...] = (
    ("activated", 38),
    ("activated_after_dormant", 5),
    ("instant", 5),
    ("issued", 20),
    ("in_stock", 15),
    ("in_transit", 4),
    ("dormant", 8),
    ("recovered", 3),
    ("replaced", 2),
)
# Small counts would otherwise miss a status; these people get one each.
FORCED_PLANS: tuple[str, ...] = (
    "applied",
    "in_production",
    "failed",
    "in_stock",
    "in_transit",
    "issued",
    "activated",
    "dormant",
    "recovered",
    "cancelled",
)


def weighted(rng: random.Random, options: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
