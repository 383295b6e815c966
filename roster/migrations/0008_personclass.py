"""Move the comparison result off roster_person into roster_personclass.

The match rewrote card_class on every person row for each export (about 44 s per
million persons on PostgreSQL, an entry in each index of the wide row). Existing
results are copied, attributed to the latest card-system export; persons without a
class get no row, which is what 未比对 now means.
"""

import django.db.models.deletion
from django.db import migrations, models

COPY_CLASSES = """
INSERT INTO roster_personclass (person_id, card_class, failure_reason, snapshot_id, classified_at)
SELECT p.id, p.card_class, p.card_failure_reason,
       (SELECT s.id FROM roster_sourcelist s WHERE s.kind = 'card_export'
        ORDER BY s.imported_at DESC, s.id DESC LIMIT 1),
       COALESCE(p.classified_at, p.updated_at)
FROM roster_person p
WHERE p.card_class <> ''
"""

# Correlated subqueries rather than UPDATE … FROM, which older SQLite lacks.
RESTORE_CLASSES = """
UPDATE roster_person SET
    card_class = (SELECT c.card_class FROM roster_personclass c
                  WHERE c.person_id = roster_person.id),
    card_failure_reason = (SELECT c.failure_reason FROM roster_personclass c
                           WHERE c.person_id = roster_person.id),
    classified_at = (SELECT c.classified_at FROM roster_personclass c
                     WHERE c.person_id = roster_person.id)
WHERE id IN (SELECT person_id FROM roster_personclass)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("roster", "0007_person_places_without_db_constraint"),
    ]

    operations = [
        migrations.CreateModel(
            name="PersonClass",
            fields=[
                (
                    "person",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="classification",
                        serialize=False,
                        to="roster.person",
                        verbose_name="人员",
                    ),
                ),
                (
                    "card_class",
                    models.CharField(
                        choices=[
                            ("card_made", "已制卡"),
                            ("in_production", "制卡中"),
                            ("card_failed", "制卡失败"),
                            ("no_card_info", "无制卡信息"),
                        ],
                        max_length=16,
                        verbose_name="比对结果",
                    ),
                ),
                (
                    "failure_reason",
                    models.CharField(blank=True, max_length=200, verbose_name="制卡失败原因"),
                ),
                (
                    "snapshot",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="roster.sourcelist",
                        verbose_name="卡务系统导出",
                    ),
                ),
                ("classified_at", models.DateTimeField(verbose_name="比对时间")),
            ],
            options={
                "verbose_name": "比对结果",
                "verbose_name_plural": "比对结果",
            },
        ),
        migrations.RunSQL(COPY_CLASSES, RESTORE_CLASSES),
        migrations.AlterField(
            model_name="person",
            name="township",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="persons",
                to="roster.township",
                verbose_name="乡镇",
            ),
        ),
        migrations.RemoveIndex(
            model_name="person",
            name="roster_pers_townshi_2e92db_idx",
        ),
        migrations.RemoveField(
            model_name="person",
            name="card_class",
        ),
        migrations.RemoveField(
            model_name="person",
            name="card_failure_reason",
        ),
        migrations.RemoveField(
            model_name="person",
            name="classified_at",
        ),
    ]
