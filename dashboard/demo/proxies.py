"""The approvals behind the demo's proxy issuances (代管审批), so that every card the demo
shows in a proxy's hands stands on an approval valid on its day, as the ledger requires.

Drawn from a random stream of its own: the rest of the county stays what its seed made.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from dayao_sscard.roles import Role
from issuance.models import CustodyKind, LedgerEvent, ProxyApproval, ProxyGround
from roster.id_numbers import compute_check_char
from roster.models import Category, PersonCategory

from .base import DemoBase
from .cards import CardDraft
from .data import CATEGORY_SOURCES, COUNTY_CODE
from .persons import PersonPlan

APPROVER_USERNAME = "system_proxy_approver"
DOCUMENT_NAME = "proxy_documents/demo/书面委托书（演示）.pdf"
GROUND_OF = {
    Category.DISABLED: ProxyGround.DISABLED,
    Category.MINIMUM_LIVING: ProxyGround.MINIMUM_LIVING,
    Category.EXTREME_POVERTY: ProxyGround.EXTREME_POVERTY,
}


class ProxyApprovals(DemoBase):
    def _proxy_approvals(
        self,
        plans: list[PersonPlan],
        drafts: list[CardDraft],
        categories: list[PersonCategory],
    ) -> tuple[list[ProxyApproval], list[PersonCategory]]:
        """One approval per holder whose card went to a proxy; a very old holder who is in
        none of the allowed groups is given the disability certificate that justifies it."""
        rng = random.Random(self.seed * 7919 + 1)
        plan_of = {id(plan.person): plan for plan in plans}
        groups: dict[int, list[str]] = {}
        for row in categories:
            groups.setdefault(id(row.person), []).append(row.category)
        document = None
        approver = None
        approvals, added = [], []
        done: set[int] = set()
        for draft in drafts:
            step = _proxy_issue(draft)
            plan = plan_of.get(id(draft.person))
            if step is None or plan is None or id(draft.person) in done:
                continue
            done.add(id(draft.person))
            if document is None:
                document = default_storage.save(DOCUMENT_NAME, ContentFile(_blank_pdf()))
                approver = _approver()
            person = draft.person
            issued_on = draft.times[step].astimezone(self.tz).date()
            adult = _adult_on(person.birth_date)
            if issued_on < adult:
                ground = ProxyGround.MINOR
                until = min(adult - timedelta(days=1), issued_on + timedelta(days=3 * 365))
                relationship, born = "监护人（父母）", self._custodian_birth(person.birth_date, -28)
            else:
                allowed = [c for c in groups.get(id(person), []) if c in GROUND_OF]
                if not allowed:
                    added.append(
                        PersonCategory(
                            person=person,
                            category=Category.DISABLED,
                            source=CATEGORY_SOURCES[Category.DISABLED],
                        )
                    )
                    allowed = [Category.DISABLED]
                ground = GROUND_OF[allowed[0]]
                until = issued_on + timedelta(days=3 * 365)
                relationship, born = "子女", self._custodian_birth(person.birth_date, 30)
            since = issued_on - timedelta(days=rng.randint(3, 30))
            approved_at = datetime.combine(since, time(10, rng.randint(0, 59)), tzinfo=self.tz)
            approvals.append(
                ProxyApproval(
                    person=person,
                    ground=ground,
                    requested_by_name=plan.proxy_name,
                    request_reason=plan.proxy_note[:500],
                    document=document,
                    document_name="书面委托书（演示）.pdf",
                    custodian_name=plan.proxy_name,
                    custodian_id_number=self._custodian_id_number(rng, born),
                    custodian_relationship=relationship,
                    valid_from=since,
                    valid_until=max(until, issued_on),
                    registered_by=self.user,
                    approved_by=approver,
                    approved_at=approved_at,
                )
            )
        return approvals, added

    def _custodian_birth(self, born: date, years: int) -> date:
        """A custodian's birth date ``years`` from the holder's, and an adult's."""
        year = min(born.year + years, self.today.year - 18)
        return date(year, born.month, min(born.day, 28))

    def _custodian_id_number(self, rng: random.Random, birth: date) -> str:
        while True:
            body = f"{COUNTY_CODE}{birth:%Y%m%d}{rng.randrange(1000):03d}"
            number = body + compute_check_char(body)
            if number not in self.id_numbers:
                self.id_numbers.add(number)
                return number


def _proxy_issue(draft: CardDraft) -> int | None:
    for index, step in enumerate(draft.journey.steps):
        if step.event == LedgerEvent.ISSUED and step.custody_kind == CustodyKind.PROXY:
            return index
    return None


def _adult_on(born: date) -> date:
    try:
        return born.replace(year=born.year + 18)
    except ValueError:
        return date(born.year + 18, 3, 1)


def _approver():
    """The demo's approvals are approved by an account of their own (never the registrar)."""
    user_model = get_user_model()
    user = user_model.objects.filter(username=APPROVER_USERNAME).first()
    if user is None:
        user = user_model(
            username=APPROVER_USERNAME,
            display_name="县人社局（演示审批）",
            role=Role.COUNTY_ADMIN,
            is_active=False,
        )
        user.set_unusable_password()
        user.save()
    return user


def _blank_pdf() -> bytes:
    """A valid one-page PDF standing for the scanned entrustment."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
