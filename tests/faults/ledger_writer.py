"""A clerk writing the custody ledger through its services, one write after another,
whatever the database does meanwhile (tests only).

``python -m tests.faults.ledger_writer CARDS`` (the database of the environment) applies a
card for each of CARDS new persons and takes it down the chain: production, made, handed
to the county, received, handed to the township, received — each step its own
transaction. It prints ``ready`` once its persons exist, ``ok CARD EVENT`` for every write
that answered success, ``error CARD EVENT`` for one that did not (the card is then left
where it is: the write may or may not have committed), and ``done`` at the end. When the
database does not answer it waits for it, as a clerk would try again.
"""

import os
import sys
import time

import django


def _wait_for_database(connection) -> None:
    deadline = time.monotonic() + 120
    while True:
        connection.close()
        try:
            connection.ensure_connection()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dayao_sscard.settings")
    django.setup()
    from django.db import Error, connection

    from dayao_sscard.roles import Role
    from issuance.models import CustodyKind, LedgerEvent
    from issuance.services import CardOutcome, Custody, cards_apply, cards_record_event
    from tests.factories import BankFactory, PersonFactory, UserFactory, VillageFactory

    count = int(sys.argv[1])
    clerk = UserFactory(username="ledger_clerk", role=Role.COUNTY_ADMIN, township=None)
    village = VillageFactory(name="大河社区")
    township = village.township
    bank = BankFactory()
    persons = [PersonFactory(township=township, village=village) for _ in range(count)]
    print("ready", flush=True)

    def down_the_chain(card, n):
        yield LedgerEvent.PRODUCTION_STARTED, {}
        yield LedgerEvent.PRODUCED, {"outcomes": {card.pk: CardOutcome(card_number=f"R{n:08d}")}}
        for event, kind, party, place in (
            (LedgerEvent.HANDED_OVER, CustodyKind.COUNTY, "县人社局", "县人社局社保卡库房"),
            (LedgerEvent.RECEIVED, CustodyKind.COUNTY, "县人社局", "县人社局社保卡库房"),
            (
                LedgerEvent.HANDED_OVER,
                CustodyKind.TOWNSHIP,
                f"{township.name}社保中心",
                f"{township.name}社保中心档案室",
            ),
            (
                LedgerEvent.RECEIVED,
                CustodyKind.TOWNSHIP,
                f"{township.name}社保中心",
                f"{township.name}社保中心档案室",
            ),
        ):
            custody = Custody(kind=kind, party=party, responsible_person="李建华", location=place)
            yield event, {"custody": custody}

    for n, person in enumerate(persons):
        try:
            (card,) = cards_apply(persons=[person], bank=bank, acting_user=clerk)
        except Error as exc:
            print(f"error - applied {type(exc).__name__}", flush=True)
            _wait_for_database(connection)
            continue
        print(f"ok {card.pk} {LedgerEvent.APPLIED}", flush=True)
        for event, options in down_the_chain(card, n):
            try:
                (card,) = cards_record_event(
                    cards=[card], event=event, acting_user=clerk, **options
                )
            except Error as exc:
                print(f"error {card.pk} {event} {type(exc).__name__}", flush=True)
                _wait_for_database(connection)
                break
            print(f"ok {card.pk} {event}", flush=True)
    print("done", flush=True)


if __name__ == "__main__":
    main()
