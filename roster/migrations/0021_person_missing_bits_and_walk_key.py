"""What each person lacks, and the order a collector walks a village in, as columns.

The verification queue (核查队列) grouped its persons in Python by what each lacks,
checking the nine elements of every one of them (0.3 s per 5,000), and sorted them there
too (2组 before 10组 is no order a database knows). ``missing_bits`` and ``walk_key`` hold
both, worked out from the person's own fields (``roster.verification.person_derive``),
so the database counts, filters and pages the queue. ``walk_key`` compares byte by byte
(COLLATE "C" on PostgreSQL; SQLite compares bytes already).

Every person is worked out once here: read in key order, computed in Python, written
back through a staged table in one UPDATE (10 minutes for a million persons, most of it
the UPDATE, on a benchmark machine loaded five times over its two cores). The
index on the village goes: ``person_walk_order`` leads with the village and serves what
it served. Last, the progress counters are counted again, with the queue's new ones.
"""

import datetime
from types import SimpleNamespace

from django.db import migrations, models

CHUNK = 20_000
READ = (
    "id",
    "name",
    "gender",
    "birth_date",
    "nationality",
    "occupation",
    "address",
    "phone",
    "id_number",
    "id_type",
    "id_valid_from",
    "id_valid_until",
    "id_valid_long_term",
    "photo",
    "photo_on_12333",
    "group_name",
)
DATES = ("birth_date", "id_valid_from", "id_valid_until")


def _collate(collation):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(
            f'ALTER TABLE roster_person ALTER COLUMN walk_key TYPE varchar(255) COLLATE "{collation}"'
        )

    return apply


def derive(apps, schema_editor):
    from dayao_sscard.bulk import analyse, bulk_insert
    from roster.elements import missing_elements, walk_key

    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE person_derived (id bigint, missing_bits integer, walk_key varchar(255))")
        last = 0
        while True:
            cursor.execute(
                f"SELECT {', '.join(READ)} FROM roster_person WHERE id > %s ORDER BY id LIMIT {CHUNK}",
                [last],
            )
            rows = cursor.fetchall()
            if not rows:
                break
            last = rows[-1][0]
            staged = []
            for row in rows:
                person = SimpleNamespace(**dict(zip(READ, row, strict=True)))
                for name in DATES:  # SQLite's cursor gives dates as text
                    if isinstance(value := getattr(person, name), str):
                        setattr(person, name, datetime.date.fromisoformat(value))
                staged.append((person.id, missing_elements(person), walk_key(person.group_name, person.name)))
            bulk_insert("person_derived", ("id", "missing_bits", "walk_key"), staged)
        analyse("person_derived")
        cursor.execute(
            "UPDATE roster_person SET missing_bits = (SELECT d.missing_bits FROM person_derived d "
            "WHERE d.id = roster_person.id), walk_key = (SELECT d.walk_key FROM person_derived d "
            "WHERE d.id = roster_person.id)"
            if connection.vendor != "postgresql"
            else "UPDATE roster_person p SET missing_bits = d.missing_bits, walk_key = d.walk_key "
            "FROM person_derived d WHERE d.id = p.id"
        )
        cursor.execute("DROP TABLE person_derived")


def count_existing_persons(apps, schema_editor):
    # Every figure, and the queue's new counters (work_missing_<element>), of a county
    # already in the database; from here on the writes keep them (see migration 0018).
    # What follows the counters (roster 0024, issuance 0016) fills its own tables later.
    from roster.progress import figures_rebuild

    figures_rebuild(recounted_signal=False)


class Migration(migrations.Migration):
    dependencies = [("roster", "0020_figure_count_persons")]

    operations = [
        migrations.AddField(
            model_name="person",
            name="missing_bits",
            field=models.PositiveIntegerField(
                db_default=0, default=0, editable=False, verbose_name="尚缺要素"
            ),
        ),
        migrations.AddField(
            model_name="person",
            name="walk_key",
            field=models.CharField(
                blank=True,
                db_default="",
                default="",
                editable=False,
                max_length=255,
                verbose_name="走访顺序",
            ),
        ),
        migrations.RunPython(_collate("C"), _collate("default")),
        migrations.RunPython(derive, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="person",
            name="village",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=models.deletion.PROTECT,
                related_name="persons",
                to="roster.village",
                verbose_name="村（社区）",
            ),
        ),
        migrations.AddIndex(
            model_name="person",
            index=models.Index(fields=["village", "township", "walk_key", "id"], name="person_walk_order"),
        ),
        migrations.AddIndex(
            model_name="person",
            index=models.Index(
                condition=models.Q(
                    ("id_valid_from__isnull", False),
                    ("id_valid_long_term", False),
                    ("id_valid_until__isnull", False),
                    ("verification_status", "pending"),
                ),
                fields=["township"],
                name="person_pending_dated",
            ),
        ),
        migrations.RunPython(count_existing_persons, migrations.RunPython.noop),
    ]
