"""Figures per township for the comparison stage (数据比对)."""

from collections import defaultdict

from django.db.models import Count

from .figures import subsidy_key
from .models import CardClass, InvalidListRow, ListKind
from .progress import counted, townships_of
from .witnesses import DISAGREEMENT, DISAGREEMENT_LABEL

REPORT_KEYS = (
    "listed",
    "card_made",
    "in_production",
    "card_failed",
    "no_card_info",
    "invalid_id",
    "deceased",
    "subsidy_recipients",
    "subsidy_without_card",
)
REPORT_LABELS = {
    "listed": "名单人数",
    "card_made": "已制卡",
    "in_production": "制卡中",
    "card_failed": "制卡失败",
    "no_card_info": "无制卡信息",
    DISAGREEMENT: DISAGREEMENT_LABEL,
    "invalid_id": "身份信息有误",
    "deceased": "已死亡",
    "subsidy_recipients": "补贴对象",
    "subsidy_without_card": "补贴对象未持卡",
}


# The pages also show the persons the two witnesses disagree about; the pinned JSON report
# (``manage.py report classification``) keeps REPORT_KEYS.
PAGE_KEYS = (*REPORT_KEYS[:5], DISAGREEMENT, *REPORT_KEYS[5:])


def classification_report(
    *, user=None, subsidy_project: str = "", keys: tuple[str, ...] = REPORT_KEYS
) -> dict:
    """``{"townships": [...], "total": {...}}`` with ``keys`` for each township in scope,
    read from the progress counters (roster.progress) like every other figure."""
    counters = {
        "listed": "listed",
        **{key: f"class_{key}" for key in (*CardClass.values, DISAGREEMENT)},
        "deceased": "deceased",
        "subsidy_recipients": subsidy_key("subsidy_recipients", subsidy_project),
        "subsidy_without_card": subsidy_key("subsidy_without_card", subsidy_project),
    }
    rows: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (township_id, _village_id), figures in counted(user=user).items():
        for key, counter in counters.items():
            rows[township_id][key] += figures.get(counter, 0)
    invalid_rows = InvalidListRow.objects.filter(
        id_unusable=True, source_list__kind=ListKind.UNISSUED
    )
    if user is not None:
        invalid_rows = invalid_rows.for_user(user)
    invalid = dict(invalid_rows.values_list("township_id").annotate(n=Count("id")).order_by())
    result = []
    for township in townships_of(user):
        counts = rows.get(township.pk, {})
        entry = {"code": township.code, "name": township.name}
        entry.update({k: counts.get(k, 0) for k in keys if k != "invalid_id"})
        entry["invalid_id"] = invalid.get(township.pk, 0)
        result.append({k: entry[k] for k in ("code", "name", *keys)})
    total = {k: sum(t[k] for t in result) for k in keys}
    if user is None or user.is_county_wide:
        # Unusable rows whose township could not be read still count for the county.
        total["invalid_id"] += invalid.get(None, 0)
    return {"townships": result, "total": total}
