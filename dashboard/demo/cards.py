"""Cards and their custody ledgers: each card's journey composed step by step."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace

from django.utils import timezone

from issuance.chain import card_fold, card_state_apply, entry_seal
from issuance.models import (
    Bank,
    BankBranch,
    Card,
    CustodyKind,
    IssueMethod,
    LedgerEntry,
    LedgerEvent,
    ProductionType,
)
from issuance.states import next_status, replay
from roster.models import Person, Township

from .base import DemoBase
from .data import (
    CARD_BANK_WEIGHTS,
    COUNTY_BUREAU,
    DEATH_SOURCE,
    PROVINCE_CENTRE,
    PROVINCE_LOCATION,
    weighted,
)
from .persons import PersonPlan


@dataclass
class Step:
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
class Journey:
    """One card's ledger in the making; refuses any step ``issuance.states`` forbids.

    ``gap`` is the (min, max) number of days since the previous step; 0 means
    minutes later, in the same visit.
    """

    steps: list[Step] = field(default_factory=list)
    status: str = ""
    party: str = ""
    kind: str = CustodyKind.NONE

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
    ) -> None:
        following = next_status(self.status, event)
        if following is None:
            raise RuntimeError(f"演示数据流程错误：“{event}”不能发生在“{self.status or '无'}”之后")
        moves = kind is not None
        if moves:
            if from_party is None:
                from_party = self.party
            # Where the card is kept, and by whom, is the fold of these steps
            # (``issuance.chain``), as for every card.
            self.party = to
            self.kind = kind
        self.steps.append(
            Step(
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
class CardDraft:
    person: Person
    bank: Bank
    branch: BankBranch
    production_type: str
    journey: Journey
    failure_reason: str = ""
    times: list[datetime] = field(default_factory=list)
    activation_note: str = ""


class Cards(DemoBase):
    """Each person's cards as ledger journeys, checked against ``issuance.states``."""

    def _bank_and_branch(self, township: Township) -> tuple[Bank, BankBranch]:
        bank_name = weighted(self.rng, CARD_BANK_WEIGHTS)
        by_township = self.branches[bank_name]
        branch = by_township.get(township.pk) or next(iter(by_township.values()))
        return self.banks[bank_name], branch

    def _draft(self, plan: PersonPlan, *, instant: bool = False) -> CardDraft:
        bank, branch = self._bank_and_branch(plan.person.township)
        return CardDraft(
            person=plan.person,
            bank=bank,
            branch=branch,
            production_type=ProductionType.INSTANT if instant else ProductionType.BATCH,
            journey=Journey(),
        )

    def _cards_for(self, plan: PersonPlan) -> list[CardDraft]:
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

    def _apply(self, draft: CardDraft, plan: PersonPlan, *, note: str = "") -> None:
        township = plan.person.township
        draft.journey.add(
            LedgerEvent.APPLIED,
            kind=CustodyKind.NONE,
            responsible=self.rng.choice(self.staff.township[township.pk]),
            note=note or f"第{self.rng.randint(1, 3)}批未制卡人员名单，批量申领",
        )

    def _start_production(self, draft: CardDraft, *, always: bool = False) -> None:
        if always or self.rng.random() < 0.75:
            draft.journey.add(
                LedgerEvent.PRODUCTION_STARTED,
                gap=(1, 6),
                note="申领数据已报送省卡管中心批量制卡",
            )

    def _instant(self, plan: PersonPlan, *, note: str = "") -> CardDraft:
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

    def _made(self, draft: CardDraft, plan: PersonPlan, kind: str) -> int:
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
                else weighted(
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
            where = weighted(rng, (("bank", 35), ("township", 35), ("village", 30)))
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

    def _route_to(self, draft: CardDraft, plan: PersonPlan, where: str) -> None:
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
        self, draft: CardDraft, plan: PersonPlan, leg: str
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

    def _leg(self, draft: CardDraft, plan: PersonPlan, leg: str, *, arrive: bool = True) -> None:
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

    def _issue(self, draft: CardDraft, plan: PersonPlan, where: str) -> None:
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
            responsible=responsible,
            signee=person.name,
            method=method,
            face_to_face=True,
            note="本人签收",
        )

    def _activate(
        self,
        draft: CardDraft,
        plan: PersonPlan,
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

    def _cancel_after_death(self, draft: CardDraft, plan: PersonPlan) -> None:
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

    def _schedule(self, draft: CardDraft, *, end_days_ago: int) -> None:
        end = self._moment(self.today - timedelta(days=max(1, end_days_ago)))
        self._schedule_from(draft, end)

    def _schedule_before(self, draft: CardDraft, later: CardDraft, *, gap_days: int) -> None:
        """Put ``draft`` just before the first event of ``later`` (a replaced or failed card)."""
        first = later.times[0]
        if gap_days:
            end = self._moment(first.date() - timedelta(days=gap_days))
        else:
            end = first - timedelta(minutes=self.rng.randint(15, 60))
        self._schedule_from(draft, end)

    def _schedule_from(self, draft: CardDraft, end: datetime) -> None:
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

    def _card_row(self, draft: CardDraft) -> Card:
        j = draft.journey
        status = replay([step.event for step in j.steps])
        if status != j.status or status != j.steps[-1].status_after:
            raise RuntimeError("演示数据流程错误：台账重放结果与卡片状态不一致")
        # The card is where its ledger says: the fold the ledger services apply.
        state = card_fold(
            SimpleNamespace(**vars(step), occurred_at=when)
            for step, when in zip(j.steps, draft.times, strict=True)
        )
        card = Card(
            person=draft.person,
            bank=draft.bank,
            production_type=draft.production_type,
            failure_reason=draft.failure_reason,
        )
        card_state_apply(card, state)
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

    def _entries(self, card: Card, draft: CardDraft) -> list[LedgerEntry]:
        """The card's entries, each chained to the one before (``issuance.chain``)."""
        entries, previous = [], ""
        for sequence, (step, when) in enumerate(
            zip(draft.journey.steps, draft.times, strict=True), start=1
        ):
            entry = LedgerEntry(
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
                # Every demo issuance and activation is to the holder, document in hand.
                identity_checked=step.event in (LedgerEvent.ISSUED, LedgerEvent.ACTIVATED),
                occurred_at=when,
                recorded_at=self.recorded_at,
                recorded_by=self.user,
                note=step.note,
            )
            previous = entry_seal(entry, previous).entry_hash
            entries.append(entry)
        return entries
