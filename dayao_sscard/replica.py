"""The dashboards read from a PostgreSQL replica, when the installation has one.

``DATABASE_REPLICA_URL`` names a streaming replica of the database (docs/DEPLOYMENT.md,
"扩展到多台服务器"). The dashboard pages read from it (``reads_from_replica``): their counting
queries, the heaviest of the busiest hours, leave the primary to the clerks' writes. Every
write, and every read of every other page, goes to the primary, so a clerk always sees
what they have just saved. A replica lags behind by a second or so: a dashboard figure may
be that old. Without a replica nothing changes.
"""

import contextvars
import functools

from django.conf import settings

REPLICA = "replica"
_reading_replica = contextvars.ContextVar("reading_replica", default=False)


def reading_replica() -> bool:
    """Whether reads now go to the replica (inside a dashboard page, with a replica)."""
    return _reading_replica.get() and REPLICA in settings.DATABASES


def reads_from_replica(view):
    """The view's reads go to the replica. Put it under the login and permission checks:
    the user and the session are read from the primary before."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        token = _reading_replica.set(True)
        try:
            return view(*args, **kwargs)
        finally:
            _reading_replica.reset(token)

    return wrapper


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        return REPLICA if reading_replica() else None

    def db_for_write(self, model, **hints):
        return None

    def allow_relation(self, obj1, obj2, **hints):
        # The replica holds the same rows as the primary.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return False if db == REPLICA else None
