"""Reads of the supervision dashboards (进度督导): the figures of ``roster.progress`` per
township (county roles) or per village (a township's staff, a village's collector), each
with its share, its change since yesterday's snapshot, the link to the persons behind it
and the township's (or village's) standing against the stage whose deadline is next.

Every number is one of ``roster.figures``: the dashboards add no count of their own, so
they show exactly what ``manage.py report progress`` prints and what the person list
behind each number lists.
"""

import datetime
from urllib.parse import urlencode

from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

from dayao_sscard.permissions import may
from issuance.proxies import EXPIRING_WITHIN_DAYS
from issuance.proxy_selectors import proxy_expiring_counts
from issuance.risks import custody_risk_counts, risk_days
from roster.figures import FIGURE_HELP, FIGURE_LABELS, FUNNEL_KEYS, SIDE_KEYS
from roster.models import ListKind, Township
from roster.progress import (
    STAGE_MEASURES,
    figure_share,
    next_stage,
    progress_by_township,
    progress_by_village,
    progress_trend,
    share_base,
    snapshot_day_for,
    stage_standing,
    townships_of,
)
from roster.selectors import NO_VILLAGE, subsidy_readiness

from .selectors import campaign_active
from .svg_charts import short_day_label

# The columns of the figures table: the base, the funnel, then the side figures.
TABLE_KEYS = ("should_hold", *FUNNEL_KEYS, *SIDE_KEYS)

TREND_DAYS = 60


def dashboard_township(*, user, code: str) -> Township:
    """A township the user's dashboards reach; another township's code answers 404."""
    return get_object_or_404(townships_of(user), code=code)


def figure_columns() -> list[dict]:
    return [
        {
            "key": key,
            "label": FIGURE_LABELS[key],
            "help": FIGURE_HELP[key],
            "base": FIGURE_LABELS[share_base(key)] if share_base(key) else "",
        }
        for key in TABLE_KEYS
    ]


def persons_url(*, base: str = "", **params: str) -> str:
    """The person list behind a number: the scope's filters and the figure. ``base``: the
    list's address when the caller has looked it up once for many numbers."""
    base = base or reverse("roster:person-list")
    return f"{base}?{urlencode({k: v for k, v in params.items() if v})}"


def _cells(figures: dict, before: dict | None, **scope: str) -> list[dict]:
    base = reverse("roster:person-list")  # once, not for each of the table's numbers
    cells = []
    for key in TABLE_KEYS:
        count = figures[key]
        cells.append(
            {
                "key": key,
                "label": FIGURE_LABELS[key],
                "count": count,
                "share": figure_share(figures, key),
                "change": None if before is None else count - before.get(key, 0),
                "url": persons_url(base=base, **scope, figure=key),
            }
        )
    return cells


def _stage(today: datetime.date) -> dict | None:
    campaign = campaign_active()
    stage = next_stage(campaign.stages(), today) if campaign else None
    if stage is None:
        return None
    figure, base = STAGE_MEASURES[stage["code"]]
    return {
        **stage,
        "campaign": campaign.name,
        "figure": figure,
        "figure_label": FIGURE_LABELS[figure],
        "base_label": FIGURE_LABELS[base],
        "days_left": (stage["deadline"] - today).days,
        "days_label": days_label((stage["deadline"] - today).days),
    }


def _standing(figures: dict, stage: dict | None, today: datetime.date, **scope: str):
    if stage is None:
        return None
    standing = stage_standing(figures, stage, today)
    return {
        **standing,
        "url": persons_url(**scope, figure=standing["figure"]),
        "days_label": days_label(standing["days_left"]),
    }


def days_label(days_left: int) -> str:
    if days_left > 0:
        return f"还剩 {days_left} 天"
    if days_left == 0:
        return "今天截止"
    return f"已逾期 {-days_left} 天"


def _comparison(today: datetime.date) -> dict:
    """Which snapshot "since yesterday" compares with, and how the page says so."""
    yesterday = today - datetime.timedelta(days=1)
    day = snapshot_day_for(yesterday)
    if day is None:
        return {
            "day": None,
            "note": "尚无昨日的快照（每日快照在夜间生成），暂不能显示较昨日的变化。",
        }
    if day == yesterday:
        return {"day": day, "note": "各数字下方的“+/−”为较昨日快照的变化。"}
    return {
        "day": day,
        "note": f"昨日没有快照：各数字下方的“+/−”为较 {day:%Y-%m-%d} 快照的变化。",
    }


def _rows(places: list[dict], before: dict | None, stage, today, scope_of) -> list[dict]:
    """``before``: yesterday's figures by place (None: no snapshot to compare with)."""
    rows = []
    for place in places:
        scope = scope_of(place)
        prior = None if before is None else before.get(_place_key(place), {})
        rows.append(
            {
                **place,
                "place": str(_place_key(place)),
                "cells": _cells(place, prior, **scope),
                "standing": _standing(place, stage, today, **scope),
            }
        )
    return rows


def _place_key(place: dict):
    return place["code"] if "code" in place else place["village_id"]


def county_dashboard(*, user) -> dict:
    """Per township in the user's scope (every one, for the county roles)."""
    today = timezone.localdate()
    stage = _stage(today)
    comparison = _comparison(today)
    now = progress_by_township(user=user)
    before = None
    if comparison["day"] is not None:
        earlier = progress_by_township(user=user, day=comparison["day"])
        before = {row["code"]: row for row in earlier["townships"]}
        before[None] = earlier["total"]
    rows = _rows(now["townships"], before, stage, today, lambda t: {"township": t["code"]})
    total = {
        "name": "全县合计",
        "cells": _cells(now["total"], None if before is None else before[None]),
        "standing": _standing(now["total"], stage, today),
    }
    return {
        "level": "county",
        "place_label": "乡镇",
        "today": today,
        "stage": stage,
        "comparison": comparison,
        "columns": figure_columns(),
        "rows": rows,
        "total": total,
        **_charted(
            now["total"],
            total,
            rows,
            stage,
            progress_trend(user=user, days=TREND_DAYS, current=now["total"]),
        ),
        "custody": _custody(user=user),
        "subsidies": _subsidies(user=user),
    }


def township_dashboard(*, user, township: Township) -> dict:
    """Per village of one township the user reaches (a village collector: their own)."""
    today = timezone.localdate()
    stage = _stage(today)
    comparison = _comparison(today)
    now = progress_by_village(user=user, township=township)
    before = None
    if comparison["day"] is not None:
        earlier = progress_by_village(user=user, township=township, day=comparison["day"])
        before = {row["village_id"]: row for row in earlier["villages"]}
        before[None] = earlier["total"]

    def scope_of(village: dict) -> dict:
        return {"township": township.code, "village": str(village["village_id"] or NO_VILLAGE)}

    rows = _rows(now["villages"], before, stage, today, scope_of)
    # A collector's figures are their village's alone: named after the township, the
    # total would read as the whole township's.
    village = getattr(user, "village", None)
    scope_name = f"{township.name}{village.name}" if village is not None else township.name
    total = {
        "name": f"{scope_name}合计",
        "cells": _cells(
            now["total"], None if before is None else before[None], township=township.code
        ),
        "standing": _standing(now["total"], stage, today, township=township.code),
    }
    trend = progress_trend(user=user, township=township, days=TREND_DAYS, current=now["total"])
    return {
        "level": "township",
        "place_label": "村（社区）",
        "township": township,
        "scope_name": scope_name,
        "today": today,
        "stage": stage,
        "comparison": comparison,
        "columns": figure_columns(),
        "rows": rows,
        "total": total,
        **_charted(now["total"], total, rows, stage, trend),
        "custody": _custody(user=user, township=township),
        "subsidies": _subsidies(user=user, township=township),
    }


def _custody(*, user, township: Township | None = None) -> dict | None:
    """The custody-risk signals per township: the risk pages' own counts, and the proxy
    approvals about to expire, each with the page listing them."""
    if not may(user, "issuance.view_custody_risks"):
        return None
    expiring = (
        proxy_expiring_counts(user=user) if may(user, "issuance.view_proxy_approvals") else {}
    )
    rows = []
    for row in custody_risk_counts(user=user):
        code = row["township"].code
        if township is not None and code != township.code:
            continue
        rows.append(
            {
                "name": row["township"].name,
                "total": row["total"],
                "several": row["several"],
                "expiring": expiring.get(code, 0),
                "cards_url": f"{reverse('issuance:risk-cards')}?{urlencode({'township': code})}",
                "holders_url": f"{reverse('issuance:risk-holders')}?"
                + urlencode({"township": code}),
                "expiring_url": f"{reverse('issuance:proxy-list')}?"
                + urlencode({"state": "expiring", "township": code}),
            }
        )
    return {
        "rows": rows,
        "days": risk_days(),
        "expiring_days": EXPIRING_WITHIN_DAYS,
        "with_proxies": may(user, "issuance.view_proxy_approvals"),
        "overview_url": reverse("issuance:risks"),
    }


def _subsidies(*, user, township: Township | None = None) -> list[dict]:
    scope = {"township": township.code} if township else {}
    rows = []
    for row in subsidy_readiness(user=user, township=township):
        on_list = {**scope, "on_list": ListKind.SUBSIDY.value, "project": row["project"]}
        rows.append(
            {
                **row,
                "recipients_url": persons_url(**on_list),
                "issued_url": persons_url(**on_list, figure="issued"),
                "activated_url": persons_url(**on_list, figure="activated"),
            }
        )
    return rows


def _charted(figures: dict, total: dict, rows: list[dict], stage, trend: list[dict]) -> dict:
    """The charts' data and, for those who read rather than look, the same as tables."""
    return {
        "charts": _charts(figures, rows, stage, trend),
        "funnel_cells": [cell for cell in total["cells"] if cell["key"] in FUNNEL_KEYS],
        "trend_keys": [FIGURE_LABELS[key] for key in FUNNEL_KEYS],
        "trend_rows": [
            {
                "day": datetime.date.fromisoformat(row["date"]),
                "values": [row[key] for key in FUNNEL_KEYS],
            }
            for row in reversed(trend)
        ],
    }


def _charts(total: dict, rows: list[dict], stage: dict | None, trend: list[dict]) -> dict:
    """What ``static/js/dashboard.js`` draws, in Chinese, passed with ``json_script``."""
    chart = {
        "funnel": [{"name": FIGURE_LABELS[key], "value": total[key]} for key in FUNNEL_KEYS],
        "trend": {
            "dates": [short_day_label(datetime.date.fromisoformat(row["date"])) for row in trend],
            "series": [
                {"name": FIGURE_LABELS[key], "data": [row[key] for row in trend]}
                for key in FUNNEL_KEYS
            ],
        },
        "stage": None,
        "standing": [],
    }
    if stage is not None:
        chart["stage"] = {
            "title": f"{stage['label']}：{stage['figure_label']}占{stage['base_label']}的比例",
            "target": stage["target"],
        }
        chart["standing"] = [
            {
                "name": row["name"],
                "share": row["standing"]["share"],
                "expected": row["standing"]["expected"],
                "behind": row["standing"]["behind"],
            }
            for row in rows
        ]
    return chart
