"""The "persons" counter of every village (roster.figures.PERSONS_KEY): counted once here,
kept by the writers from now on like every other counter."""

from django.db import migrations
from django.db.models import Count


def count_persons(apps, schema_editor):
    Person = apps.get_model("roster", "Person")
    FigureCount = apps.get_model("roster", "FigureCount")
    FigureCount.objects.filter(key="persons").delete()
    rows = (
        Person.objects.order_by()
        .values_list("township_id", "village_id")
        .annotate(n=Count("id"))
        .values_list("township_id", "village_id", "n")
    )
    FigureCount.objects.bulk_create(
        FigureCount(township_id=township_id, village_id=village_id or 0, key="persons", n=n)
        for township_id, village_id, n in rows
    )


def forget_persons(apps, schema_editor):
    apps.get_model("roster", "FigureCount").objects.filter(key="persons").delete()


class Migration(migrations.Migration):
    dependencies = [("roster", "0019_person_search_indexes")]

    operations = [migrations.RunPython(count_persons, forget_persons)]
