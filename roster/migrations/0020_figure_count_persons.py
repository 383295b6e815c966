"""Counters of every village the lists page by (roster.figures): "persons", everyone, and
"cards_…", the persons whose live card is in stock or in transit, issued and not
activated, dormant, recovered. Counted once here; kept by the writers from now on like
every other counter."""

from django.db import migrations
from django.db.models import Count

CARD_KEYS = {
    "cards_waiting": ("in_stock", "in_transit"),
    "cards_issued": ("issued",),
    "cards_dormant": ("dormant",),
    "cards_recovered": ("recovered",),
}


def count_persons(apps, schema_editor):
    Person = apps.get_model("roster", "Person")
    Card = apps.get_model("issuance", "Card")
    FigureCount = apps.get_model("roster", "FigureCount")
    FigureCount.objects.filter(key__in=["persons", *CARD_KEYS]).delete()
    counts = {
        "persons": Person.objects.order_by()
        .values_list("township_id", "village_id")
        .annotate(n=Count("id"))
    }
    for key, statuses in CARD_KEYS.items():
        counts[key] = (
            Card.objects.filter(status__in=statuses)
            .order_by()
            .values_list("person__township_id", "person__village_id")
            .annotate(n=Count("person_id", distinct=True))
        )
    FigureCount.objects.bulk_create(
        FigureCount(township_id=township_id, village_id=village_id or 0, key=key, n=n)
        for key, rows in counts.items()
        for township_id, village_id, n in rows
    )


def forget_persons(apps, schema_editor):
    FigureCount = apps.get_model("roster", "FigureCount")
    FigureCount.objects.filter(key__in=["persons", *CARD_KEYS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("roster", "0019_person_search_indexes"),
        ("issuance", "0013_branch_list_order_indexes"),
    ]

    operations = [migrations.RunPython(count_persons, forget_persons)]
