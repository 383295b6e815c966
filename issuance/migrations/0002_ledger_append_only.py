"""The custody ledger is append-only: the database itself refuses UPDATE and DELETE."""

from django.db import migrations

MESSAGE = "流转台账只能追加，不能修改或删除"

POSTGRES_FORWARD = f"""
CREATE OR REPLACE FUNCTION issuance_ledger_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER issuance_ledgerentry_no_update BEFORE UPDATE ON issuance_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION issuance_ledger_refuse_change();
CREATE TRIGGER issuance_ledgerentry_no_delete BEFORE DELETE ON issuance_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION issuance_ledger_refuse_change();
"""
POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS issuance_ledgerentry_no_update ON issuance_ledgerentry;
DROP TRIGGER IF EXISTS issuance_ledgerentry_no_delete ON issuance_ledgerentry;
DROP FUNCTION IF EXISTS issuance_ledger_refuse_change();
"""
SQLITE_FORWARD = [
    f"""CREATE TRIGGER issuance_ledgerentry_no_update BEFORE UPDATE ON issuance_ledgerentry
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
    f"""CREATE TRIGGER issuance_ledgerentry_no_delete BEFORE DELETE ON issuance_ledgerentry
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS issuance_ledgerentry_no_update;",
    "DROP TRIGGER IF EXISTS issuance_ledgerentry_no_delete;",
]


def forward(apps, schema_editor):
    _run(schema_editor, POSTGRES_FORWARD, SQLITE_FORWARD)


def backward(apps, schema_editor):
    _run(schema_editor, POSTGRES_BACKWARD, SQLITE_BACKWARD)


def _run(schema_editor, postgres_sql, sqlite_statements):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(postgres_sql)
    elif vendor == "sqlite":
        for statement in sqlite_statements:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("issuance", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
