"""The audit log: every write service records who changed what, before and after.

Call these inside the service's transaction, so the change and its record
stand or fall together. Bulk services pass all their changes at once.
"""

import datetime
import decimal
from collections.abc import Iterable

from django.apps import apps
from django.db import connection, models

from .models import AuditEvent

# Every action the code writes, as a clerk would say it. The admin's audited edits of
# reference data (``<app>.<model>.created|updated|deleted``) are named by the rule in
# ``action_label``. tests/core/test_audit_display.py fails when an action has no label.
ACTION_LABELS = {
    "accounts.user.created": "新建工作人员账号",
    "accounts.user.unlocked": "解除账号登录锁定",
    "accounts.login.unlocked": "解除登录锁定",
    "accounts.user.otp_enrolled": "绑定手机验证器（双因素认证）",
    "accounts.user.otp_reset": "重置手机验证器（双因素认证）",
    "dayao_sscard.job.file_uploaded": "上传文件",
    "dayao_sscard.job.input_deleted": "按留存规定删除上传的文件",
    "dayao_sscard.job.result_deleted": "按留存规定删除导出的文件",
    "dayao_sscard.auditevent.purged": "按留存规定删除过期的操作日志",
    "roster.demo.seeded": "生成演示数据",
    "roster.sourcelist.imported": "导入名单",
    "roster.sourcelist.classified": "按卡务系统导出重新比对",
    "roster.sourcelist.coverage_confirmed": "确认卡务系统导出的范围",
    "roster.person.updated": "修改人员信息",
    "roster.person.verified": "核查人员信息",
    "roster.person.photo_uploaded": "上传照片",
    "roster.person.marked_deceased": "登记死亡",
    "roster.person.deceased_undone": "撤销死亡登记",
    "roster.person.returned_to_verification": "制卡失败，退回核查",
    "roster.person.id_number_viewed": "查看完整身份证号码",
    "roster.person.list_exported": "导出人员名单",
    "roster.collectionconflict.updated": "处理12333采集冲突",
    "issuance.card.created": "登记社保卡",
    "issuance.card.applied": "社保卡申领",
    "issuance.card.production_started": "社保卡开始制卡",
    "issuance.card.production_failed": "社保卡制卡失败",
    "issuance.card.produced": "社保卡制卡完成",
    "issuance.card.handed_over": "社保卡交接",
    "issuance.card.received": "社保卡接收入库",
    "issuance.card.issued": "社保卡发放",
    "issuance.card.activated": "社保卡激活金融功能",
    "issuance.card.marked_dormant": "认定睡眠卡",
    "issuance.card.recovered": "社保卡回收登记",
    "issuance.card.cancelled": "社保卡注销",
    "issuance.card.opened_from_export": "按卡务系统导出建立社保卡台账",
    "issuance.ledger_entry.created": "记入流转台账",
    "issuance.ledger.exported": "导出发放台账",
    "dashboard.progress_report.exported": "生成进度通报",
    "issuance.cancellationrequest.created": "申请注销社保卡",
    "issuance.cancellationrequest.withdrawn": "撤回社保卡注销申请",
    "issuance.cancellationrequest.done": "办理社保卡注销，注销申请办结",
    "issuance.secondissuanceattempt.created": "登记二次发放联系情况",
    "issuance.card.provincial_entered": "回收登记已录入省系统",
    "issuance.recovery_list.exported": "导出回收清单",
    "issuance.custody_risks.exported": "导出代管风险名单",
    "issuance.reconciliation.exported": "导出与卡务系统对账结果",
    "issuance.applicationbatch.created": "新建申领批次",
    "issuance.applicationbatch.sent": "报送申领批次",
    "issuance.applicationbatch.file_downloaded": "下载制卡数据包（含完整身份证号码和照片）",
    "issuance.applicationbatch.result_imported": "导入制卡回盘",
    "issuance.batchmember.created": "加入申领批次",
    "issuance.batchmember.removed": "移出申领批次",
    "issuance.batchmember.result_recorded": "登记制卡回盘结果",
    "issuance.proxyapproval.registered": "登记代管（代领）审批",
    "issuance.proxyapproval.approved": "批准代管（代领）审批",
    "issuance.proxyapproval.revoked": "撤销代管（代领）审批",
    "issuance.proxyapproval.document_viewed": "查看代管证明材料",
    "issuance.signoffsheet.created": "打印集中发放签收表",
    "issuance.signoffsheet.recorded": "登记集中发放结果",
    "issuance.handover.created": "办理交接（交接单）",
    "issuance.handoveritem.created": "列入交接单",
    "issuance.handover.received": "确认接收交接单",
    "issuance.handoveritem.outcome_recorded": "登记交接卡片接收结果",
    "issuance.handoverextra.created": "登记交接单以外多出的卡",
    "issuance.handoveritem.received_late": "后补接收未到卡",
    "issuance.handover.sheet_attached": "上传签字交接单扫描件",
    "activation.ecard.signed": "登记电子社保卡签发",
    "activation.counter.person_found": "柜面按身份证号码查到尚无本网点社保卡的人员",
}
ADMIN_VERBS = {"created": "新建", "updated": "修改", "deleted": "删除"}


def action_label(action: str) -> str | None:
    """The Chinese phrase for an audit action, or None if nobody named it."""
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    model_label, _, verb = action.rpartition(".")
    if verb in ADMIN_VERBS:
        try:
            model = apps.get_model(model_label)
        except (LookupError, ValueError):
            return None
        return f"{ADMIN_VERBS[verb]}{model._meta.verbose_name}"
    return None


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


def audit_record_named(
    *, actor, action: str, object_type: str, object_id: str, object_repr: str, note: str = ""
) -> AuditEvent:
    """A row about something that is not a record of ours (a login lock on a username
    nobody has, an address)."""
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        actor_username=getattr(actor, "username", "") or "系统",
        action=action,
        object_type=object_type,
        object_id=object_id[:64],
        object_repr=object_repr[:200],
        note=note[:500],
    )


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


def audit_record_from_query(*, actor, action: str, query: str, params: list, at) -> int:
    """One audit row per row of ``query``, written by one INSERT … SELECT (bulk imports).

    ``query`` selects, in order: object_type, object_id (text), object_repr, township_id,
    before and after (JSON built in SQL with ``json_object_sql``, or NULL) and note.
    """
    names = (
        "actor_id actor_username at action object_type object_id object_repr township_id "
        "before after note"
    )
    columns = ", ".join(connection.ops.quote_name(name) for name in names.split())
    actor_id = actor.pk if actor is not None and actor.pk else None
    username = getattr(actor, "username", "") or "系统"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {AuditEvent._meta.db_table} ({columns}) "
            f"SELECT %s, %s, %s, %s, q.* FROM ({query}) q",
            [actor_id, username, at, action, *params],
        )
        return cursor.rowcount


def json_object_sql(fields: dict[str, str]) -> str:
    """A SQL expression building a JSON object from ``{key: SQL expression}``, on either
    database (keys are code, never user input)."""
    function = "jsonb_build_object" if connection.vendor == "postgresql" else "json_object"
    pairs = ", ".join(f"'{key}', {expression}" for key, expression in fields.items())
    return f"{function}({pairs})"


def json_null() -> str:
    """A JSON column's NULL inside a subquery (PostgreSQL would type a bare NULL as text)."""
    return "CAST(NULL AS jsonb)" if connection.vendor == "postgresql" else "NULL"


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
