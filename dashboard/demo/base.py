"""The seeder's shared state; each module beside it adds what it builds."""

from __future__ import annotations

import random
from datetime import date, datetime, time

from django.utils import timezone

from issuance.models import BankBranch
from roster.models import Township

from .data import GIVEN_NAMES, SURNAMES, YI_ELDER_NAMES, weighted


class DemoBase:
    """The state every part of the demo shares: one random stream, today, the staff."""

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
        # When the demo's ledger entries are recorded (each hashes it): now, once.
        self.recorded_at = timezone.now()
        self.tz = timezone.get_current_timezone()
        self.id_numbers: set[str] = set()
        self.card_numbers: set[str] = set()
        self.branches_all: list[BankBranch] = []

    # -- shared helpers --

    def _name(self, ethnicity: str, gender: str, birth_year: int) -> str:
        rng = self.rng
        surname = weighted(rng, SURNAMES.get(ethnicity, SURNAMES["汉族"]))
        if ethnicity == "彝族" and birth_year < 1965 and rng.random() < 0.25:
            return surname + rng.choice(YI_ELDER_NAMES[gender])
        generation = 0 if birth_year < 1960 else 1 if birth_year < 1990 else 2
        if birth_year >= 2005:
            generation = 3
        return surname + rng.choice(GIVEN_NAMES[gender][generation])

    def _moment(self, day: date) -> datetime:
        minutes = self.rng.randint(8 * 60 + 30, 17 * 60 + 30)
        return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.tz)
