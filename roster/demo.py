"""Demo data: a living 大姚县 for a first look at the system (``manage.py seed_demo``).

Everything is drawn from one ``random.Random(seed)``, so a seed always gives the same
county. Rows are written with ``bulk_create``; card ledgers are composed here and
checked against ``issuance.states`` instead of going through the per-card services,
which would take minutes for a few thousand cards.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from activation.models import Activation, ElectronicCardSigning
from dayao_sscard.audit import audit_record
from dayao_sscard.models import Campaign
from dayao_sscard.roles import Role
from issuance.models import (
    LIVE_CARD_STATUSES,
    Bank,
    BankBranch,
    Card,
    CardStatus,
    CustodyKind,
    IssueMethod,
    LedgerEntry,
    LedgerEvent,
    ProductionType,
)
from issuance.states import next_status, replay

from .id_numbers import compute_check_char
from .models import (
    CardClass,
    Category,
    Gender,
    ListEntry,
    ListKind,
    Person,
    PersonCategory,
    PersonClass,
    SourceList,
    Township,
    UnreachableReason,
    VerificationStatus,
    Village,
    VitalStatus,
)

__all__ = ["CAMPAIGN_NAME", "SYSTEM_USERNAME", "demo_seed"]

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


# --- small helpers -----------------------------------------------------------------


def _weighted(rng: random.Random, options: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


@dataclass
class _Staff:
    """Named people who sign the ledger: county, township, village and bank staff."""

    county: list[str]
    township: dict[int, list[str]]
    village: dict[int, list[str]]
    bank: dict[int, list[str]]


@dataclass
class _PersonPlan:
    person: Person
    age: int
    plan: str
    classified_at: datetime
    card_class: str = ""
    failure_reason: str = ""
    reapply: bool = False
    recovery_note: str = ""
    proxy_name: str = ""
    proxy_note: str = ""


@dataclass
class _Step:
    event: str
    status_before: str
    status_after: str
    gap: tuple[int, int]
    from_party: str
    to_party: str
    custody_kind: str
    location: str
    responsible_person: str
    signee: str
    method: str
    face_to_face: bool
    note: str


@dataclass
class _Journey:
    """One card's ledger in the making; refuses any step ``issuance.states`` forbids.

    ``gap`` is the (min, max) number of days since the previous step; 0 means
    minutes later, in the same visit.
    """

    steps: list[_Step] = field(default_factory=list)
    status: str = ""
    party: str = ""
    kind: str = CustodyKind.NONE
    location: str = ""
    custodian: str = ""
    custody_step: int | None = None

    def add(
        self,
        event: str,
        *,
        gap: tuple[int, int] = (1, 5),
        kind: str | None = None,
        to: str = "",
        location: str = "",
        responsible: str = "",
        signee: str = "",
        method: str = "",
        face_to_face: bool = False,
        note: str = "",
        from_party: str | None = None,
        keep_at: str | None = None,
    ) -> None:
        following = next_status(self.status, event)
        if following is None:
            raise RuntimeError(f"演示数据流程错误：“{event}”不能发生在“{self.status or '无'}”之后")
        moves = kind is not None
        if moves:
            if from_party is None:
                from_party = self.party
            self.party = to
            self.kind = kind
            self.location = location if keep_at is None else keep_at
            # The holder or proxy keeps the card; the responsible person only handed it over.
            if kind in (CustodyKind.HOLDER, CustodyKind.PROXY):
                self.custodian = to
            elif kind == CustodyKind.NONE:
                self.custodian = ""
            else:
                self.custodian = responsible or to
            self.custody_step = len(self.steps)
        self.steps.append(
            _Step(
                event=event,
                status_before=self.status,
                status_after=following,
                gap=gap,
                from_party=from_party or "",
                to_party=to,
                custody_kind=self.kind,
                location=location,
                responsible_person=responsible,
                signee=signee,
                method=method,
                face_to_face=face_to_face,
                note=note,
            )
        )
        self.status = following


@dataclass
class _CardDraft:
    person: Person
    bank: Bank
    branch: BankBranch
    production_type: str
    journey: _Journey
    failure_reason: str = ""
    times: list[datetime] = field(default_factory=list)
    activation_note: str = ""


# --- the service -------------------------------------------------------------------


def demo_seed(*, persons: int, seed: int, acting_user=None) -> dict:
    """Fill an empty database with a demo county; does nothing if any person exists.

    Returns counts for the summary; ``skipped`` is True when data was already there.
    """
    if persons < 1:
        raise ValueError("人数必须大于0。")
    with transaction.atomic():
        if Person.objects.exists():
            return {"skipped": True}
        townships = list(Township.objects.order_by("code"))
        if len(townships) != len(TOWNSHIP_PLAN):
            raise RuntimeError("缺少乡镇基础数据，请先执行 python manage.py migrate。")
        return _Seeder(
            rng=random.Random(seed),
            seed=seed,
            persons=persons,
            townships=townships,
            user=acting_user or _system_user(),
        ).run()


def _system_user() -> AbstractBaseUser:
    user_model = get_user_model()
    user = user_model.objects.filter(username=SYSTEM_USERNAME).first()
    if user is None:
        user = user_model(
            username=SYSTEM_USERNAME,
            display_name="系统",
            role=Role.COUNTY_ADMIN,
            is_active=False,
        )
        user.set_unusable_password()
        user.save()
    return user


class _Seeder:
    def __init__(
        self,
        *,
        rng: random.Random,
        seed: int,
        persons: int,
        townships: list[Township],
        user,
    ) -> None:
        self.rng = rng
        self.seed = seed
        self.person_count = persons
        self.townships = townships
        self.user = user
        self.today = timezone.localdate()
        self.tz = timezone.get_current_timezone()
        self.id_numbers: set[str] = set()
        self.card_numbers: set[str] = set()
        self.branches_all: list[BankBranch] = []

    # -- orchestration --

    def run(self) -> dict:
        campaign, campaign_created = self._campaign()
        self.banks = self._banks()
        self.branches = self._branches()
        self.villages = self._villages()
        self.staff = self._staff()

        plans = self._people()
        Person.objects.bulk_create([p.person for p in plans], batch_size=BATCH_SIZE)
        PersonClass.objects.bulk_create(
            [
                PersonClass(
                    person=p.person,
                    card_class=p.card_class,
                    failure_reason=p.failure_reason,
                    classified_at=p.classified_at,
                )
                for p in plans
            ],
            batch_size=BATCH_SIZE,
        )
        categories = self._categories(plans)
        PersonCategory.objects.bulk_create(categories, batch_size=BATCH_SIZE)

        drafts: list[_CardDraft] = []
        for plan in plans:
            drafts.extend(self._cards_for(plan))
        cards = [self._card_row(d) for d in drafts]
        Card.objects.bulk_create(cards, batch_size=BATCH_SIZE)
        entries = [e for card, d in zip(cards, drafts, strict=True) for e in self._entries(card, d)]
        LedgerEntry.objects.bulk_create(entries, batch_size=BATCH_SIZE)

        activations, signings = self._activations(cards, drafts)
        Activation.objects.bulk_create(activations, batch_size=BATCH_SIZE)
        ElectronicCardSigning.objects.bulk_create(signings, batch_size=BATCH_SIZE)
        listed = self._lists(plans)

        by_status = Counter(card.status for card in cards)
        counts = {
            "skipped": False,
            "seed": self.seed,
            "campaign": campaign.name,
            "campaign_created": campaign_created,
            "townships": len({p.person.township_id for p in plans}),
            "villages": sum(len(v) for v in self.villages.values()),
            "persons": len(plans),
            "deceased": sum(1 for p in plans if p.person.vital_status == VitalStatus.DECEASED),
            "categories": len(categories),
            "banks": len(self.banks),
            "branches": len(self.branches_all),
            "cards": len(cards),
            "ledger_entries": len(entries),
            "activations": len(activations),
            "electronic_cards": len(signings),
            "list_entries": listed,
            "card_status": {status.value: by_status.get(status.value, 0) for status in CardStatus},
        }
        audit_record(
            actor=self.user,
            action="roster.demo.seeded",
            obj=campaign,
            after=counts,
            note=f"生成演示数据（随机种子 {self.seed}，{len(plans)} 人）",
        )
        return counts

    def _lists(self, plans: list[_PersonPlan]) -> int:
        """The province/prefecture batches and a subsidy list that named these people.

        Everyone was on an unissued list (that is how the campaign found them);
        subsidy recipients also sit on a subsidy project's list.
        """
        batches = [
            SourceList.objects.create(
                kind=ListKind.UNISSUED,
                source=name,
                file_name=f"{name}（演示）.xlsx",
                file_sha256=f"demo-{self.seed}-{index}",
                imported_by=self.user,
            )
            for index, name in enumerate(("省第一批", "州第二批"))
        ]
        subsidy = SourceList.objects.create(
            kind=ListKind.SUBSIDY,
            source="耕地地力保护补贴",
            file_name="耕地地力保护补贴（演示）.csv",
            file_sha256=f"demo-{self.seed}-subsidy",
            imported_by=self.user,
        )
        recipients = set(
            PersonCategory.objects.filter(category=Category.SUBSIDY_RECIPIENT).values_list(
                "person_id", flat=True
            )
        )
        entries = []
        for row, plan in enumerate(plans, start=4):
            batch = batches[0] if self.rng.random() < 0.7 else batches[1]
            entries.append(
                ListEntry(source_list=batch, person=plan.person, sheet="名单", row_number=row)
            )
            if plan.person.pk in recipients:
                entries.append(
                    ListEntry(source_list=subsidy, person=plan.person, sheet="名单", row_number=row)
                )
        ListEntry.objects.bulk_create(entries, batch_size=BATCH_SIZE)
        return len(entries)

    # -- reference data --

    def _campaign(self) -> tuple[Campaign, bool]:
        # An administrator's own active campaign wins over the demo one.
        existing = Campaign.objects.filter(is_active=True).first()
        if existing is not None:
            return existing, False
        today = self.today
        campaign = Campaign.objects.create(
            name=CAMPAIGN_NAME,
            document_number="演示数据，非正式文件",
            starts_on=today - timedelta(days=30),
            compare_deadline=today - timedelta(days=20),
            verify_deadline=today - timedelta(days=5),
            produce_deadline=today + timedelta(days=10),
            distribute_deadline=today + timedelta(days=25),
            activate_deadline=today + timedelta(days=35),
            is_active=True,
        )
        return campaign, True

    def _banks(self) -> dict[str, Bank]:
        banks = {}
        for name, short_name, aliases in BANKS:
            bank, _ = Bank.objects.get_or_create(
                name=name, defaults={"short_name": short_name, "aliases": list(aliases)}
            )
            banks[name] = bank
        return banks

    def _branches(self) -> dict[str, dict[int, BankBranch]]:
        """Branches by bank name, then by township id (the county-seat ones under 金碧镇)."""
        rcc = self.banks[RCC_NAME]
        branches: dict[str, dict[int, BankBranch]] = {RCC_NAME: {}}
        for township in self.townships:
            branch, _ = BankBranch.objects.get_or_create(
                bank=rcc,
                name=f"{township.short_name}信用社",
                defaults={"township": township, "address": f"大姚县{township.name}集镇街道"},
            )
            branches[RCC_NAME][township.pk] = branch
            self.branches_all.append(branch)
        seat = self.townships[0]
        for bank_name, branch_name, address in COUNTY_SEAT_BRANCHES:
            branch, _ = BankBranch.objects.get_or_create(
                bank=self.banks[bank_name],
                name=branch_name,
                defaults={"township": seat, "address": address},
            )
            branches[bank_name] = {seat.pk: branch}
            self.branches_all.append(branch)
        return branches

    def _villages(self) -> dict[int, list[Village]]:
        villages: dict[int, list[Village]] = {}
        for township in self.townships:
            _, names = TOWNSHIP_PLAN[township.code]
            rows = []
            community_no, village_no = 0, 200
            for name in names:
                if name.endswith("社区"):
                    community_no += 1
                    suffix = community_no
                else:
                    village_no += 1
                    suffix = village_no
                village, _ = Village.objects.get_or_create(
                    township=township,
                    name=name,
                    defaults={"code": f"{township.code}{suffix:03d}"},
                )
                rows.append(village)
            villages[township.pk] = rows
        return villages

    def _staff(self) -> _Staff:
        def names(n: int) -> list[str]:
            return [self._adult_name() for _ in range(n)]

        return _Staff(
            county=names(3),
            township={t.pk: names(3) for t in self.townships},
            village={v.pk: names(2) for vs in self.villages.values() for v in vs},
            bank={b.pk: names(2) for b in self.branches_all},
        )

    def _adult_name(self) -> str:
        ethnicity = "彝族" if self.rng.random() < 0.35 else "汉族"
        gender = self.rng.choice((Gender.MALE, Gender.FEMALE))
        return self._name(ethnicity, gender, self.rng.randint(1965, 1998))

    # -- people --

    def _township_sizes(self) -> list[int]:
        """Persons per township, proportional to population; every township gets some."""
        weights = [TOWNSHIP_PLAN[t.code][0] for t in self.townships]
        total = sum(weights)
        n = self.person_count
        floor_min = 1 if n >= len(weights) else 0
        exact = [n * w / total for w in weights]
        sizes = [max(floor_min, int(x)) for x in exact]
        order = sorted(range(len(weights)), key=lambda i: exact[i] - int(exact[i]), reverse=True)
        i = 0
        while sum(sizes) < n:
            sizes[order[i % len(order)]] += 1
            i += 1
        while sum(sizes) > n:
            biggest = max(range(len(sizes)), key=lambda k: sizes[k])
            sizes[biggest] -= 1
        return sizes

    def _people(self) -> list[_PersonPlan]:
        rng = self.rng
        slots = [
            township
            for township, size in zip(self.townships, self._township_sizes(), strict=True)
            for _ in range(size)
        ]
        rng.shuffle(slots)
        forced_at = dict(
            zip(
                rng.sample(range(len(slots)), min(len(FORCED_PLANS), len(slots))),
                FORCED_PLANS,
                strict=False,
            )
        )
        village_weights = {
            t.pk: [rng.uniform(0.5, 1.6) for _ in self.villages[t.pk]] for t in self.townships
        }
        return [
            self._person(
                township,
                village_weights[township.pk],
                forced_at.get(index),
            )
            for index, township in enumerate(slots)
        ]

    def _person(
        self, township: Township, village_weights: list[float], forced: str | None
    ) -> _PersonPlan:
        rng = self.rng
        today = self.today
        village = rng.choices(self.villages[township.pk], weights=village_weights)[0]
        ethnicity = self._ethnicity(township)
        gender = Gender.MALE if rng.random() < 0.51 else Gender.FEMALE
        if forced:
            # Forced people are adults, so no proxy or guardian rule changes their plan.
            start, end = 1950, 2000
        else:
            start, end, _ = rng.choices(
                BIRTH_YEAR_BANDS, weights=[w for *_, w in BIRTH_YEAR_BANDS]
            )[0]
        birth = self._birth_date(start, end)
        age = _age(birth, today)
        id_number = self._id_number(birth, gender)
        group_no = rng.randint(1, 12)

        if forced is not None:
            deceased = forced == "cancelled"
        else:
            death_rate = 0.003 if age < 60 else 0.05 if age < 80 else 0.13
            deceased = rng.random() < death_rate

        person = Person(
            id_number=id_number,
            name=self._name(ethnicity, gender, birth.year),
            gender=gender,
            birth_date=birth,
            ethnicity=ethnicity,
            nationality="中国",
            occupation=self._occupation(age),
            address=f"大姚县{township.name}{village.name}{group_no}组",
            phone=_mobile(rng) if rng.random() < 0.85 else "",
            township=township,
            village=village,
            group_name=f"{group_no}组",
        )
        classified_at = self._moment(today - timedelta(days=rng.randint(20, 30)))
        self._id_validity(person, expired=False)
        if deceased:
            person.vital_status = VitalStatus.DECEASED
            person.death_date = today - timedelta(days=rng.randint(10, 400))
            person.death_source = DEATH_SOURCE
            person.death_note = "县民政局殡葬火化数据比对"

        plan = _PersonPlan(
            person=person,
            age=age,
            plan=forced or self._plan(deceased),
            classified_at=classified_at,
        )
        self._classify(plan)
        self._verification(plan)
        self._proxy(plan)
        return plan

    def _ethnicity(self, township: Township) -> str:
        if township.code == "532326206":
            # 湾碧傣族傈僳族乡 is where the county's 傣族 and 傈僳族 live.
            options = (("彝族", 30), ("汉族", 35), ("傣族", 15), ("傈僳族", 20))
        else:
            options = (
                ("彝族", 33),
                ("汉族", 61),
                ("傈僳族", 2),
                ("苗族", 1.5),
                ("回族", 1.5),
                ("傣族", 1),
            )
        return _weighted(self.rng, options)

    def _name(self, ethnicity: str, gender: str, birth_year: int) -> str:
        rng = self.rng
        surname = _weighted(rng, SURNAMES.get(ethnicity, SURNAMES["汉族"]))
        if ethnicity == "彝族" and birth_year < 1965 and rng.random() < 0.25:
            return surname + rng.choice(YI_ELDER_NAMES[gender])
        generation = 0 if birth_year < 1960 else 1 if birth_year < 1990 else 2
        if birth_year >= 2005:
            generation = 3
        return surname + rng.choice(GIVEN_NAMES[gender][generation])

    def _birth_date(self, start: int, end: int) -> date:
        first = date(start, 1, 1)
        last = min(date(end, 12, 31), self.today - timedelta(days=1))
        return first + timedelta(days=self.rng.randint(0, (last - first).days))

    def _id_number(self, birth: date, gender: str) -> str:
        parity = 1 if gender == Gender.MALE else 0
        while True:
            sequence = self.rng.randrange(500) * 2 + parity
            body = f"{COUNTY_CODE}{birth:%Y%m%d}{sequence:03d}"
            number = body + compute_check_char(body)
            if number not in self.id_numbers:
                self.id_numbers.add(number)
                return number

    def _occupation(self, age: int) -> str:
        if age < 6:
            return "学龄前儿童"
        if age < 18 or (age < 23 and self.rng.random() < 0.7):
            return "学生"
        if age >= 60:
            return "退休" if self.rng.random() < 0.2 else "农民"
        return _weighted(self.rng, ADULT_OCCUPATIONS)

    def _id_validity(self, person: Person, *, expired: bool) -> None:
        """Terms of GB 11643 ID cards: 5 years under 16, 10 to 25, 20 to 45, then long-term."""
        rng, today, birth = self.rng, self.today, person.birth_date
        if expired:
            until = today - timedelta(days=rng.randint(15, 300))
            term = 10 if _age(birth, today) < 36 else 20
            person.id_valid_from = _add_years(until, -term)
            person.id_valid_until = until
            person.id_valid_long_term = False
            return
        earliest = birth if _age(birth, today) < 16 else _add_years(birth, 16)
        valid_from = max(earliest, today - timedelta(days=rng.randint(30, 9 * 365)))
        while True:
            age_then = _age(birth, valid_from)
            if age_then >= 46:
                person.id_valid_from, person.id_valid_until = valid_from, None
                person.id_valid_long_term = True
                return
            term = 5 if age_then < 16 else 10 if age_then < 26 else 20
            until = _add_years(valid_from, term)
            if until > today:
                person.id_valid_from, person.id_valid_until = valid_from, until
                person.id_valid_long_term = False
                return
            valid_from = until

    def _plan(self, deceased: bool) -> str:
        r = self.rng.random()
        if r < 0.45:
            plan = _weighted(self.rng, MADE_PLANS)
            return "cancelled" if deceased else plan
        if r < 0.53:
            if deceased:
                return "cancelled_applied"
            return "applied" if self.rng.random() < 0.4 else "in_production"
        if r < 0.65:
            return "failed"
        return "none"

    def _classify(self, plan: _PersonPlan) -> None:
        person = plan.person
        if plan.plan in ("applied", "in_production", "cancelled_applied"):
            plan.card_class = CardClass.IN_PRODUCTION
        elif plan.plan == "failed":
            plan.card_class = CardClass.CARD_FAILED
            reasons = FAILURE_REASONS if plan.age >= 16 else FAILURE_REASONS[:3]
            reason = self.rng.choice(reasons)
            plan.failure_reason = reason
            if reason == "证件已过期":
                self._id_validity(person, expired=True)
            elif reason.endswith("手机号码无效"):
                person.phone = ""
            plan.reapply = person.is_deceased is False and self.rng.random() < 0.15
        elif plan.plan == "none":
            plan.card_class = CardClass.NO_CARD_INFO
        else:
            plan.card_class = CardClass.CARD_MADE

    def _verification(self, plan: _PersonPlan) -> None:
        person, rng = plan.person, self.rng
        if plan.plan == "recovered":
            key, note = rng.choice(UNREACHABLE)
            person.verification_status = VerificationStatus.UNREACHABLE
            person.unreachable_reason = key
            person.unreachable_note = note
            plan.recovery_note = f"二次发放未成功：{note}，已回收登记"
            return
        if plan.reapply:
            person.verification_status = VerificationStatus.READY
            return
        r = rng.random()
        if r < 0.07 and not person.is_deceased:
            person.verification_status = VerificationStatus.UNREACHABLE
            person.unreachable_reason = rng.choice(UNREACHABLE)[0]
        elif r < 0.27:
            person.verification_status = VerificationStatus.READY
        else:
            person.verification_status = VerificationStatus.PENDING

    def _proxy(self, plan: _PersonPlan) -> None:
        """Minors' cards go to a guardian; some very old people entrust a relative in writing."""
        person, rng = plan.person, self.rng
        surname = person.name[0]
        if plan.age < 16:
            guardian = surname + rng.choice(GIVEN_NAMES[rng.choice(list(Gender))][1])
            plan.proxy_name = guardian
            plan.proxy_note = f"未成年人，由监护人{guardian}代领，监护关系已核实"
        elif plan.age >= 85 and rng.random() < 0.5:
            relative = surname + rng.choice(GIVEN_NAMES[rng.choice(list(Gender))][1])
            plan.proxy_name = relative
            plan.proxy_note = (
                f"持卡人年老行动不便，凭书面委托书由{relative}代领，已经乡镇社保中心审批"
            )
        if plan.proxy_name and plan.plan in (
            "activated",
            "activated_after_dormant",
            "instant",
            "replaced",
        ):
            # Activation is face to face with the holder; a proxy only collects the card.
            plan.plan = "issued"

    def _categories(self, plans: list[_PersonPlan]) -> list[PersonCategory]:
        rng = self.rng
        rows = []
        for plan in plans:
            chosen = []
            disabled = rng.random() < 0.05
            if disabled:
                chosen.append(Category.DISABLED)
            if rng.random() < (0.15 if disabled or plan.age >= 70 else 0.07):
                chosen.append(Category.MINIMUM_LIVING)
            if plan.age >= 60 and rng.random() < (0.12 if disabled else 0.03):
                chosen.append(Category.EXTREME_POVERTY)
            if plan.age >= 18 and rng.random() < 0.35:
                chosen.append(Category.SUBSIDY_RECIPIENT)
            rows.extend(
                PersonCategory(person=plan.person, category=c, source=CATEGORY_SOURCES[c])
                for c in chosen
            )
        return rows

    # -- cards --

    def _bank_and_branch(self, township: Township) -> tuple[Bank, BankBranch]:
        bank_name = _weighted(self.rng, CARD_BANK_WEIGHTS)
        by_township = self.branches[bank_name]
        branch = by_township.get(township.pk) or next(iter(by_township.values()))
        return self.banks[bank_name], branch

    def _draft(self, plan: _PersonPlan, *, instant: bool = False) -> _CardDraft:
        bank, branch = self._bank_and_branch(plan.person.township)
        return _CardDraft(
            person=plan.person,
            bank=bank,
            branch=branch,
            production_type=ProductionType.INSTANT if instant else ProductionType.BATCH,
            journey=_Journey(),
        )

    def _cards_for(self, plan: _PersonPlan) -> list[_CardDraft]:
        rng, kind = self.rng, plan.plan
        if kind == "none":
            return []
        if kind in ("applied", "in_production", "cancelled_applied"):
            draft = self._draft(plan)
            self._apply(draft, plan)
            if kind == "in_production":
                self._start_production(draft, always=True)
            if kind == "cancelled_applied":
                self._cancel_after_death(draft, plan)
            else:
                self._schedule(draft, end_days_ago=rng.randint(20, 40))
            return [draft]
        if kind == "failed":
            failed = self._draft(plan)
            self._apply(failed, plan)
            self._start_production(failed)
            failed.journey.add(LedgerEvent.PRODUCTION_FAILED, gap=(5, 20), note=plan.failure_reason)
            failed.failure_reason = plan.failure_reason
            if not plan.reapply:
                self._schedule(failed, end_days_ago=rng.randint(25, 120))
                return [failed]
            newer = self._draft(plan)
            self._apply(newer, plan, note="制卡失败原因已核实整改，重新申领")
            if rng.random() < 0.5:
                self._start_production(newer, always=True)
            self._schedule(newer, end_days_ago=rng.randint(1, 15))
            self._schedule_before(failed, newer, gap_days=rng.randint(5, 30))
            return [failed, newer]
        if kind == "instant":
            draft = self._instant(plan)
            self._schedule(draft, end_days_ago=rng.randint(1, 150))
            return [draft]
        if kind == "replaced":
            old = self._draft(plan)
            self._made(old, plan, rng.choice(("activated", "issued")))
            old.journey.add(
                LedgerEvent.CANCELLED,
                gap=(100, 600),
                kind=CustodyKind.NONE,
                note="持卡人报告卡片遗失，挂失后补换新卡，原卡注销",
            )
            newer = self._instant(plan, note="补换卡：网点即时制卡")
            self._schedule(newer, end_days_ago=rng.randint(1, 150))
            self._schedule_before(old, newer, gap_days=0)
            return [old, newer]
        if kind == "cancelled":
            draft = self._draft(plan)
            before = (
                "issued" if plan.proxy_name else rng.choice(("activated", "issued", "in_stock"))
            )
            self._made(draft, plan, before)
            self._cancel_after_death(draft, plan)
            return [draft]
        draft = self._draft(plan)
        end = self._made(draft, plan, kind)
        self._schedule(draft, end_days_ago=end)
        return [draft]

    def _apply(self, draft: _CardDraft, plan: _PersonPlan, *, note: str = "") -> None:
        township = plan.person.township
        draft.journey.add(
            LedgerEvent.APPLIED,
            kind=CustodyKind.NONE,
            responsible=self.rng.choice(self.staff.township[township.pk]),
            note=note or f"第{self.rng.randint(1, 3)}批未制卡人员名单，批量申领",
        )

    def _start_production(self, draft: _CardDraft, *, always: bool = False) -> None:
        if always or self.rng.random() < 0.75:
            draft.journey.add(
                LedgerEvent.PRODUCTION_STARTED,
                gap=(1, 6),
                note="申领数据已报送省卡管中心批量制卡",
            )

    def _instant(self, plan: _PersonPlan, *, note: str = "") -> _CardDraft:
        """即时制卡: made, issued and activated at the counter while the person waits."""
        draft = self._draft(plan, instant=True)
        j, name = draft.journey, plan.person.name
        branch = str(draft.branch)
        clerk = self.rng.choice(self.staff.bank[draft.branch.pk])
        j.add(
            LedgerEvent.APPLIED,
            kind=CustodyKind.NONE,
            responsible=clerk,
            note=note or "本人到网点申请即时制卡",
        )
        j.add(
            LedgerEvent.PRODUCED,
            gap=(0, 0),
            kind=CustodyKind.BANK,
            to=branch,
            location=f"{branch}即时制卡服务点",
            responsible=clerk,
            note="即时制卡完成",
        )
        j.add(
            LedgerEvent.ISSUED,
            gap=(0, 0),
            kind=CustodyKind.HOLDER,
            to=name,
            location=f"{branch}柜台",
            keep_at="持卡人本人保管",
            responsible=clerk,
            signee=name,
            method=IssueMethod.COUNTER,
            face_to_face=True,
        )
        j.add(
            LedgerEvent.ACTIVATED,
            gap=(0, 0),
            location=f"{branch}柜台",
            responsible=clerk,
            signee=name,
            face_to_face=True,
            note="本人持身份证件当面激活金融功能",
        )
        return draft

    def _made(self, draft: _CardDraft, plan: _PersonPlan, kind: str) -> int:
        """Compose a batch-made card's journey ending in ``kind``; returns days since its end."""
        rng = self.rng
        self._apply(draft, plan)
        self._start_production(draft)
        j = draft.journey
        j.add(
            LedgerEvent.PRODUCED,
            gap=(7, 25),
            kind=CustodyKind.PROVINCE,
            to=PROVINCE_CENTRE,
            location=PROVINCE_LOCATION,
            responsible="省卡管中心制卡组",
            note="批量制卡完成",
        )
        if kind == "in_transit":
            legs = rng.choice((["bank"], ["bank", "township"], ["bank", "township", "village"]))
            if len(legs) > 1 and rng.random() < 0.3:
                legs.insert(1, "county")
            for leg in legs[:-1]:
                self._leg(draft, plan, leg)
            self._leg(draft, plan, legs[-1], arrive=False)
            return rng.randint(1, 10)

        if kind in ("in_stock", "recovered"):
            where = (
                rng.choice(("township", "village"))
                if kind == "recovered"
                else _weighted(
                    rng, (("township", 40), ("village", 35), ("bank", 15), ("county", 10))
                )
            )
        elif kind == "dormant" and rng.random() < 0.25:
            where = rng.choice(("township", "bank"))
            self._route_to(draft, plan, where)
            j.add(
                LedgerEvent.MARKED_DORMANT,
                gap=(180, 400),
                note="制卡后长期无人领取，经核查认定为睡眠卡（库存）",
            )
            return rng.randint(30, 300)
        else:
            where = _weighted(rng, (("bank", 35), ("township", 35), ("village", 30)))
        self._route_to(draft, plan, where)

        if kind == "in_stock":
            return rng.randint(3, 150)
        if kind == "recovered":
            if rng.random() < 0.5:
                j.add(
                    LedgerEvent.MARKED_DORMANT,
                    gap=(180, 400),
                    note="制卡后长期无人领取，经核查认定为睡眠卡（库存）",
                )
            centre = f"{plan.person.township.name}社保中心"
            j.add(
                LedgerEvent.RECOVERED,
                gap=(30, 120),
                kind=CustodyKind.TOWNSHIP,
                to=centre,
                location=f"{centre}卡片保管柜",
                responsible=rng.choice(self.staff.township[plan.person.township_id]),
                note=plan.recovery_note or "二次发放未成功：持卡人拒绝领取，已回收登记",
            )
            return rng.randint(5, 90)

        self._issue(draft, plan, where)
        if kind == "issued":
            return rng.randint(3, 120)
        if kind == "dormant":
            j.add(
                LedgerEvent.MARKED_DORMANT,
                gap=(365, 540),
                note=f"发放后超过一年未激活、无交易，经{draft.bank}核查认定为睡眠卡",
            )
            return rng.randint(30, 300)
        if kind == "activated_after_dormant":
            j.add(
                LedgerEvent.MARKED_DORMANT,
                gap=(365, 540),
                note=f"发放后超过一年未激活、无交易，经{draft.bank}核查认定为睡眠卡",
            )
            self._activate(draft, plan, gap=(5, 90), reactivated=True)
            return rng.randint(1, 150)
        self._activate(draft, plan, gap=rng.choice(((0, 0), (1, 45))))
        return rng.randint(1, 150)

    def _route_to(self, draft: _CardDraft, plan: _PersonPlan, where: str) -> None:
        legs = {
            "bank": ["bank"],
            "county": ["bank", "county"],
            "township": ["bank", "township"],
            "village": ["bank", "township", "village"],
        }[where]
        if where in ("township", "village") and self.rng.random() < 0.3:
            legs.insert(1, "county")
        for leg in legs:
            self._leg(draft, plan, leg)

    def _holder_place(
        self, draft: _CardDraft, plan: _PersonPlan, leg: str
    ) -> tuple[str, str, str, str]:
        """(party, custody kind, storage place, responsible person) for one custodian."""
        rng, person = self.rng, plan.person
        if leg == "bank":
            branch = str(draft.branch)
            clerk = rng.choice(self.staff.bank[draft.branch.pk])
            return branch, CustodyKind.BANK, f"{branch}营业网点库房", clerk
        if leg == "county":
            return (
                COUNTY_BUREAU,
                CustodyKind.COUNTY,
                "县人社局社保卡服务窗口库房",
                rng.choice(self.staff.county),
            )
        if leg == "township":
            centre = f"{person.township.name}社保中心"
            staff = rng.choice(self.staff.township[person.township_id])
            return centre, CustodyKind.TOWNSHIP, f"{centre}卡片保管柜", staff
        village = person.village
        cadre = rng.choice(self.staff.village[village.pk])
        return village.name, CustodyKind.VILLAGE, f"{village.name}便民服务站", cadre

    def _leg(self, draft: _CardDraft, plan: _PersonPlan, leg: str, *, arrive: bool = True) -> None:
        j = draft.journey
        party, kind, location, responsible = self._holder_place(draft, plan, leg)
        sender = j.party
        j.add(
            LedgerEvent.HANDED_OVER,
            gap=(2, 10) if leg == "bank" else (1, 20),
            kind=kind,
            to=party,
            location=f"在途：{sender}→{party}",
            responsible=responsible,
            note="按批次清点交接，交接单双方签字" if leg != "bank" else "省卡管中心按批次寄送",
        )
        if arrive:
            j.add(
                LedgerEvent.RECEIVED,
                gap=(0, 2),
                kind=kind,
                to=party,
                from_party=sender,
                location=location,
                responsible=responsible,
                note="已清点入库",
            )

    def _issue(self, draft: _CardDraft, plan: _PersonPlan, where: str) -> None:
        rng, person = self.rng, plan.person
        _, _, location, responsible = self._holder_place(draft, plan, where)
        if where == "bank":
            method, location = IssueMethod.COUNTER, f"{draft.branch}柜台"
        elif where == "village" and rng.random() < 0.5:
            method = IssueMethod.DOOR_TO_DOOR
            location = f"持卡人家中（{person.village.name}{person.group_name}）"
        else:
            method = IssueMethod.ON_SITE
            location = location.replace("卡片保管柜", "集中发放点")
        if plan.proxy_name:
            draft.journey.add(
                LedgerEvent.ISSUED,
                gap=(1, 30),
                kind=CustodyKind.PROXY,
                to=plan.proxy_name,
                location=location,
                keep_at=f"经批准由{plan.proxy_name}代为保管",
                responsible=responsible,
                signee=plan.proxy_name,
                method=IssueMethod.PROXY,
                note=plan.proxy_note,
            )
            return
        draft.journey.add(
            LedgerEvent.ISSUED,
            gap=(1, 30),
            kind=CustodyKind.HOLDER,
            to=person.name,
            location=location,
            keep_at="持卡人本人保管",
            responsible=responsible,
            signee=person.name,
            method=method,
            face_to_face=True,
            note="本人签收",
        )

    def _activate(
        self,
        draft: _CardDraft,
        plan: _PersonPlan,
        *,
        gap: tuple[int, int],
        reactivated: bool = False,
    ) -> None:
        rng = self.rng
        branch = str(draft.branch)
        if rng.random() < 0.3 and plan.person.village is not None:
            location = f"{plan.person.village.name}（{branch}移动终端上门面签）"
            draft.activation_note = "银行工作人员携移动终端上门面签"
            note = "银行工作人员携移动终端上门，本人持身份证件当面激活金融功能"
        else:
            location = f"{branch}柜台"
            note = "本人持身份证件到网点当面激活金融功能"
        if reactivated:
            note = f"睡眠卡核查后二次激活：{note}"
        draft.journey.add(
            LedgerEvent.ACTIVATED,
            gap=gap,
            location=location,
            responsible=rng.choice(self.staff.bank[draft.branch.pk]),
            signee=plan.person.name,
            face_to_face=True,
            note=note,
        )

    def _cancel_after_death(self, draft: _CardDraft, plan: _PersonPlan) -> None:
        rng, death = self.rng, plan.person.death_date
        since_death = (self.today - death).days
        cancel_day = death + timedelta(days=rng.randint(3, max(3, min(60, since_death - 1))))
        after_death = (cancel_day - death).days
        draft.journey.add(
            LedgerEvent.CANCELLED,
            gap=(after_death + 1, after_death + 200),
            kind=CustodyKind.NONE,
            note=f"持卡人已死亡（{DEATH_SOURCE}比对），卡片注销",
        )
        self._schedule(draft, end_days_ago=(self.today - cancel_day).days)

    # -- time --

    def _moment(self, day: date) -> datetime:
        minutes = self.rng.randint(8 * 60 + 30, 17 * 60 + 30)
        return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.tz)

    def _schedule(self, draft: _CardDraft, *, end_days_ago: int) -> None:
        end = self._moment(self.today - timedelta(days=max(1, end_days_ago)))
        self._schedule_from(draft, end)

    def _schedule_before(self, draft: _CardDraft, later: _CardDraft, *, gap_days: int) -> None:
        """Put ``draft`` just before the first event of ``later`` (a replaced or failed card)."""
        first = later.times[0]
        if gap_days:
            end = self._moment(first.date() - timedelta(days=gap_days))
        else:
            end = first - timedelta(minutes=self.rng.randint(15, 60))
        self._schedule_from(draft, end)

    def _schedule_from(self, draft: _CardDraft, end: datetime) -> None:
        steps = draft.journey.steps
        times = [end]
        for step in reversed(steps[1:]):
            later = times[-1]
            days = self.rng.randint(*step.gap)
            if days == 0:
                earlier = later - timedelta(minutes=self.rng.randint(10, 90))
                opening = later.replace(hour=8, minute=0)
                if earlier < opening < later:
                    # Same visit, but not before the office opens.
                    earlier = opening + (later - opening) / 2
                times.append(earlier)
            else:
                times.append(self._moment(later.date() - timedelta(days=days)))
        draft.times = times[::-1]

    # -- rows --

    def _card_row(self, draft: _CardDraft) -> Card:
        j = draft.journey
        status = replay([step.event for step in j.steps])
        if status != j.status or status != j.steps[-1].status_after:
            raise RuntimeError("演示数据流程错误：台账重放结果与卡片状态不一致")
        card = Card(
            person=draft.person,
            bank=draft.bank,
            branch=draft.branch,
            production_type=draft.production_type,
            status=status,
            failure_reason=draft.failure_reason,
            custody_kind=j.kind,
            custodian=j.custodian,
            custody_location=j.location,
            custody_since=draft.times[j.custody_step] if j.custody_step is not None else None,
        )
        for step, when in zip(j.steps, draft.times, strict=True):
            if step.event == LedgerEvent.PRODUCED:
                card.made_on = timezone.localdate(when)
                card.card_number = self._card_number()
        return card

    def _card_number(self) -> str:
        while True:
            number = f"Y{self.rng.randrange(10**8):08d}"
            if number not in self.card_numbers:
                self.card_numbers.add(number)
                return number

    def _entries(self, card: Card, draft: _CardDraft) -> list[LedgerEntry]:
        return [
            LedgerEntry(
                card=card,
                sequence=sequence,
                event=step.event,
                status_before=step.status_before,
                status_after=step.status_after,
                from_party=step.from_party,
                to_party=step.to_party,
                custody_kind=step.custody_kind,
                location=step.location,
                responsible_person=step.responsible_person,
                signee=step.signee,
                method=step.method,
                face_to_face=step.face_to_face,
                occurred_at=when,
                recorded_by=self.user,
                note=step.note,
            )
            for sequence, (step, when) in enumerate(
                zip(draft.journey.steps, draft.times, strict=True), start=1
            )
        ]

    def _activations(
        self, cards: list[Card], drafts: list[_CardDraft]
    ) -> tuple[list[Activation], list[ElectronicCardSigning]]:
        rng = self.rng
        activations, signings = [], []
        signed: set[int] = set()
        for card, draft in zip(cards, drafts, strict=True):
            steps = draft.journey.steps
            activated_at = [
                when
                for step, when in zip(steps, draft.times, strict=True)
                if step.event == LedgerEvent.ACTIVATED
            ]
            if activated_at:
                activations.append(
                    Activation(
                        card=card,
                        activated_at=activated_at[-1],
                        branch=draft.branch,
                        face_to_face=True,
                        identity_checked=True,
                        recorded_by=self.user,
                        note=draft.activation_note,
                    )
                )
            person = card.person
            if person.is_deceased or card.status not in LIVE_CARD_STATUSES:
                continue
            if person.pk in signed:
                continue
            if card.status == CardStatus.ACTIVATED and rng.random() < 0.6:
                signings.append(
                    ElectronicCardSigning(
                        person=person,
                        signed_at=activated_at[-1],
                        channel="网点柜台",
                        recorded_by=self.user,
                    )
                )
                signed.add(person.pk)
            elif (
                card.status == CardStatus.ISSUED
                and steps[-1].signee == person.name
                and rng.random() < 0.1
            ):
                signings.append(
                    ElectronicCardSigning(
                        person=person,
                        signed_at=draft.times[-1] + timedelta(hours=2),
                        channel="云南人社12333小程序",
                        recorded_by=self.user,
                    )
                )
                signed.add(person.pk)
        return activations, signings
