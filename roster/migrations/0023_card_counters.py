"""The cards per village, status and bank ("card:<status>:<bank id>") join the counters
(roster.progress): counted once here, kept by the writers from now on."""

from django.db import migrations

FILL = """
INSERT INTO roster_figurecount (township_id, village_id, key, n)
SELECT p.township_id, COALESCE(p.village_id, 0), 'card:' || c.status || ':' || c.bank_id, COUNT(*)
FROM issuance_card c JOIN roster_person p ON p.id = c.person_id
GROUP BY p.township_id, COALESCE(p.village_id, 0), c.status, c.bank_id
"""
EMPTY = "DELETE FROM roster_figurecount WHERE key LIKE 'card:%'"


class Migration(migrations.Migration):
    dependencies = [
        ("roster", "0022_statement_audit"),
        ("issuance", "0015_ledger_day_and_recovery_indexes"),
    ]

    operations = [migrations.RunSQL([EMPTY, FILL], reverse_sql=[EMPTY])]
