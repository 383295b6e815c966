"""The demo's persons: who they are, what became of their card, which lists named them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from roster.id_numbers import compute_check_char
from roster.models import (
    CardClass,
    Category,
    Gender,
    ListEntry,
    ListKind,
    Person,
    PersonCategory,
    SourceList,
    Township,
    VerificationStatus,
    VitalStatus,
)
from roster.verification import person_problems

from .base import DemoBase
from .data import (
    ADULT_OCCUPATIONS,
    BATCH_SIZE,
    BIRTH_YEAR_BANDS,
    CATEGORY_SOURCES,
    COUNTY_CODE,
    DEATH_SOURCE,
    FAILURE_REASONS,
    FORCED_PLANS,
    GIVEN_NAMES,
    MADE_PLANS,
    TOWNSHIP_PLAN,
    UNREACHABLE,
    add_years,
    age_on,
    mobile,
    weighted,
)


@dataclass
class PersonPlan:
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


class Persons(DemoBase):
    """Persons with their class, verification, proxies, categories and source lists."""

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

    def _people(self) -> list[PersonPlan]:
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
    ) -> PersonPlan:
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
        age = age_on(birth, today)
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
            phone=mobile(rng) if rng.random() < 0.85 else "",
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

        plan = PersonPlan(
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
        return weighted(self.rng, options)

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
        return weighted(self.rng, ADULT_OCCUPATIONS)

    def _id_validity(self, person: Person, *, expired: bool) -> None:
        """Terms of GB 11643 ID cards: 5 years under 16, 10 to 25, 20 to 45, then long-term."""
        rng, today, birth = self.rng, self.today, person.birth_date
        if expired:
            until = today - timedelta(days=rng.randint(15, 300))
            term = 10 if age_on(birth, today) < 36 else 20
            person.id_valid_from = add_years(until, -term)
            person.id_valid_until = until
            person.id_valid_long_term = False
            return
        earliest = birth if age_on(birth, today) < 16 else add_years(birth, 16)
        valid_from = max(earliest, today - timedelta(days=rng.randint(30, 9 * 365)))
        while True:
            age_then = age_on(birth, valid_from)
            if age_then >= 46:
                person.id_valid_from, person.id_valid_until = valid_from, None
                person.id_valid_long_term = True
                return
            term = 5 if age_then < 16 else 10 if age_then < 26 else 20
            until = add_years(valid_from, term)
            if until > today:
                person.id_valid_from, person.id_valid_until = valid_from, until
                person.id_valid_long_term = False
                return
            valid_from = until

    def _plan(self, deceased: bool) -> str:
        r = self.rng.random()
        if r < 0.45:
            plan = weighted(self.rng, MADE_PLANS)
            return "cancelled" if deceased else plan
        if r < 0.53:
            if deceased:
                return "cancelled_applied"
            return "applied" if self.rng.random() < 0.4 else "in_production"
        if r < 0.65:
            return "failed"
        return "none"

    def _classify(self, plan: PersonPlan) -> None:
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

    def _verification(self, plan: PersonPlan) -> None:
        self._verification_drawn(plan)
        person = plan.person
        if person.verification_status == VerificationStatus.READY:
            # 待制卡 means nothing is missing (the counter makes cards for these): their photo
            # came through the 12333 mini-program; one still lacking an element is not ready.
            person.photo_on_12333 = True
            if person_problems(person, today=self.today):
                person.verification_status = VerificationStatus.PENDING

    def _verification_drawn(self, plan: PersonPlan) -> None:
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

    def _proxy(self, plan: PersonPlan) -> None:
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

    def _categories(self, plans: list[PersonPlan]) -> list[PersonCategory]:
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

    def _lists(self, plans: list[PersonPlan]) -> int:
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
