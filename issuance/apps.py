from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _sqlite_functions(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        from .chain import sqlite_register

        sqlite_register(connection.connection)


class IssuanceConfig(AppConfig):
    name = "issuance"
    verbose_name = "制卡与发放"

    def ready(self) -> None:
        # The ledger's bulk writes hash in SQL; SQLite's hash is a Python function.
        connection_created.connect(_sqlite_functions)
