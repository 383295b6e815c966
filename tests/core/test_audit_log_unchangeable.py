"""The database refuses to change or delete the audit log, except for the retention
service deleting rows past the audit period (never younger than six months)."""

from datetime import timedelta

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from dayao_sscard.models import AuditEvent, DataChange
from dayao_sscard.retention import audit_purge, retention_run
from tests.factories import UserFactory


def event(**fields) -> AuditEvent:
    return AuditEvent.objects.create(
        action="roster.person.updated", object_type="roster.person", object_id="1", **fields
    )


def old_event(days: int, **fields) -> AuditEvent:
    """An audit row written ``days`` ago."""
    with time_machine.travel(timezone.now() - timedelta(days=days), tick=False):
        return event(**fields)


def refused(write) -> bool:
    try:
        with transaction.atomic():
            write()
    except DatabaseError as exc:
        return "操作日志不能" in str(exc)
    return False


@pytest.mark.django_db
class TestNobodyChangesIt:
    def test_an_update_is_refused(self):
        row = event(note="原说明")
        assert refused(lambda: AuditEvent.objects.filter(pk=row.pk).update(note="改过的说明"))
        row.note = "改过的说明"
        assert refused(row.save)
        assert AuditEvent.objects.get(pk=row.pk).note == "原说明"

    def test_raw_sql_is_refused_too(self):
        row = event()
        table = AuditEvent._meta.db_table

        def raw(sql):
            def run():
                with connection.cursor() as cursor:
                    cursor.execute(sql, [row.pk])

            return run

        assert refused(raw(f"UPDATE {table} SET action = 'x' WHERE id = %s"))
        assert refused(raw(f"DELETE FROM {table} WHERE id = %s"))
        assert AuditEvent.objects.filter(pk=row.pk, action="roster.person.updated").exists()

    def test_a_delete_is_refused_however_old_the_row(self):
        recent, ancient = event(), old_event(2000)
        for row in (recent, ancient):
            assert refused(AuditEvent.objects.filter(pk=row.pk).delete)
            assert refused(row.delete)
        assert AuditEvent.objects.count() == 2

    def test_deleting_an_account_keeps_its_rows_and_name(self, clerk_a):
        row = event(actor=clerk_a, actor_username=clerk_a.username)
        clerk_a.delete()
        row.refresh_from_db()
        assert (row.actor_id, row.actor_username) == (None, "clerk_a")

    def test_an_update_that_only_looks_like_an_account_deleted_is_refused(self):
        row = event(actor=UserFactory(), note="原说明")
        assert refused(
            lambda: AuditEvent.objects.filter(pk=row.pk).update(actor=None, note="改过的说明")
        )


@pytest.mark.django_db
class TestRetentionDeletesOnlyWhatIsPastItsPeriod:
    def test_rows_past_the_period_go_and_the_rest_stay(self, settings):
        settings.AUDIT_RETENTION_DAYS = 365
        expired = old_event(400)
        kept = old_event(300)
        recent = event()

        result = retention_run()

        assert result.audit_events_deleted == 1
        assert not AuditEvent.objects.filter(pk=expired.pk).exists()
        assert AuditEvent.objects.filter(pk__in=[kept.pk, recent.pk]).count() == 2
        purged = AuditEvent.objects.get(action="dayao_sscard.auditevent.purged")
        assert purged.after["删除操作日志条数"] == 1
        # The permission ended with its transaction: the next delete is refused again.
        assert refused(AuditEvent.objects.filter(pk=kept.pk).delete)

    def test_the_database_refuses_the_purge_a_row_under_six_months(self):
        """Even on the retention service's own path, whatever period it was given."""
        young = old_event(100)
        with pytest.raises(DatabaseError, match="操作日志不能删除"):
            audit_purge(before=timezone.now())
        assert AuditEvent.objects.filter(pk=young.pk).exists()

    @pytest.mark.skipif(
        connection.vendor != "postgresql", reason="data changes are recorded on PostgreSQL"
    )
    def test_data_changes_are_kept_and_purged_alike(self, person_a, settings):
        settings.AUDIT_RETENTION_DAYS = 183
        change = DataChange.objects.filter(table_name="roster_person").latest("id")
        assert refused(lambda: DataChange.objects.filter(pk=change.pk).update(row_count=0))
        assert refused(DataChange.objects.filter(pk=change.pk).delete)
        # Written by the trigger with the database's clock, which no test can move: an
        # old row is put in by hand (INSERT is allowed, as for the triggers).
        table = DataChange._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (at, actor_username, db_user, context, table_name, "
                "operation, row_count, row_ids, columns, transaction_id) SELECT "
                "now() - interval '200 days', '', 'postgres', '', 'roster_person', 'UPDATE', "
                "1, '[[1, 1]]', '[]', 1 RETURNING id"
            )
            (old_id,) = cursor.fetchone()

        assert retention_run().data_changes_deleted == 1
        assert not DataChange.objects.filter(pk=old_id).exists()
        assert DataChange.objects.filter(pk=change.pk).exists()
