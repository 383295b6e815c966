"""How long 交接 takes: ``--boxes`` boxes (default 20) of ``--cards`` cards (default 500)
handed over by a bank branch to the county and received there, through the services the
pages use (``issuance.handovers.handover_create`` / ``handover_receive``).

Each box is one handover: one numbered sheet, one 交接 entry per card written by one
``cards_record_event``, then one receipt (全部接收) writing one 接收入库 entry per card.
The goal (issue 10): the 10,000 handover entries of 20 boxes of 500 in under a minute on
PostgreSQL. Afterwards every card's status is checked against the fold of its ledger, and
``ledger verify`` checks the whole chain.

Usage::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dayao_handoverbench \\
        .venv/bin/python bench/handover_benchmark.py --boxes 20 --cards 500

It runs in a test database (``test_<name>``, created and dropped); nothing else is touched.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dayao_sscard.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boxes", type=int, default=20)
    parser.add_argument("--cards", type=int, default=500)
    args = parser.parse_args()

    os.environ["DAYAO_DATA_DIR"] = tempfile.mkdtemp(prefix="dayao-handover-bench-")

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(args)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(args) -> None:
    from django.db import connection
    from django.utils import timezone

    from dayao_sscard.models import User
    from dayao_sscard.roles import Role
    from issuance.chain import entry_seal, ledger_verify
    from issuance.handovers import Unit, handover_create, handover_receive
    from issuance.models import (
        Bank,
        BankBranch,
        BranchTownship,
        Card,
        CardStatus,
        CustodyKind,
        LedgerEntry,
        LedgerEvent,
    )
    from roster.id_numbers import compute_check_char
    from roster.models import Person, Township, Village

    township = Township.objects.get(code="532326101")
    villages = [Village.objects.create(township=township, name=f"{n}村委会") for n in range(10)]
    bank = Bank.objects.create(name="云南省农村信用社（大姚县联社）", short_name="农信社")
    branch = BankBranch.objects.create(bank=bank, name="金碧信用社", township=township)
    BranchTownship.objects.create(branch=branch, township=township, bank=bank)
    banker = User.objects.create(
        username="bench_bank", display_name="王柜员", role=Role.BANK_STAFF, bank_branch=branch
    )
    admin = User.objects.create(username="bench_admin", role=Role.COUNTY_ADMIN)

    total = args.boxes * args.cards
    born = datetime.date(1960, 1, 1)
    persons = []
    for n in range(total):
        body = f"532326{born + datetime.timedelta(days=n // 500):%Y%m%d}{n % 500 * 2:03d}"
        persons.append(
            Person(
                id_number=body + compute_check_char(body),
                name=f"测试{n}",
                township=township,
                village=villages[n % len(villages)],
            )
        )
    persons = Person.objects.bulk_create(persons, batch_size=2000)
    now = timezone.now()
    cards = Card.objects.bulk_create(
        [
            Card(
                person=p,
                bank=bank,
                card_number=f"B{n:08d}",
                status=CardStatus.IN_STOCK,
                made_on=now.date(),
                custody_kind=CustodyKind.BANK,
                custodian=str(branch),
                custody_since=now,
            )
            for n, p in enumerate(persons)
        ],
        batch_size=2000,
    )
    LedgerEntry.objects.bulk_create(
        [
            # Sealed as every writer seals (``issuance.chain``), so the chain can be verified.
            entry_seal(
                LedgerEntry(
                    card=c,
                    sequence=1,
                    event=LedgerEvent.PRODUCED,
                    status_after=CardStatus.IN_STOCK,
                    custody_kind=CustodyKind.BANK,
                    to_party=str(branch),
                    occurred_at=now,
                    recorded_at=now,
                ),
                "",
            )
            for c in cards
        ],
        batch_size=2000,
    )
    print(f"{connection.vendor}: {args.boxes} boxes of {args.cards} cards, bank → county")

    handed, received = [], []
    for box in range(args.boxes):
        numbers = [c.card_number for c in cards[box * args.cards : (box + 1) * args.cards]]
        started = time.perf_counter()
        handover = handover_create(
            acting_user=banker,
            receiver=Unit(CustodyKind.COUNTY),
            sender_person="王柜员",
            receiver_person="赵库管",
            location="县人社局社保卡库房",
            card_numbers=numbers,
        )
        handed.append(time.perf_counter() - started)
        started = time.perf_counter()
        done = handover_receive(acting_user=admin, handover=handover)
        received.append(time.perf_counter() - started)
        assert done.received == args.cards, done
        print(
            f"box {box + 1:>2} {handover.number}: handed over {handed[-1]:5.2f} s, "
            f"received {received[-1]:5.2f} s"
        )

    print(
        f"{'handed over':<12} {sum(handed):6.2f} s for {total} entries "
        f"(a box: median {sorted(handed)[len(handed) // 2]:.2f} s, max {max(handed):.2f} s)"
    )
    print(
        f"{'received':<12} {sum(received):6.2f} s for {total} entries "
        f"(a box: median {sorted(received)[len(received) // 2]:.2f} s, max {max(received):.2f} s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM issuance_card c
            WHERE c.status <> (SELECT e.status_after FROM issuance_ledgerentry e
                               WHERE e.card_id = c.id ORDER BY e.sequence DESC LIMIT 1)
            """
        )
        (disagreeing,) = cursor.fetchone()
    entries = LedgerEntry.objects.filter(
        event__in=[LedgerEvent.HANDED_OVER, LedgerEvent.RECEIVED]
    ).count()
    print(
        f"ledger: {entries} handover entries; cards whose status is not their ledger's: {disagreeing}"
    )
    assert disagreeing == 0
    started = time.perf_counter()
    verified = ledger_verify()
    print(f"{verified.summary()}（{time.perf_counter() - started:.2f} s）")
    assert verified.ok, verified.problems


if __name__ == "__main__":
    main()
