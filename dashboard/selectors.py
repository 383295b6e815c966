"""The figures of the role home pages (工作台), each read through the user's scope."""

from django.db.models import Count, QuerySet
from django.utils import timezone

from dayao_sscard.models import Campaign
from issuance.models import Card, CardStatus, CustodyKind
from roster.models import Township
from roster.reports import PAGE_KEYS, classification_report


def campaign_active() -> Campaign | None:
    return Campaign.objects.filter(is_active=True).first()


def campaign_stages(campaign: Campaign | None) -> list[dict]:
    if campaign is None:
        return []
    today = timezone.localdate()
    stages = campaign.stages()
    for stage in stages:
        stage["days_left"] = (stage["deadline"] - today).days
        stage["overdue"] = stage["days_left"] < 0
        stage["days_overdue"] = -stage["days_left"]
    return stages


def card_status_counts(*, user) -> list[dict]:
    counts = dict(
        Card.objects.for_user(user).values_list("status").annotate(n=Count("id")).order_by()
    )
    return [{"status": s, "count": counts.get(s.value, 0)} for s in CardStatus]


def cards_held_by_cadres(*, user) -> QuerySet[Card]:
    """Cards sitting with a township or village office: a custody risk to show."""
    return (
        Card.objects.for_user(user)
        .filter(
            custody_kind__in=[CustodyKind.TOWNSHIP, CustodyKind.VILLAGE],
            status__in=[CardStatus.IN_STOCK, CardStatus.IN_TRANSIT],
        )
        .select_related("person", "person__township")
        .order_by("custody_since")
    )


def class_counts_by_township(*, user) -> list[dict]:
    """Per township in scope, the comparison's figures: the persons named on an unissued
    list, by class, as 数据比对 shows them (the same selector, so the pages agree)."""
    report = classification_report(user=user, keys=PAGE_KEYS)
    townships = {t.code: t for t in Township.objects.all()}
    return [{**row, "township": townships[row["code"]]} for row in report["townships"]]
