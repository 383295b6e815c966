"""Show audit events as a clerk reads them: Chinese names, local times, masked values.

Stored events keep codes (``pending``, user ids, ISO times, file names); this is the
one place that turns them into words. Technical fields (ids, versions, file paths,
fingerprints) are left out.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django import template
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.utils.dateparse import parse_date, parse_datetime

from dayao_sscard.audit import action_label
from dayao_sscard.templatetags.display import day, when
from roster.id_numbers import mask_id_number, mask_phone

register = template.Library()

SYSTEM_ACCOUNTS = {"", "system", "系统"}
EMPTY = "（空）"
_MASKS = {"phone": mask_phone, "id_number": mask_id_number, "raw_id_number": mask_id_number}
# Bookkeeping a clerk has no use for; the thumbnail only repeats the photo.
_HIDDEN = {"id", "version", "created_at", "updated_at", "photo_thumbnail", "password"}
_HIDDEN_SUFFIXES = ("_sha256", "_hash", "_path", "_pid", "_host")


@dataclass(frozen=True)
class Change:
    label: str
    before: str | None  # None: the event recorded no earlier value (a creation)
    after: str | None  # None: no later value (a deletion)


@register.filter
def audit_action(event) -> str:
    return action_label(event.action) or "其他操作"


@register.filter
def audit_actor(event) -> str:
    if event.actor_id and event.actor is not None:
        return str(event.actor)
    return "系统" if event.actor_username in SYSTEM_ACCOUNTS else event.actor_username


@register.simple_tag(takes_context=True)
def audit_changes(context, event) -> list[Change]:
    """``{% audit_changes e as changes %}``: what changed, each value in words.

    Names of related records are looked up once per page, not once per event (all of a
    page's at once when it says ``{% audit_names events %}`` first).
    """
    names = _names(context)
    model = _model(event.object_type)
    before, after = event.before or {}, event.after or {}
    changes = []
    for name in dict.fromkeys([*before, *after]):
        field = _field(model, name)
        label = _label(field, name)
        if label is None:
            continue
        if event.before is None and after.get(name) in (None, ""):
            continue  # a new record's empty fields say nothing
        changes.append(
            Change(
                label,
                _show(field, name, before.get(name), names) if event.before is not None else None,
                _show(field, name, after.get(name), names) if event.after is not None else None,
            )
        )
    return changes


@register.simple_tag(takes_context=True)
def audit_names(context, events) -> str:
    """``{% audit_names page %}`` before the events: the names of every related record
    they show, one query per model instead of one per record."""
    names = _names(context)
    wanted: dict = defaultdict(set)
    for event in events:
        model = _model(event.object_type)
        for values in (event.before or {}, event.after or {}):
            for name, value in values.items():
                field = _field(model, name)
                if (
                    isinstance(field, models.ForeignKey)
                    and not field.choices
                    and name not in _MASKS
                    and isinstance(value, int | str)
                    and value != ""
                    and _label(field, name) is not None
                ):
                    wanted[field.related_model].add(value)
    for related, values in wanted.items():
        pk_field = related._meta.pk
        asked = {}
        for value in values:
            try:
                asked[value] = pk_field.to_python(value)
            except ValidationError:
                continue
        found = {
            obj.pk: str(obj) for obj in related._default_manager.filter(pk__in=set(asked.values()))
        }
        for value, pk in asked.items():
            names[(related._meta.label_lower, value)] = found.get(pk, "（已删除）")
    return ""


def _names(context) -> dict:
    # The bottom layer of the render context: each {% include %} (one per event) pushes a
    # layer of its own, and a cache kept there would be thrown away after every event.
    return context.render_context.dicts[0].setdefault("audit_related_names", {})


def _model(label: str):
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _field(model, name: str):
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _label(field, name: str) -> str | None:
    """The field's Chinese name; None for what is technical or has no Chinese name."""
    if name in _HIDDEN or name.endswith(_HIDDEN_SUFFIXES):
        return None
    if field is None:
        # Summaries such as {"读取行数": 494} carry their own Chinese keys.
        return name if _has_chinese(name) else None
    if isinstance(field, models.AutoField | models.BigAutoField):
        return None
    return str(field.verbose_name)


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in text)


def _show(field, name: str, value, names: dict) -> str:
    if value in (None, ""):
        return EMPTY
    if name in _MASKS:
        return _MASKS[name](str(value))
    if field is None:
        return _plain(value)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.ForeignKey):
        return _related_name(field.related_model, value, names)
    if isinstance(field, models.FileField):
        return "已上传"
    if isinstance(field, models.BooleanField):
        return "是" if value else "否"
    if isinstance(field, models.DateTimeField):
        moment = parse_datetime(str(value))
        return when(moment) if moment else str(value)
    if isinstance(field, models.DateField):
        date = parse_date(str(value)[:10])
        return day(date) if date else str(value)
    return _plain(value)


def _plain(value) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dict | list):
        return "；".join(f"{k} {v}" for k, v in value.items()) if isinstance(value, dict) else ""
    if isinstance(value, datetime.datetime | datetime.date):
        return when(value)
    return str(value)


def _related_name(model, pk, names: dict) -> str:
    key = (model._meta.label_lower, pk)
    if key not in names:
        obj = model._default_manager.filter(pk=pk).first()
        names[key] = str(obj) if obj is not None else "（已删除）"
    return names[key]
