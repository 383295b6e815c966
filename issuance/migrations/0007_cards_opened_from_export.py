"""Cards opened in bulk from the card-system export (issue 9).

A ledger entry written by an import at the command line has no user (系统导入). A card's
holder is kept without a database constraint, like every bulk-written row about a person;
two indexes that no query needs are gone (a card status's LIKE index, the ledger's card
index, which its (card, sequence) key already leads with).

On SQLite the column change rebuilds the table, which drops its triggers: the ledger's
append-only triggers (0002) are put back.
"""

import importlib

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

append_only = importlib.import_module("issuance.migrations.0002_ledger_append_only")


def restore_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in append_only.SQLITE_BACKWARD + append_only.SQLITE_FORWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("issuance", "0006_application_batches"),
        ("roster", "0017_classification_inputs"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="ledgerentry",
            name="recorded_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="登记人",
            ),
        ),
        migrations.AlterField(
            model_name="card",
            name="person",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="cards",
                to="roster.person",
                verbose_name="持卡人",
            ),
        ),
        migrations.AlterField(
            model_name="card",
            name="status",
            field=models.CharField(
                choices=[
                    ("applied", "已申领"),
                    ("in_production", "制卡中"),
                    ("failed", "制卡失败"),
                    ("in_stock", "已制卡（库存）"),
                    ("in_transit", "在途"),
                    ("issued", "已发放"),
                    ("activated", "已激活"),
                    ("dormant", "睡眠卡"),
                    ("recovered", "已回收"),
                    ("cancelled", "已注销"),
                ],
                default="applied",
                max_length=16,
                verbose_name="状态",
            ),
        ),
        migrations.AddIndex(
            model_name="card",
            index=models.Index(fields=["status"], name="card_status"),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="card",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="ledger_entries",
                to="issuance.card",
                verbose_name="社保卡",
            ),
        ),
        migrations.RunPython(restore_sqlite_triggers, migrations.RunPython.noop),
    ]
