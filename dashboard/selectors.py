"""The figures of the role home pages (工作台), each read through the user's scope."""

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from dayao_sscard.models import Campaign
from issuance.models import Card, CardStatus, CustodyKind
from roster.models import Person, Township, VitalStatus
from roster.selectors import card_class_aggregates, township_choices


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
    """Per township in scope: persons, and how many fall in each comparison class."""
    persons = Person.objects.for_user(user)
    aggregates = {
        "total": Count("id"),
        "deceased": Count("id", filter=Q(vital_status=VitalStatus.DECEASED)),
        **card_class_aggregates(),
    }
    rows = {
        row["township"]: row for row in persons.values("township").annotate(**aggregates).order_by()
    }
    result = []
    for township in township_choices(user=user) if user.is_county_wide else _own_townships(user):
        counts = rows.get(township.pk, {})
        result.append({"township": township, **{k: counts.get(k, 0) for k in aggregates}})
    return result


def _own_townships(user) -> list[Township]:
    ids = Person.objects.for_user(user).values_list("township", flat=True).distinct().order_by()
    return list(Township.objects.filter(pk__in=list(ids)))
