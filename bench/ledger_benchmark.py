"""How fast the chained ledger is written and verified (issue 10, docs/PERFORMANCE.md).

Two measurements on PostgreSQL, in a test database (``test_<name>``, created and dropped):

* handovers — ``--boxes`` boxes of ``--box`` cards (default 20 × 500 = 10,000 entries),
  each box one ``cards_record_event(event=HANDED_OVER)``, as the handover screen records
  a box; the chain is verified afterwards. Target: under 60 s.
* verify — ``manage.py ledger verify``'s service over ``--entries`` entries (default
  1,000,000: four per card), written by the export opening's own bulk path
  (``issuance.opening._ledger_append``, hashes computed in SQL). Target: under 60 s.

Usage::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dayao_ledgerbench \\
        .venv/bin/python bench/ledger_benchmark.py
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dayao_sscard.settings")

TARGET_SECONDS = 60.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boxes", type=int, default=20)
    parser.add_argument("--box", type=int, default=500, help="cards in a box")
    parser.add_argument("--entries", type=int, default=1_000_000, help="entries to verify")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    if connection.vendor != "postgresql":
        print("DATABASE_URL must name a PostgreSQL database")
        return 2
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        ok = handovers(args.boxes, args.box) & verify(args.entries)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return 0 if ok else 1


def timed(label: str, call):
    started = time.perf_counter()
    value = call()
    seconds = time.perf_counter() - started
    print(f"{label:<58} {seconds:7.2f} s")
    return value, seconds


def handovers(boxes: int, box: int) -> bool:
    from dayao_sscard.models import User
    from dayao_sscard.roles import Role
    from issuance.chain import ledger_verify
    from issuance.models import Bank, CustodyKind, LedgerEvent
    from issuance.services import Custody, cards_apply, cards_record_event
    from roster.id_numbers import compute_check_char
    from roster.models import Person, Township, Village

    township = Township.objects.get(code="532326101")
    village = Village.objects.create(township=township, name="大河社区")
    admin = User.objects.create(username="bench_admin", role=Role.COUNTY_ADMIN)
    bank = Bank.objects.create(name="云南省农村信用社（大姚县联社）", short_name="农信社")
    count = boxes * box
    persons = []
    for n in range(count):
        body = f"5323261980{1 + n // 28 % 12:02d}{1 + n % 28:02d}{n // 336 % 1000:03d}"
        persons.append(
            Person(
                id_number=body + compute_check_char(body),
                name=f"测试{n}",
                gender="male" if int(body[16]) % 2 else "female",
                township=township,
                village=village,
            )
        )
    persons = Person.objects.bulk_create(persons, batch_size=1000)
    cards = cards_apply(persons=persons, bank=bank, acting_user=admin)
    for start in range(0, count, box):
        cards_record_event(
            cards=cards[start : start + box],
            event=LedgerEvent.PRODUCED,
            acting_user=admin,
            custody=Custody(kind=CustodyKind.BANK, party="农信社金碧网点", location="网点库房"),
        )
    print(f"{count:,} cards in stock at the bank, 2 entries each")

    def hand_over() -> None:
        for start in range(0, count, box):
            cards_record_event(
                cards=cards[start : start + box],
                event=LedgerEvent.HANDED_OVER,
                acting_user=admin,
                custody=Custody(
                    kind=CustodyKind.TOWNSHIP,
                    party="金碧镇社保中心",
                    responsible_person="王芳",
                    location=f"在途：第{start // box + 1}箱",
                ),
            )

    _, seconds = timed(f"handovers: {boxes} boxes of {box} ({count:,} entries)", hand_over)
    result, _ = timed("ledger verify afterwards", ledger_verify)
    print(f"  {result.summary()}")
    ok = seconds < TARGET_SECONDS and result.ok
    print(
        f"  handovers {seconds:.1f} s (target < {TARGET_SECONDS:.0f} s): {'ok' if ok else 'MISSED'}"
    )
    return ok


def verify(entries: int) -> bool:
    from django.db import connection, transaction
    from django.utils import timezone

    from issuance.chain import ledger_verify
    from issuance.models import Bank, Card, CardStatus, CustodyKind, LedgerEvent
    from issuance.opening import _ledger_append

    cards = entries // 4
    at = timezone.now()
    bank = Bank.objects.create(name="中国农业银行大姚县支行")
    table = Card._meta.db_table
    # Four steps: produced, handed over, received, handed over (no signature asked).
    steps = (
        (LedgerEvent.PRODUCED, "", CardStatus.IN_STOCK, bank.name, CustodyKind.BANK),
        (
            LedgerEvent.HANDED_OVER,
            CardStatus.IN_STOCK,
            CardStatus.IN_TRANSIT,
            "金碧镇社保中心",
            CustodyKind.TOWNSHIP,
        ),
        (
            LedgerEvent.RECEIVED,
            CardStatus.IN_TRANSIT,
            CardStatus.IN_STOCK,
            "金碧镇社保中心",
            CustodyKind.TOWNSHIP,
        ),
        (
            LedgerEvent.HANDED_OVER,
            CardStatus.IN_STOCK,
            CardStatus.IN_TRANSIT,
            "大河社区",
            CustodyKind.VILLAGE,
        ),
    )

    def write() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            # Person keys without persons: the card's person has no database constraint,
            # and verify never reads a person unless a card fails.
            cursor.execute(
                f"INSERT INTO {table} (person_id, card_number, bank_id, production_type, status, "
                "failure_reason, made_on, custody_kind, custodian, custody_location, "
                "custody_since, created_at) SELECT 1000000000 + g, 'B' || lpad(CAST(g AS TEXT), 9, '0'), "
                "%s, 'batch', %s, '', %s, %s, '大河社区', '', %s, %s "
                "FROM generate_series(1, %s) g",
                [
                    bank.pk,
                    CardStatus.IN_TRANSIT,
                    timezone.localdate(at),
                    CustodyKind.VILLAGE,
                    at,
                    at,
                    cards,
                ],
            )
            for sequence, (event, before, after, party, kind) in enumerate(steps, start=1):
                _ledger_append(
                    cursor,
                    f"FROM {table} c WHERE c.person_id > 1000000000 ORDER BY c.id",
                    [],
                    varying={"card_id": "c.id"},
                    same={
                        "sequence": sequence,
                        "event": event,
                        "status_before": before,
                        "status_after": after,
                        "to_party": party,
                        "custody_kind": kind,
                    },
                    at=at,
                    who=None,
                )
            cursor.execute("ANALYZE")

    timed(f"writing {cards:,} cards and {cards * 4:,} entries (hashes in SQL)", write)
    result, seconds = timed(f"ledger verify over {cards * 4:,} entries", ledger_verify)
    print(f"  {result.summary()}")
    ok = seconds < TARGET_SECONDS and result.ok
    print(f"  verify {seconds:.1f} s (target < {TARGET_SECONDS:.0f} s): {'ok' if ok else 'MISSED'}")
    return ok


if __name__ == "__main__":
    sys.exit(main())
