"""Indexes for the person search on PostgreSQL (issue 11).

* ``person_id_number_reversed``: the reversed ID number, so that a search by the last
  digits (``LIKE '%157577'``, which reads every person) is a prefix search of the
  reversed number in a btree (the column is COLLATE "C", so LIKE 'prefix%' uses it).
* ``person_name_characters``: a GIN index over the characters of the name
  (``regexp_split_to_array(name, '')``): a name search asks for the rows holding every
  character of the text, then LIKE keeps those with the text in one piece. pg_trgm was
  tried first: this database's locale (C.UTF-8) does make trigrams of Chinese, but a
  LIKE '%胡贵%' yields no trigram from a two-character text, and most Chinese names and
  given names are two characters, so the index would be read whole.

SQLite (the embedded default) keeps its plain LIKE: nothing to create there.
"""

from django.db import migrations

INDEXES = (
    ("person_id_number_reversed", "btree (reverse(id_number))"),
    ("person_name_characters", "gin (regexp_split_to_array(name, ''))"),
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in INDEXES:
        using, _, expression = definition.partition(" ")
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON roster_person USING {using} {expression}"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("roster", "0018_progress_figures")]

    operations = [migrations.RunPython(create, drop)]
