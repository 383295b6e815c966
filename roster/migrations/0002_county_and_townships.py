"""Reference data: 大姚县 and its 12 townships (national statistical division codes, 2022)."""

from django.db import migrations

TOWNSHIPS = [
    ("532326101", "金碧镇", "金碧", ["金碧"]),
    ("532326102", "石羊镇", "石羊", ["石羊"]),
    ("532326103", "六苴镇", "六苴", ["六苴"]),
    ("532326104", "龙街镇", "龙街", ["龙街", "龙街乡"]),
    ("532326105", "新街镇", "新街", ["新街", "新街乡"]),
    ("532326106", "赵家店镇", "赵家店", ["赵家店", "赵家店乡"]),
    ("532326107", "三岔河镇", "三岔河", ["三岔河", "三岔河乡"]),
    ("532326108", "桂花镇", "桂花", ["桂花", "桂花乡"]),
    ("532326204", "昙华乡", "昙华", ["昙华"]),
    (
        "532326206",
        "湾碧傣族傈僳族乡",
        "湾碧",
        ["湾碧", "湾碧乡", "湾碧傣族傈僳族自治乡", "湾碧傣族傈傈族乡"],
    ),
    ("532326207", "铁锁乡", "铁锁", ["铁锁"]),
    ("532326208", "三台乡", "三台", ["三台"]),
]


def create(apps, schema_editor):
    County = apps.get_model("roster", "County")
    Township = apps.get_model("roster", "Township")
    county, _ = County.objects.update_or_create(
        code="532326",
        defaults={"name": "大姚县", "prefecture": "楚雄彝族自治州", "province": "云南省"},
    )
    for code, name, short_name, aliases in TOWNSHIPS:
        Township.objects.update_or_create(
            code=code,
            defaults={"county": county, "name": name, "short_name": short_name, "aliases": aliases},
        )


class Migration(migrations.Migration):
    dependencies = [("roster", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
