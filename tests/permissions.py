"""The shared persona harness: six personas, an object in their scope and one outside it,
every URL of the project, and the expected-status table that covers them.

A matrix is a text table, one row per URL name and method::

    # url name              object  method   anon admin super town village bank | (out of scope)
    roster:person-edit      person  GET      302  200   403   200  200     403  | 302 200 403 404 404 403

The left half is asked with the object in every persona's scope (township A, village A,
a card of the bank persona's branch), the right half with one of township B. ``-`` as
the object means the URL takes none (then the right half is ``-``); ``path`` marks a
pattern without a name, asked at its own path. A URL of the project without a row fails
the matrix test, so a new view cannot be added without its rows.
"""

import datetime
import io
from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from PIL import Image

from dayao_sscard.models import Job, JobKind, User
from dayao_sscard.roles import Role
from issuance.models import (
    ApplicationBatch,
    CancellationRequest,
    Card,
    CardStatus,
    CustodyKind,
    Handover,
    HandoverItem,
    LedgerEntry,
    ProxyApproval,
    SignOffRow,
    SignOffSheet,
)
from roster.models import (
    Category,
    CollectionConflict,
    ListKind,
    Person,
    PersonCategory,
    SourceList,
)
from roster.pending_photos import pending_photo_keep
from tests.factories import BankBranchFactory, PersonFactory, UserFactory, VillageFactory, township
from tests.issuance.proxydata import register
from tests.roster.photos import photo_bytes

TOWNSHIP_A = "532326101"  # 金碧镇
TOWNSHIP_B = "532326102"  # 石羊镇

PERSONAS = (
    "anonymous",
    Role.COUNTY_ADMIN.value,
    Role.COUNTY_SUPERVISOR.value,
    Role.TOWNSHIP_STAFF.value,
    Role.VILLAGE_COLLECTOR.value,
    Role.BANK_STAFF.value,
)
METHODS = ("GET", "POST")


@dataclass
class World:
    """The personas and, for each, one object in scope and one outside it."""

    users: dict[str, User | AnonymousUser]
    clerk_b: User
    person_in: Person
    person_out: Person
    card_in: Card
    card_out: Card
    batch_in: ApplicationBatch
    batch_out: ApplicationBatch
    handover_in: Handover
    handover_out: Handover
    jobs: dict[tuple[str, bool], Job] = field(default_factory=dict)
    without_card: dict[bool, Person] = field(default_factory=dict)
    cancellations: dict[bool, CancellationRequest] = field(default_factory=dict)
    recoveries: dict[bool, LedgerEntry] = field(default_factory=dict)
    approval_in: ProxyApproval | None = None
    approval_out: ProxyApproval | None = None
    sheets: dict[bool, SignOffSheet] = field(default_factory=dict)
    report_jobs: dict[tuple[str, bool], Job] = field(default_factory=dict)

    def person(self, in_scope: bool) -> Person:
        return self.person_in if in_scope else self.person_out

    def person_without_card(self, in_scope: bool) -> Person:
        """A person of township A (or B) holding no card yet: a bank clerk reaches one only
        through the counter's door, for a first card of the branch serving the township."""
        if in_scope not in self.without_card:
            near = self.person(in_scope)
            self.without_card[in_scope] = PersonFactory(
                township=near.township, village=near.village, name="王秀英"
            )
        return self.without_card[in_scope]

    def card(self, in_scope: bool) -> Card:
        return self.card_in if in_scope else self.card_out

    def batch(self, in_scope: bool) -> ApplicationBatch:
        return self.batch_in if in_scope else self.batch_out

    def cancellation(self, in_scope: bool) -> CancellationRequest:
        """A pending 注销 request for the card in (or out of) scope."""
        if in_scope not in self.cancellations:
            self.cancellations[in_scope] = CancellationRequest.objects.create(
                card=self.card(in_scope), reason="持卡人已死亡（测试）"
            )
        return self.cancellations[in_scope]

    def recovery(self, in_scope: bool) -> LedgerEntry:
        """The card in (or out of) scope recovered (回收登记) by the county: its ledger entry."""
        if in_scope not in self.recoveries:
            from issuance.stock import card_recover

            card = card_recover(
                card=self.card(in_scope),
                acting_user=self.users[Role.COUNTY_ADMIN],
                reason="多次联系不上持卡人",
            )
            self.recoveries[in_scope] = card.ledger_entries.order_by("-sequence").first()
        return self.recoveries[in_scope]

    def approval(self, in_scope: bool) -> ProxyApproval:
        """A 代管 approval waiting for approval: village A's (registered by its collector),
        or township B's (by its clerk)."""
        return self.approval_in if in_scope else self.approval_out

    def village(self, in_scope: bool):
        return self.person(in_scope).village

    def sheet(self, in_scope: bool) -> SignOffSheet:
        """A 集中发放 sign-off sheet of village A (or B), not yet recorded, listing its card."""
        if in_scope not in self.sheets:
            card = self.card(in_scope)
            sheet = SignOffSheet.objects.create(
                number=f"20261129-{'金碧' if in_scope else '石羊'}-1",
                village=self.village(in_scope),
                day=datetime.date(2026, 11, 29),
                place="村委会",
                created_by=self.users[Role.COUNTY_ADMIN],
            )
            SignOffRow.objects.create(sheet=sheet, position=1, card=card)
            self.sheets[in_scope] = sheet
        return self.sheets[in_scope]

    def handover(self, in_scope: bool) -> Handover:
        return self.handover_in if in_scope else self.handover_out

    def kept_photo(self, persona: str, in_scope: bool) -> str:
        """A photo the persona kept across a form error (the clerk's, for anonymous)."""
        user = self.users[persona]
        keeper = user if user.is_authenticated else self.users[Role.TOWNSHIP_STAFF]
        return pending_photo_keep(user=keeper, person=self.person(in_scope), data=photo_bytes())

    def job(self, persona: str, in_scope: bool) -> Job:
        """In scope: a job the persona started itself; outside: one of township B's clerk."""
        key = (persona, in_scope)
        if key not in self.jobs:
            user = self.users[persona]
            starter = user if in_scope and user.is_authenticated else self.clerk_b
            if in_scope and not user.is_authenticated:
                starter = self.users[Role.TOWNSHIP_STAFF]
            job = Job.objects.create(
                kind=JobKind.EXPORT, title="导出人员名单", started_by=starter, status="succeeded"
            )
            job.result_file.save("result.xlsx", ContentFile(b"PK"), save=False)
            job.result_name = "人员名单.xlsx"
            job.save()
            self.jobs[key] = job
        return self.jobs[key]

    def report_job(self, persona: str, in_scope: bool) -> Job:
        """A finished 进度通报 with its PDF and workbook. In scope: one the persona started
        (township A's clerk's for anonymous); outside: one of another county reader."""
        key = (persona, in_scope)
        if key not in self.report_jobs:
            user = self.users[persona]
            starter = user if user.is_authenticated else self.users[Role.TOWNSHIP_STAFF]
            if not in_scope:
                other = (
                    Role.COUNTY_ADMIN if persona != Role.COUNTY_ADMIN else Role.COUNTY_SUPERVISOR
                )
                starter = self.users[other]
            job = Job.objects.create(
                kind=JobKind.PROGRESS_REPORT,
                title="进度通报（2026年11月29日）",
                started_by=starter,
                status="succeeded",
            )
            job.result_file.save("report.pdf", ContentFile(b"%PDF-"), save=False)
            job.result_name = "进度通报_2026年11月29日.pdf"
            stored = job.result_file.storage.save("jobs/result/report.xlsx", ContentFile(b"PK"))
            job.params = {"day": "2026-11-29", "xlsx_file": stored, "xlsx_name": "进度通报.xlsx"}
            job.save()
            self.report_jobs[key] = job
        return self.report_jobs[key]


def build_world() -> World:
    """Township A's clerk, collector and bank branch; county roles; township B's clerk."""
    township_a, township_b = township(TOWNSHIP_A), township(TOWNSHIP_B)
    village_a = VillageFactory(township=township_a, name="大河社区")
    village_b = VillageFactory(township=township_b, name="石羊社区")
    branch_a = BankBranchFactory(name="金碧信用社", township=township_a)
    branch_b = BankBranchFactory(name="石羊信用社", township=township_b)
    users: dict[str, User | AnonymousUser] = {
        "anonymous": AnonymousUser(),
        Role.COUNTY_ADMIN: UserFactory(
            username="m_admin",
            role=Role.COUNTY_ADMIN,
            township=None,
            is_staff=True,
            is_superuser=True,
        ),
        Role.COUNTY_SUPERVISOR: UserFactory(
            username="m_supervisor", role=Role.COUNTY_SUPERVISOR, township=None
        ),
        Role.TOWNSHIP_STAFF: UserFactory(
            username="m_clerk_a", role=Role.TOWNSHIP_STAFF, township=township_a
        ),
        Role.VILLAGE_COLLECTOR: UserFactory(
            username="m_collector_a",
            role=Role.VILLAGE_COLLECTOR,
            township=township_a,
            village=village_a,
        ),
        Role.BANK_STAFF: UserFactory(
            username="m_banker_a", role=Role.BANK_STAFF, township=None, bank_branch=branch_a
        ),
    }
    clerk_b = UserFactory(username="m_clerk_b", role=Role.TOWNSHIP_STAFF, township=township_b)
    conflicts = SourceList.objects.create(
        kind=ListKind.COLLECTION_12333, source="12333", file_name="c.xlsx", file_sha256="c" * 64
    )
    person_in = _person(township_a, village_a, branch_a, conflicts, "张桂芬", "M10000001")
    person_out = _person(township_b, village_b, branch_b, conflicts, "杨春梅", "M10000002")
    return World(
        approval_in=register(person_in, users[Role.VILLAGE_COLLECTOR]),
        approval_out=register(person_out, clerk_b),
        users=users,
        clerk_b=clerk_b,
        person_in=person_in,
        person_out=person_out,
        card_in=person_in.cards.get(),
        card_out=person_out.cards.get(),
        batch_in=ApplicationBatch.objects.create(
            number="2026-金碧-0001",
            bank=branch_a.bank,
            township=township_a,
            created_by=users[Role.TOWNSHIP_STAFF],
        ),
        batch_out=ApplicationBatch.objects.create(
            number="2026-石羊-0001", bank=branch_b.bank, township=township_b, created_by=clerk_b
        ),
        handover_in=_handover(branch_a, village_a, "JJ-20261129-0001", users[Role.BANK_STAFF]),
        handover_out=_handover(branch_b, village_b, "JJ-20261129-0002", clerk_b),
    )


def _handover(branch, village, number: str, created_by) -> Handover:
    """交接 from the branch to its township's centre of the village's card, waiting for the
    township, with a signed sheet attached."""
    township_ = village.township
    handover = Handover.objects.create(
        number=number,
        sender_kind=CustodyKind.BANK,
        sender_name=str(branch),
        sender_branch=branch,
        sender_person="柜员",
        receiver_kind=CustodyKind.TOWNSHIP,
        receiver_name=f"{township_.name}社保中心",
        receiver_township=township_,
        receiver_person="乡镇经办",
        location=f"{township_.name}社保中心",
        township=township_,
        village=village,
        card_count=1,
        created_by=created_by,
    )
    card = Card.objects.get(person__village=village)
    HandoverItem.objects.create(handover=handover, card=card)
    handover.sheet.save(f"{number}.pdf", ContentFile(b"%PDF-1.4 signed"), save=True)
    handover.sheet_name = f"{number}.pdf"
    handover.save()
    return handover


def _person(
    township_, village, branch, conflicts: SourceList, name: str, card_number: str
) -> Person:
    """A living person with an issued card, a photo, a category and a 12333 conflict."""
    person = PersonFactory(township=township_, village=village, name=name)
    Card.objects.create(
        person=person, bank=branch.bank, status=CardStatus.ISSUED, card_number=card_number
    )
    PersonCategory.objects.create(person=person, category=Category.MINIMUM_LIVING)
    jpeg = _jpeg()
    person.photo.save(f"{person.pk}.jpg", ContentFile(jpeg), save=False)
    person.photo_thumbnail.save(f"{person.pk}.jpg", ContentFile(jpeg), save=False)
    person.save()
    CollectionConflict.objects.create(
        person=person,
        source_list=conflicts,
        row_number=2,
        field="occupation",
        current_value=person.occupation,
        incoming_value="教师",
    )
    return person


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (358, 441), (200, 210, 230)).save(out, format="JPEG")
    return out.getvalue()


# ---- the URLs of the project ------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str  # "roster:person-edit", or the route itself when the pattern has no name
    route: str
    namespace: str


def project_routes() -> list[Route]:
    """Every URL pattern the project serves, walked from the root resolver."""
    return list(_walk(get_resolver().url_patterns, prefix="", namespaces=()))


def _walk(patterns, *, prefix: str, namespaces: tuple[str, ...]):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = (*namespaces, pattern.namespace) if pattern.namespace else namespaces
            yield from _walk(pattern.url_patterns, prefix=route, namespaces=inner)
        elif isinstance(pattern, URLPattern):
            namespace = ":".join(namespaces)
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield Route(name=name if pattern.name else route, route=route, namespace=namespace)


# ---- the matrix -------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    name: str
    kind: str
    method: str
    in_scope: dict[str, int]
    out_of_scope: dict[str, int] | None


def parse_matrix(text: str) -> dict[tuple[str, str], Row]:
    rows: dict[tuple[str, str], Row] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        left, _, right = line.partition("|")
        name, kind, method, *statuses = left.split()
        if len(statuses) != len(PERSONAS) or method not in METHODS:
            raise ValueError(f"matrix line {number}: {line!r}")
        outside = right.split()
        if kind in ("-", "path"):
            if outside and outside != ["-"]:
                raise ValueError(f"matrix line {number}: a URL without an object has no right half")
            out = None
        else:
            if len(outside) != len(PERSONAS):
                raise ValueError(f"matrix line {number}: the out-of-scope half needs 6 statuses")
            out = dict(zip(PERSONAS, map(int, outside), strict=True))
        key = (name, method)
        if key in rows:
            raise ValueError(f"matrix line {number}: {name} {method} appears twice")
        rows[key] = Row(
            name, kind, method, dict(zip(PERSONAS, map(int, statuses), strict=True)), out
        )
    return rows


KWARGS = {
    "-": lambda world, persona, in_scope: {},
    "person": lambda world, persona, in_scope: {"pk": world.person(in_scope).pk},
    "township": lambda world, persona, in_scope: {"code": world.person(in_scope).township.code},
    "photo": lambda world, persona, in_scope: {"pk": world.person(in_scope).pk, "size": "thumb"},
    "id_number": lambda world, persona, in_scope: {"id_number": world.person(in_scope).id_number},
    "card_number": lambda world, persona, in_scope: {
        "card_number": world.card(in_scope).card_number
    },
    "job": lambda world, persona, in_scope: {"pk": world.job(persona, in_scope).pk},
    "report_job": lambda world, persona, in_scope: {"pk": world.report_job(persona, in_scope).pk},
    "report_file": lambda world, persona, in_scope: {
        "pk": world.report_job(persona, in_scope).pk,
        "fmt": "xlsx",
    },
    "batch": lambda world, persona, in_scope: {"pk": world.batch(in_scope).pk},
    "card_pk": lambda world, persona, in_scope: {"pk": world.card(in_scope).pk},
    "cancellation": lambda world, persona, in_scope: {"pk": world.cancellation(in_scope).pk},
    "approval": lambda world, persona, in_scope: {"pk": world.approval(in_scope).pk},
    "card": lambda world, persona, in_scope: {"pk": world.card(in_scope).pk},
    "sheet": lambda world, persona, in_scope: {"pk": world.sheet(in_scope).pk},
    "handover": lambda world, persona, in_scope: {"pk": world.handover(in_scope).pk},
    "kept_photo": lambda world, persona, in_scope: {
        "pk": world.person(in_scope).pk,
        "token": world.kept_photo(persona, in_scope),
    },
    "reset_link": lambda world, persona, in_scope: {"uidb64": "MQ", "token": "set-password"},
}


def row_for(route: Route, rows: dict[tuple[str, str], Row], method: str) -> Row | None:
    """The route's row; the Django admin's URLs share one (``admin:*``, asked at its index)."""
    if route.namespace == "admin":
        return rows.get(("admin:*", method))
    return rows.get((route.name, method))


def status_of(world: World, row: Row, persona: str, *, in_scope: bool) -> int:
    """What the persona gets for this URL and method, with a fresh client (POST: no data)."""
    client = Client()
    user = world.users[persona]
    if user.is_authenticated:
        client.force_login(user)
    if row.kind == "path":
        url = "/" + row.name
    else:
        name = "admin:index" if row.name == "admin:*" else row.name
        url = reverse(name, kwargs=KWARGS[row.kind](world, persona, in_scope))
    response = client.get(url) if row.method == "GET" else client.post(url)
    return response.status_code


def mismatches(world: World, row: Row) -> list[str]:
    """Every cell of the row whose status differs from the table, said as one line each."""
    found = []
    halves = [(True, row.in_scope)]
    if row.out_of_scope is not None:
        halves.append((False, row.out_of_scope))
    for in_scope, expected in halves:
        for persona in PERSONAS:
            got = status_of(world, row, persona, in_scope=in_scope)
            if got != expected[persona]:
                where = "in scope" if in_scope else "out of scope"
                found.append(
                    f"{row.method} {row.name} as {persona} ({where}): "
                    f"expected {expected[persona]}, got {got}"
                )
    return found
