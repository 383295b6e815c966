"""Show audit events in Chinese, with personal values masked as everywhere else."""

from django import template
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist

from roster.id_numbers import mask_id_number, mask_phone

register = template.Library()

ACTION_LABELS = {
    "created": "新建",
    "updated": "修改",
    "deleted": "删除",
    "id_number_viewed": "查看完整身份证号码",
    "list_exported": "导出名单",
    "imported": "导入名单",
    "classified": "数据比对",
    "verified": "核查",
    "photo_uploaded": "上传照片：",
    "marked_deceased": "登记死亡：",
    "deceased_undone": "撤销死亡登记：",
    "conflict_resolved": "处理采集冲突：",
    "withdrawn": "撤回",
}
_MASKS = {"phone": mask_phone, "id_number": mask_id_number, "raw_id_number": mask_id_number}


@register.filter
def audit_action(event) -> str:
    model_label, _, verb = event.action.rpartition(".")
    model = _model(event.object_type)
    subject = model._meta.verbose_name if model else model_label
    if model_label.startswith("issuance.card") and verb not in ACTION_LABELS:
        from issuance.models import LedgerEvent

        return f"社保卡{LedgerEvent(verb).label}" if verb in LedgerEvent.values else event.action
    return f"{ACTION_LABELS.get(verb, verb)}{subject}"


@register.filter
def audit_changes(event) -> list[tuple[str, str, str]]:
    """(field label, before, after) with sensitive values masked."""
    model = _model(event.object_type)
    before, after = event.before or {}, event.after or {}
    rows = []
    for name in dict.fromkeys([*before, *after]):
        rows.append(
            (_label(model, name), _show(name, before.get(name)), _show(name, after.get(name)))
        )
    return rows


def _model(label: str):
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _label(model, name: str) -> str:
    if model is None:
        return name
    try:
        return str(model._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def _show(name: str, value) -> str:
    if value in (None, ""):
        return "（空）"
    mask = _MASKS.get(name)
    return mask(str(value)) if mask else str(value)
