"""A whole county in PostgreSQL for the page and load benchmarks (issue 11).

Builds, into a fresh database named by DATABASE_URL (its name must contain "perf" or
"bench"; it is dropped and created):

1. the schema (``manage.py migrate``);
2. ``--persons`` listed persons from ``bench/generate.py``'s files, through the real
   importers: ``import_list unissued`` then ``import_list card_export`` (which classifies
   everyone and opens a card with its ledger entry for each 制卡成功 person);
3. one user per role that opens pages: a county supervisor and administrator, a clerk of
   金碧镇 and of 龙街镇, a collector of one village, a bank clerk with a branch;
4. a share of the opened cards issued (``--issued``, default 0.3: one card in
   round(1 / share), here one in three) and a share of those activated (``--activated``,
   default 0.6, in tenths), written with the ledger's own bulk path
   (``issuance.opening._ledger_append``: chained and hashed in SQL) and the cards moved to
   the matching status and custody; a sprinkle of verified persons (``--verified``);
5. ``ANALYZE`` and ``roster.progress.figures_rebuild()``.

Usage::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dayao_perf_300k \\
        .venv/bin/python bench/county.py --persons 300000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dayao_perf_1m \\
        .venv/bin/python bench/county.py --persons 1000000

Every user's password is ``bench-password``. Each step prints its time.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from postgres import connect, database_name

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password"
USERS = (
    # username, role, township code, village (first of the township), bank branch
    ("county", "county_supervisor", None, False, False),
    ("admin", "county_admin", None, False, False),
    ("jinbi", "township_staff", "532326101", False, False),
    ("longjie", "township_staff", "532326104", False, False),
    ("collector", "village_collector", "532326101", True, False),
    ("bank", "bank_staff", "532326101", False, True),
)


def _log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S', time.gmtime())} {message}", flush=True)


def _timed(label: str, call):
    started = time.perf_counter()
    value = call()
    _log(f"{label}: {time.perf_counter() - started:.1f} s")
    return value


def _recreate(url: str) -> None:
    name = database_name(url)
    if "perf" not in name and "bench" not in name:
        sys.exit(f"refusing to drop {name}: the name must contain 'perf' or 'bench'")
    connection = connect(url, "postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def _manage(*arguments: str) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *arguments], cwd=ROOT, check=True, env=os.environ
    )


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dayao_sscard.settings")
    import django

    django.setup()


def _users() -> None:
    from dayao_sscard.models import User
    from issuance.models import Bank, BankBranch, BranchTownship
    from roster.models import Township, Village

    for username, role, township_code, with_village, with_branch in USERS:
        township = Township.objects.get(code=township_code) if township_code else None
        village = (
            Village.objects.filter(township=township).order_by("name").first()
            if with_village
            else None
        )
        branch = None
        if with_branch:
            bank = Bank.objects.order_by("name").first()
            branch = BankBranch.objects.create(bank=bank, name="金碧网点", township=township)
            BranchTownship.objects.create(branch=branch, township=township, bank=bank)
        user = User(
            username=username,
            role=role,
            display_name=f"基准{username}",
            township=None if branch else township,
            village=village,
            bank_branch=branch,
        )
        user.set_password(PASSWORD)
        user.save()


def _issue_and_activate(issued_share: float, activated_share: float) -> dict:
    """Issue a share of the cards in stock to their holders at the counter, activate a
    share of those, through the ledger's bulk writer; cards follow their last entry."""
    from django.db import connection, transaction
    from django.utils import timezone

    from issuance.models import Card, CardStatus, CustodyKind, IssueMethod, LedgerEvent
    from issuance.opening import _ledger_append

    card = Card._meta.db_table
    at = timezone.now()
    issued_mod = max(1, round(1 / issued_share)) if issued_share else 0
    counts = {}
    with transaction.atomic(), connection.cursor() as cursor:
        if not issued_mod:
            return counts
        # Cards chosen by key, spread over every township; the holder signs in person.
        chosen = (
            f"FROM {card} c JOIN roster_person p ON p.id = c.person_id "
            f"WHERE c.status = %s AND c.id %% {issued_mod} = 0"
        )
        counts["issued"] = _ledger_append(
            cursor,
            chosen + " ORDER BY c.id",
            [CardStatus.IN_STOCK],
            varying={
                "card_id": "c.id",
                "sequence": "2",
                "signee": "p.name",
                "to_party": "p.name",
                "from_party": "c.custodian",
            },
            same={
                "event": LedgerEvent.ISSUED,
                "status_before": CardStatus.IN_STOCK,
                "status_after": CardStatus.ISSUED,
                "custody_kind": CustodyKind.HOLDER,
                "method": IssueMethod.COUNTER,
                "face_to_face": True,
                "identity_checked": True,
            },
            at=at,
            who=None,
        )
        cursor.execute(
            f"UPDATE {card} c SET status = %s, custody_kind = %s, custodian = p.name, "
            "custody_location = '', custody_since = %s FROM roster_person p "
            f"WHERE p.id = c.person_id AND c.status = %s AND c.id %% {issued_mod} = 0",
            [CardStatus.ISSUED, CustodyKind.HOLDER, at, CardStatus.IN_STOCK],
        )
        tenths = round(activated_share * 10)
        if tenths:
            later = at + timezone.timedelta(minutes=5)
            picked = f"FROM {card} c WHERE c.status = %s AND (c.id / {issued_mod}) %% 10 < {tenths}"
            counts["activated"] = _ledger_append(
                cursor,
                picked + " ORDER BY c.id",
                [CardStatus.ISSUED],
                varying={"card_id": "c.id", "sequence": "3"},
                same={
                    "event": LedgerEvent.ACTIVATED,
                    "status_before": CardStatus.ISSUED,
                    "status_after": CardStatus.ACTIVATED,
                    "custody_kind": CustodyKind.HOLDER,
                    "face_to_face": True,
                    "identity_checked": True,
                },
                at=later,
                who=None,
            )
            cursor.execute(
                f"UPDATE {card} c SET status = %s WHERE c.status = %s "
                f"AND (c.id / {issued_mod}) %% 10 < {tenths}",
                [CardStatus.ACTIVATED, CardStatus.ISSUED],
            )
    return counts


def _verify_some(share: float) -> int:
    """Mark a share of persons verified, as the collectors' work leaves them."""
    from django.db import connection
    from django.utils import timezone

    from roster.models import VerificationStatus

    if not share:
        return 0
    every = max(1, round(1 / share))
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE roster_person SET verification_status = %s, verified_at = %s, "
            f"phone = CASE WHEN phone = '' THEN '13800000000' ELSE phone END WHERE id %% {every} = 3",
            [VerificationStatus.READY, timezone.now()],
        )
        return cursor.rowcount


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=300_000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/dayao-bench"))
    parser.add_argument("--issued", type=float, default=0.3)
    parser.add_argument("--activated", type=float, default=0.6)
    parser.add_argument("--verified", type=float, default=0.2)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("DATABASE_URL must name a PostgreSQL database")
    sys.path.insert(0, str(ROOT / "bench"))
    import generate

    dataset = _timed("files", lambda: generate.ensure_dataset(args.persons, args.out, log=_log))
    started = time.perf_counter()
    _timed("database", lambda: _recreate(url))
    _timed("migrate", lambda: _manage("migrate", "-v", "0"))
    _timed(
        "import_list unissued",
        lambda: _manage("import_list", "unissued", str(dataset.unissued), "--source", "省第一批"),
    )
    _timed(
        "import_list card_export",
        lambda: _manage("import_list", "card_export", str(dataset.card_export), "--complete"),
    )
    _django()
    from django.db import connection

    from roster.progress import figures_rebuild

    _timed("users", _users)
    counts = _timed("issue and activate", lambda: _issue_and_activate(args.issued, args.activated))
    _log(f"  {counts}")
    verified = _timed("verified persons", lambda: _verify_some(args.verified))
    _log(f"  {verified} verified")
    _timed("figures_rebuild", figures_rebuild)
    with connection.cursor() as cursor:
        _timed("VACUUM ANALYZE", lambda: cursor.execute("VACUUM ANALYZE"))
        cursor.execute(
            "SELECT (SELECT count(*) FROM roster_person), (SELECT count(*) FROM issuance_card), "
            "(SELECT count(*) FROM issuance_ledgerentry)"
        )
        persons, cards, entries = cursor.fetchone()
    _log(
        f"county of {persons:,} persons, {cards:,} cards, {entries:,} ledger entries "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
