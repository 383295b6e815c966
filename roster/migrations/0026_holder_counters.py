"""The holders of each bank's cards per village ("holders:<bank id>") join the counters
(roster.progress): counted once here, kept by the writers from now on."""

from django.db import migrations

FILL = """
INSERT INTO roster_figurecount (township_id, village_id, key, n)
SELECT p.township_id, COALESCE(p.village_id, 0), 'holders:' || c.bank_id, COUNT(DISTINCT c.person_id)
FROM issuance_card c JOIN roster_person p ON p.id = c.person_id
GROUP BY p.township_id, COALESCE(p.village_id, 0), c.bank_id
"""
EMPTY = "DELETE FROM roster_figurecount WHERE key LIKE 'holders:%'"


class Migration(migrations.Migration):
    dependencies = [
        ("roster", "0025_person_form_indexes"),
        ("issuance", "0018_card_stock_by_keeper"),
    ]

    operations = [migrations.RunSQL([EMPTY, FILL], reverse_sql=[EMPTY])]
