"""ID numbers compare byte by byte on PostgreSQL (COLLATE "C").

They are ASCII digits and X, so the order is the same as in any locale, but a btree on
them no longer calls the locale's strcoll for each comparison: inserting a million
persons or card records costs about 1 s less per index, more on a zh_CN database.
Only PostgreSQL: SQLite compares bytes already. Django does not track the collation, so
a later AlterField of these columns must keep it (see the comments on the fields).
"""

from django.db import migrations

COLUMNS = (("roster_person", "id_number", 18), ("roster_cardsystemrecord", "id_number", 18))


def _collate(collation):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for table, column, length in COLUMNS:
            schema_editor.execute(
                f'ALTER TABLE "{table}" ALTER COLUMN "{column}" '
                f'TYPE varchar({length}) COLLATE "{collation}"'
            )

    return apply


class Migration(migrations.Migration):
    dependencies = [("roster", "0011_list_entry_index_by_person")]

    operations = [migrations.RunPython(_collate("C"), _collate("default"))]
