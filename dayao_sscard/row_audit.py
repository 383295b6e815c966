"""Audit that cannot be bypassed: PostgreSQL records every statement that changes a table
holding personal data, however it was written (ORM, ``QuerySet.update``, ``bulk_update``,
COPY, raw SQL, a database prompt), in ``DataChange``.

One row per statement, not per changed row: an import's COPY of 300,000 persons is one
row with their keys as runs of ids, and a ``bulk_update`` of 1,000 persons one row with
the changed personal fields of each. The triggers are statement-level with transition
tables (``REFERENCING OLD/NEW TABLE``), declared on the models through django-pgtrigger,
so migrations install them and ``makemigrations`` notices when a model's columns change.

Who wrote: the application names the acting user and where the work came from
(``audit_actor``: the web request, a background job, an import) in session settings the
trigger reads; without them the row still carries the database account.

SQLite (the embedded default) has no statement triggers with transition tables: there
the services' own audit rows are the record.
"""

from collections.abc import Iterator
from contextlib import contextmanager, suppress

import pgtrigger
from django.db import DatabaseError, connection
from django.db.backends.signals import connection_created
from django.dispatch import receiver

ACTOR_ID = "dayao.actor_id"
ACTOR_USERNAME = "dayao.actor_username"
CONTEXT = "dayao.context"
SETTINGS = (ACTOR_ID, ACTOR_USERNAME, CONTEXT)
EMPTY = ("", "", "")
# The values in force, kept on the connection wrapper (it outlives its connections).
_IN_FORCE = "dayao_audit_actor"

# Bookkeeping no one needs the values of: the row's key, versions and timestamps, and
# what is worked out from the recorded columns (a person's missing elements and walking
# order, written with them).
NOT_PERSONAL = (
    "version",
    "created_at",
    "updated_at",
    "photo_thumbnail",
    "missing_bits",
    "walk_key",
)


class StatementAudit(pgtrigger.Trigger):
    """An AFTER trigger FOR EACH STATEMENT that writes one DataChange row per statement
    that changed at least one row of the model's table.

    ``personal``: the fields whose values are kept (before and after for an UPDATE,
    before for a DELETE); None for every field but NOT_PERSONAL, () for none.
    """

    level = pgtrigger.Statement
    when = pgtrigger.After

    def __init__(self, *, name: str, operation, personal: tuple[str, ...] | None = None):
        self.personal = personal
        referencing = {
            pgtrigger.Insert: pgtrigger.Referencing(new="new_rows"),
            pgtrigger.Update: pgtrigger.Referencing(old="old_rows", new="new_rows"),
            pgtrigger.Delete: pgtrigger.Referencing(old="old_rows"),
        }[operation]
        super().__init__(name=name, operation=operation, referencing=referencing)

    def get_declare(self, model):
        return [
            ("n", "bigint"),
            ("lo", "bigint"),
            ("hi", "bigint"),
            ("ids", "jsonb"),
            ("cols", "jsonb"),
            ("b", "jsonb"),
            ("a", "jsonb"),
        ]

    def get_func(self, model) -> str:
        pk = _quote(model._meta.pk.column)
        rows = "old_rows" if self.operation == pgtrigger.Delete else "new_rows"
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        if self.personal is None:
            personal = [f.column for f in fields if f.name not in NOT_PERSONAL]
        else:
            personal = [model._meta.get_field(name).column for name in self.personal]
        join = f"FROM old_rows o JOIN new_rows n ON n.{pk} = o.{pk}"
        sql = [
            f"SELECT count(*), min({pk}), max({pk}) INTO n, lo, hi FROM {rows};",
            "IF n = 0 THEN RETURN NULL; END IF;",
            # Keys without a gap (a COPY's, an import's) are one run, found in that one pass;
            # else consecutive keys as one [first, last] run each ("gaps and islands").
            "IF hi - lo + 1 = n THEN ids := jsonb_build_array(jsonb_build_array(lo, hi)); ELSE "
            "SELECT jsonb_agg(jsonb_build_array(f, l) ORDER BY f) INTO ids FROM ("
            f"SELECT min(k) AS f, max(k) AS l FROM (SELECT {pk} AS k, "
            f"{pk} - row_number() OVER (ORDER BY {pk}) AS run FROM {rows}) r GROUP BY run) s; "
            "END IF;",
        ]
        if self.operation == pgtrigger.Update:
            changed = ", ".join(
                f"CASE WHEN bool_or({_differs(f.column)}) THEN '{f.column}' END" for f in fields
            )
            sql.append(
                f"SELECT to_jsonb(array_remove(ARRAY[{changed}]::text[], NULL)) INTO cols {join};"
            )
            if personal:

                def values(side: str) -> str:
                    return " || ".join(
                        f"CASE WHEN {_differs(c)} THEN jsonb_build_object('{c}', {side}.{_quote(c)}) "
                        "ELSE '{}'::jsonb END"
                        for c in personal
                    )

                sql.append(
                    f"SELECT jsonb_object_agg(o.{pk}, {values('o')}), "
                    f"jsonb_object_agg(o.{pk}, {values('n')}) INTO b, a {join} "
                    f"WHERE {' OR '.join(_differs(c) for c in personal)};"
                )
        elif self.operation == pgtrigger.Delete and personal:
            kept = ", ".join(f"'{c}', o.{_quote(c)}" for c in personal)
            sql.append(
                f"SELECT jsonb_object_agg(o.{pk}, jsonb_build_object({kept})) INTO b "
                "FROM old_rows o;"
            )
        sql.append(
            "INSERT INTO dayao_sscard_datachange (at, actor_id, actor_username, db_user, "
            "context, table_name, operation, row_count, row_ids, columns, before, after, "
            f"transaction_id) VALUES (now(), NULLIF(current_setting('{ACTOR_ID}', true), '')"
            f"::bigint, COALESCE(current_setting('{ACTOR_USERNAME}', true), ''), session_user, "
            f"LEFT(COALESCE(current_setting('{CONTEXT}', true), ''), 200), TG_TABLE_NAME, "
            "TG_OP, n, ids, COALESCE(cols, '[]'::jsonb), b, a, txid_current());"
        )
        sql.append("RETURN NULL;")
        return " ".join(sql)


def _quote(column: str) -> str:
    return f'"{column}"'


def _differs(column: str) -> str:
    return f"o.{_quote(column)} IS DISTINCT FROM n.{_quote(column)}"


def statement_audit(personal: tuple[str, ...] | None = None) -> list[StatementAudit]:
    """The three triggers (INSERT, UPDATE, DELETE) for a model's ``Meta.triggers``;
    a trigger with transition tables answers one kind of statement."""
    return [
        StatementAudit(name="audit_insert", operation=pgtrigger.Insert, personal=personal),
        StatementAudit(name="audit_update", operation=pgtrigger.Update, personal=personal),
        StatementAudit(name="audit_delete", operation=pgtrigger.Delete, personal=personal),
    ]


@contextmanager
def audit_actor(user, context: str = "") -> Iterator[None]:
    """While the block runs, the triggers record ``user`` (None: the system) and
    ``context`` as who wrote and from where; the previous values come back after it.

    Session settings, not ``SET LOCAL``: a request writes in several transactions. The
    values in force are also kept on the connection wrapper, so that one round trip sets
    them, one puts the previous ones back, and a connection opened meanwhile gets them.
    """
    if connection.vendor != "postgresql":
        yield
        return
    values = (
        str(user.pk) if user is not None and user.pk else "",
        getattr(user, "username", "") or "系统",
        context[:200],
    )
    previous = getattr(connection, _IN_FORCE, EMPTY)
    _apply(connection, values)
    try:
        yield
    finally:
        # A broken connection, or one inside a failed transaction, is closed before it is
        # used again, and a new one starts with the values kept on the wrapper.
        with suppress(DatabaseError):
            _apply(connection, previous)
        setattr(connection, _IN_FORCE, previous)


def _apply(wrapper, values: tuple[str, str, str]) -> None:
    setattr(wrapper, _IN_FORCE, values)
    _send(wrapper, values)


def _send(wrapper, values: tuple[str, str, str]) -> None:
    with wrapper.cursor() as cursor:
        cursor.execute(
            "SELECT " + ", ".join(["set_config(%s, %s, false)"] * len(SETTINGS)),
            [v for pair in zip(SETTINGS, values, strict=True) for v in pair],
        )


@receiver(connection_created)
def _reapply(sender, connection, **kwargs) -> None:
    """A connection opened inside an ``audit_actor`` block (the previous one closed or
    broken) names the same user."""
    values = getattr(connection, _IN_FORCE, EMPTY)
    if connection.vendor == "postgresql" and values != EMPTY:
        _send(connection, values)


class AuditActorMiddleware:
    """Names the signed-in user to the triggers while the request runs (after
    AuthenticationMiddleware). Anonymous requests open no database connection for it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or connection.vendor != "postgresql":
            return self.get_response(request)
        with audit_actor(user, f"{request.method} {request.path}"):
            return self.get_response(request)
