"""Excel downloads of the custody risks and the reconciliation: masked, audited with their
row counts, through the core's formula-safe writer.

The audit row is about the user who downloaded (so it falls in the user's own township on
the audit page); the filters asked and the rows written are in its values."""

from typing import BinaryIO

from django.db import transaction
from django.utils import timezone

from dayao_sscard.audit import audit_record
from dayao_sscard.permissions import require
from dayao_sscard.spreadsheets import XlsxWorkbook

from .reconciliation import Kind, reconciliation_items_iter
from .risks import (
    custody_age_days,
    custody_risk_cards,
    persons_holding_several,
    risk_advice,
    risk_days,
    risk_label,
)


def _local(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else "不详"


def custody_risks_export(*, user, stream: BinaryIO, township_code: str = "", kind: str = "") -> int:
    """The risky cards (rule 1) and the names holding several others' cards (rule 2) of the
    user's scope, optionally of one township and one kind; returns the rows written."""
    require(user, "issuance.view_custody_risks")
    days = risk_days()
    workbook = XlsxWorkbook()
    cards_sheet = workbook.sheet(
        "代管风险卡",
        header=(
            "序号", "乡镇", "村（社区）", "持卡人", "身份证号码", "社保卡卡号", "状态",
            "风险类型", "保管方", "责任人", "保管地点", "保管起始", "已保管天数", "处理建议",
        ),
        widths={"E": 22, "N": 60},
    )  # fmt: skip
    cards = custody_risk_cards(user=user, township_code=township_code, kind=kind, days=days)
    written = 0
    for written, card in enumerate(cards.iterator(chunk_size=2000), start=1):
        age = custody_age_days(card)
        cards_sheet.append(
            [
                written,
                card.person.township.name,
                card.person.village.name if card.person.village_id else "",
                card.person.name,
                card.person.masked_id_number,
                card.card_number or "",
                card.get_status_display(),
                risk_label(card.risk_kind),
                card.get_custody_kind_display(),
                card.custodian,
                card.custody_location,
                _local(card.custody_since),
                age if age is not None else "不详",
                risk_advice(card.risk_kind),
            ]
        )
    holders_sheet = workbook.sheet(
        "代管多人社保卡的人员",
        header=(
            "乡镇", "姓名", "是否系统工作人员", "持卡人", "身份证号码", "社保卡卡号", "状态",
            "接收时间", "是否仍在其手中",
        ),
        widths={"E": 22},
    )  # fmt: skip
    holder_rows = 0
    if not kind:
        for holder in persons_holding_several(user=user, township_code=township_code):
            for held in holder.cards:
                holder_rows += 1
                holders_sheet.append(
                    [
                        holder.township.name,
                        holder.name,
                        "是" if holder.is_staff_user else "",
                        held.card.person.name,
                        held.card.person.masked_id_number,
                        held.card.card_number or "",
                        held.card.get_status_display(),
                        _local(held.received_at),
                        "是" if held.still_held else "否",
                    ]
                )
    with transaction.atomic():
        audit_record(
            actor=user,
            action="issuance.custody_risks.exported",
            obj=user,
            after={
                "rows": written,
                "holder_rows": holder_rows,
                "township": township_code,
                "kind": kind,
                "days": days,
            },
            note=f"导出代管风险卡 {written} 张、代管多人社保卡的人员明细 {holder_rows} 行（已脱敏）",
        )
    workbook.save(stream)
    return written


def reconciliation_export(
    *, user, stream: BinaryIO, township_code: str = "", kind: str = ""
) -> int:
    """The reconciliation items of the user's scope (optionally one township and kind)."""
    require(user, "issuance.view_reconciliation")
    workbook = XlsxWorkbook()
    sheet = workbook.sheet(
        "对账不一致",
        header=(
            "序号", "不一致类型", "乡镇", "姓名", "身份证号码", "社保卡卡号",
            "本系统台账", "卡务系统", "处理建议",
        ),
        widths={"E": 22, "G": 40, "H": 40, "I": 70},
    )  # fmt: skip
    written = 0
    items = reconciliation_items_iter(user=user, kind=kind, township=township_code)
    for written, item in enumerate(items, start=1):
        sheet.append(
            [
                written,
                item.label,
                item.township.name if item.township else "不在本县花名册",
                item.name,
                item.masked_id,
                item.card_number,
                item.ours,
                item.theirs,
                item.advice,
            ]
        )
    with transaction.atomic():
        audit_record(
            actor=user,
            action="issuance.reconciliation.exported",
            obj=user,
            after={"rows": written, "township": township_code, "kind": kind},
            note=f"导出对账不一致 {written} 条"
            + (f"（{Kind.LABELS[kind]}）" if kind in Kind.LABELS else ""),
        )
    workbook.save(stream)
    return written
