"""The audit log cannot be changed by the application: the database refuses UPDATE and DELETE
on the audit tables (操作日志 ``dayao_sscard_auditevent`` and 数据变更记录
``dayao_sscard_datachange``), as it does for the custody ledger (issuance 0002).

Two ways through, both narrow:

- deleting a staff account sets its rows' ``actor_id`` to NULL (Django's SET_NULL) and
  changes nothing else; the rows keep the account's name in ``actor_username``;
- the retention service (``dayao_sscard.retention``) deletes rows older than
  AUDIT_RETENTION_DAYS. It says so inside its own transaction: on PostgreSQL with
  ``SET LOCAL dayao.audit_purge = 'on'`` (gone at COMMIT or ROLLBACK), on SQLite with a
  row in ``dayao_audit_purge`` that it removes before committing. Even then the trigger
  refuses any row younger than 183 days (six months, 网络安全法), whatever the setting.
"""

from django.db import migrations

MINIMUM_DAYS = 183
UPDATE_MESSAGE = "操作日志不能修改"
DELETE_MESSAGE = f"操作日志不能删除：只有留存清理可以删除超过留存期限（至少 {MINIMUM_DAYS} 天）的记录"
TABLES = ("dayao_sscard_auditevent", "dayao_sscard_datachange")

POSTGRES_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION dayao_audit_refuse_update() RETURNS trigger AS $$
BEGIN
    IF NEW.actor_id IS NULL
       AND (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '{UPDATE_MESSAGE}' USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION dayao_audit_refuse_delete() RETURNS trigger AS $$
BEGIN
    IF current_setting('dayao.audit_purge', true) = 'on'
       AND OLD.at < now() - interval '{MINIMUM_DAYS} days' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '{DELETE_MESSAGE}' USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def _postgres_forward(table: str) -> str:
    return f"""
CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
    FOR EACH ROW EXECUTE FUNCTION dayao_audit_refuse_update();
CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION dayao_audit_refuse_delete();
"""


def _postgres_backward(table: str) -> str:
    return f"""
DROP TRIGGER IF EXISTS {table}_no_update ON {table};
DROP TRIGGER IF EXISTS {table}_no_delete ON {table};
"""


def _sqlite_forward(table: str, columns: list[str]) -> list[str]:
    # Every column but actor_id unchanged, and actor_id now NULL: the account was deleted.
    same = " AND ".join(f'NEW."{c}" IS OLD."{c}"' for c in columns if c != "actor_id")
    # Django stores UTC as "YYYY-MM-DD HH:MM:SS[.ffffff]" text, which compares as time.
    old_enough = f"OLD.at < strftime('%Y-%m-%d %H:%M:%f', 'now', '-{MINIMUM_DAYS} days')"
    return [
        f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
        WHEN NOT (NEW.actor_id IS NULL AND {same})
        BEGIN SELECT RAISE(ABORT, '{UPDATE_MESSAGE}'); END;""",
        f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
        WHEN NOT (EXISTS (SELECT 1 FROM dayao_audit_purge) AND {old_enough})
        BEGIN SELECT RAISE(ABORT, '{DELETE_MESSAGE}'); END;""",
    ]


def _sqlite_backward(table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {table}_no_update;", f"DROP TRIGGER IF EXISTS {table}_no_delete;"]


def forward(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_FUNCTIONS + "".join(_postgres_forward(t) for t in TABLES))
    elif connection.vendor == "sqlite":
        schema_editor.execute("CREATE TABLE IF NOT EXISTS dayao_audit_purge (started integer)")
        with connection.cursor() as cursor:
            for table in TABLES:
                columns = [c.name for c in connection.introspection.get_table_description(cursor, table)]
                for statement in _sqlite_forward(table, columns):
                    schema_editor.execute(statement)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            "".join(_postgres_backward(t) for t in TABLES)
            + "DROP FUNCTION IF EXISTS dayao_audit_refuse_update();"
            + "DROP FUNCTION IF EXISTS dayao_audit_refuse_delete();"
        )
    elif vendor == "sqlite":
        for table in TABLES:
            for statement in _sqlite_backward(table):
                schema_editor.execute(statement)
        schema_editor.execute("DROP TABLE IF EXISTS dayao_audit_purge")


class Migration(migrations.Migration):
    dependencies = [("dayao_sscard", "0015_job_retention_and_data_changes")]

    operations = [migrations.RunPython(forward, backward)]
