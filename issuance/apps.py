from django.apps import AppConfig, apps
from django.db.backends.signals import connection_created
from django.db.models.signals import post_delete, post_save


def _sqlite_functions(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        from .chain import sqlite_register

        sqlite_register(connection.connection)


class IssuanceConfig(AppConfig):
    name = "issuance"
    verbose_name = "制卡与发放"

    def ready(self) -> None:
        from roster.progress import persons_recounted

        from .places import card_places_keep
        from .reconciliation import (
            reconciliation_banks_changed,
            reconciliation_keep,
            reconciliation_person_saved,
        )

        # The ledger's bulk writes hash in SQL; SQLite's hash is a Python function.
        connection_created.connect(_sqlite_functions)
        # The reconciliation follows every write the progress counters follow.
        persons_recounted.connect(reconciliation_keep, dispatch_uid="reconciliation")
        # And the holder's village kept on each card (``issuance.places``).
        persons_recounted.connect(card_places_keep, dispatch_uid="card-places")
        person = apps.get_model("roster.Person")
        post_save.connect(reconciliation_person_saved, sender=person, dispatch_uid="recon-person")
        bank = apps.get_model("issuance.Bank")
        post_save.connect(reconciliation_banks_changed, sender=bank, dispatch_uid="recon-bank")
        post_delete.connect(reconciliation_banks_changed, sender=bank, dispatch_uid="recon-bank-")
