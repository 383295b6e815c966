"""The audit log: every write service records who changed what, before and after.

Call these inside the service's transaction, so the change and its record
stand or fall together. Bulk services pass all their changes at once.
"""

import datetime
import decimal
from collections.abc import Iterable

from django.db import models

from .models import AuditEvent


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict:
    """The object's concrete field values as JSON-safe data (foreign keys as ids)."""
    data = {}
    for field in obj._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        data[field.name] = _json_safe(getattr(obj, field.attname))
    return data


def changed_fields(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the keys whose values differ, so the log shows the change and not the record."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def audit_record(
    *,
    actor,
    action: str,
    obj: models.Model,
    before: dict | None = None,
    after: dict | None = None,
    note: str = "",
) -> AuditEvent:
    return AuditEvent.objects.create(**_event_fields(actor, action, obj, before, after, note))


def audit_record_many(
    *,
    actor,
    action: str,
    changes: Iterable[tuple[models.Model, dict | None, dict | None]],
    note: str = "",
) -> int:
    """One audit row per changed object, written in batches (for bulk updates and imports)."""
    events = (
        AuditEvent(**_event_fields(actor, action, obj, before, after, note))
        for obj, before, after in changes
    )
    written = 0
    batch: list[AuditEvent] = []
    for event in events:
        batch.append(event)
        if len(batch) >= 2000:
            AuditEvent.objects.bulk_create(batch)
            written += len(batch)
            batch = []
    if batch:
        AuditEvent.objects.bulk_create(batch)
        written += len(batch)
    return written


def _event_fields(actor, action, obj, before, after, note) -> dict:
    return {
        "actor": actor if actor is not None and actor.pk else None,
        "actor_username": getattr(actor, "username", "") or "系统",
        "action": action,
        "object_type": obj._meta.label_lower,
        "object_id": str(obj.pk),
        "object_repr": str(obj)[:200],
        "township_id": _township_id_of(obj),
        "before": before,
        "after": after,
        "note": note[:500],
    }


def _township_id_of(obj: models.Model) -> int | None:
    for path in ("township_id", "person.township_id", "card.person.township_id"):
        value = obj
        try:
            for part in path.split("."):
                value = getattr(value, part)
        except AttributeError:
            continue
        return value
    return None


def _json_safe(value):
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or ""
    return value
