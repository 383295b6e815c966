"""Demo data: a living 大姚县 for a first look at the system (``manage.py seed_demo``).

Everything is drawn from one ``random.Random(seed)``, so a seed always gives the same
county. Rows are written with ``bulk_create``; card ledgers are composed here and
checked against ``issuance.states`` instead of going through the per-card services,
which would take minutes for a few thousand cards.

By what it builds: ``places`` (campaign, banks, villages, staff), ``persons``,
``cards`` (ledger journeys), ``activations``; ``data`` holds the county's vocabulary
and ``base`` the shared state. ``demo_seed`` here runs them in order.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import F

from activation.models import Activation, ElectronicCardSigning
from dayao_sscard.audit import audit_record
from dayao_sscard.roles import Role
from issuance.models import Card, CardStatus, LedgerEntry, ProxyApproval
from roster.models import Person, PersonCategory, PersonClass, Township, VitalStatus
from roster.progress import figures_rebuild
from roster.verification import person_derive

from .activations import Activations
from .cards import CardDraft, Cards
from .data import BATCH_SIZE, CAMPAIGN_NAME, SYSTEM_USERNAME, TOWNSHIP_PLAN
from .history import HISTORY_DAYS, demo_progress_history
from .persons import Persons
from .places import PlacesAndStaff
from .proxies import ProxyApprovals

__all__ = ["CAMPAIGN_NAME", "HISTORY_DAYS", "SYSTEM_USERNAME", "demo_seed"]


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
        return Seeder(
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


class Seeder(PlacesAndStaff, Persons, Cards, Activations, ProxyApprovals):
    """Builds the whole county; the order of ``run`` is the order of the random draws."""

    def run(self) -> dict:
        campaign, campaign_created = self._campaign()
        self.banks = self._banks()
        self.branches = self._branches()
        self.villages = self._villages()
        self.staff = self._staff()

        plans = self._people()
        for plan in plans:
            person_derive(plan.person)
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

        drafts: list[CardDraft] = []
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
        approvals, added = self._proxy_approvals(plans, drafts, categories)
        PersonCategory.objects.bulk_create(added, batch_size=BATCH_SIZE)
        ProxyApproval.objects.bulk_create(approvals, batch_size=BATCH_SIZE)
        # Registered the day before it was approved (auto_now_add stamped the seeding).
        ProxyApproval.objects.filter(pk__in=[a.pk for a in approvals]).update(
            registered_at=F("approved_at") - timedelta(days=1)
        )

        # Written in bulk, without the per-person recounts: the county counted at once.
        figures_rebuild()
        snapshots = demo_progress_history()

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
            "categories": len(categories) + len(added),
            "proxy_approvals": len(approvals),
            "banks": len(self.banks),
            "branches": len(self.branches_all),
            "cards": len(cards),
            "ledger_entries": len(entries),
            "activations": len(activations),
            "electronic_cards": len(signings),
            "list_entries": listed,
            "progress_snapshots": snapshots,
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
