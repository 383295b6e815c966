"""Reference data of the demo: campaign, banks and branches, villages, staff names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from dayao_sscard.models import Campaign
from issuance.models import Bank, BankBranch, BranchTownship
from roster.models import Gender, Village

from .base import DemoBase
from .data import BANKS, CAMPAIGN_NAME, COUNTY_SEAT_BRANCHES, RCC_NAME, TOWNSHIP_PLAN


@dataclass
class Staff:
    """Named people who sign the ledger: county, township, village and bank staff."""

    county: list[str]
    township: dict[int, list[str]]
    village: dict[int, list[str]]
    bank: dict[int, list[str]]


class PlacesAndStaff(DemoBase):
    """The campaign, banks and branches, villages, and the staff who sign the ledger."""

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
        """Branches by bank name, then by township id (the county-seat ones under 金碧镇).

        Each 信用社 serves its township; a bank with one branch, at the county seat,
        serves the whole county from there.
        """
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
            self._serve(branch, [township])
        seat = self.townships[0]
        for bank_name, branch_name, address in COUNTY_SEAT_BRANCHES:
            branch, _ = BankBranch.objects.get_or_create(
                bank=self.banks[bank_name],
                name=branch_name,
                defaults={"township": seat, "address": address},
            )
            branches[bank_name] = {seat.pk: branch}
            self.branches_all.append(branch)
            self._serve(branch, self.townships)
        return branches

    @staticmethod
    def _serve(branch: BankBranch, townships) -> None:
        for township in townships:
            BranchTownship.objects.get_or_create(
                bank=branch.bank, township=township, defaults={"branch": branch}
            )

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

    def _staff(self) -> Staff:
        def names(n: int) -> list[str]:
            return [self._adult_name() for _ in range(n)]

        return Staff(
            county=names(3),
            township={t.pk: names(3) for t in self.townships},
            village={v.pk: names(2) for vs in self.villages.values() for v in vs},
            bank={b.pk: names(2) for b in self.branches_all},
        )

    def _adult_name(self) -> str:
        ethnicity = "彝族" if self.rng.random() < 0.35 else "汉族"
        gender = self.rng.choice((Gender.MALE, Gender.FEMALE))
        return self._name(ethnicity, gender, self.rng.randint(1965, 1998))
