"""The holder's village on each card (``Card.holder_village``, kept by
``issuance.places.card_places_keep``), filled here for the cards already there in one
UPDATE while the update trigger is away (a derived column, not a change anyone made),
and the index the 库存卡 work list reads a village's page off."""

import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models


def fill(apps, schema_editor):
    schema_editor.execute(
        "UPDATE issuance_card SET holder_village_id = p.village_id FROM roster_person p "
        "WHERE p.id = issuance_card.person_id AND p.village_id IS NOT NULL"
        if schema_editor.connection.vendor == "postgresql"
        else "UPDATE issuance_card SET holder_village_id = (SELECT p.village_id FROM "
        "roster_person p WHERE p.id = issuance_card.person_id)"
    )


class Migration(migrations.Migration):

    dependencies = [
        ('issuance', '0016_reconciliation_kept'),
        ('roster', '0024_card_disagreements'),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name='card',
            name='audit_update',
        ),
        migrations.AddField(
            model_name='card',
            name='holder_village',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='roster.village', verbose_name='持卡人所在村（社区）'),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name='card',
            index=models.Index(condition=models.Q(('status__in', ['in_stock', 'in_transit', 'dormant', 'issued', 'recovered'])), fields=['holder_village', 'made_on', 'id'], name='card_village_work_order'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='card',
            trigger=pgtrigger.compiler.Trigger(name='audit_update', sql=pgtrigger.compiler.UpsertTriggerSql(declare='DECLARE n bigint; lo bigint; hi bigint; ids jsonb; cols jsonb; b jsonb; a jsonb;', func='SELECT count(*), min("id"), max("id") INTO n, lo, hi FROM new_rows; IF n = 0 THEN RETURN NULL; END IF; IF hi - lo + 1 = n THEN ids := jsonb_build_array(jsonb_build_array(lo, hi)); ELSE SELECT jsonb_agg(jsonb_build_array(f, l) ORDER BY f) INTO ids FROM (SELECT min(k) AS f, max(k) AS l FROM (SELECT "id" AS k, "id" - row_number() OVER (ORDER BY "id") AS run FROM new_rows) r GROUP BY run) s; END IF; SELECT to_jsonb(array_remove(ARRAY[CASE WHEN bool_or(o."person_id" IS DISTINCT FROM n."person_id") THEN \'person_id\' END, CASE WHEN bool_or(o."card_number" IS DISTINCT FROM n."card_number") THEN \'card_number\' END, CASE WHEN bool_or(o."bank_id" IS DISTINCT FROM n."bank_id") THEN \'bank_id\' END, CASE WHEN bool_or(o."production_type" IS DISTINCT FROM n."production_type") THEN \'production_type\' END, CASE WHEN bool_or(o."status" IS DISTINCT FROM n."status") THEN \'status\' END, CASE WHEN bool_or(o."failure_reason" IS DISTINCT FROM n."failure_reason") THEN \'failure_reason\' END, CASE WHEN bool_or(o."made_on" IS DISTINCT FROM n."made_on") THEN \'made_on\' END, CASE WHEN bool_or(o."custody_kind" IS DISTINCT FROM n."custody_kind") THEN \'custody_kind\' END, CASE WHEN bool_or(o."custodian" IS DISTINCT FROM n."custodian") THEN \'custodian\' END, CASE WHEN bool_or(o."custody_location" IS DISTINCT FROM n."custody_location") THEN \'custody_location\' END, CASE WHEN bool_or(o."custody_since" IS DISTINCT FROM n."custody_since") THEN \'custody_since\' END, CASE WHEN bool_or(o."created_at" IS DISTINCT FROM n."created_at") THEN \'created_at\' END, CASE WHEN bool_or(o."holder_village_id" IS DISTINCT FROM n."holder_village_id") THEN \'holder_village_id\' END]::text[], NULL)) INTO cols FROM old_rows o JOIN new_rows n ON n."id" = o."id"; SELECT jsonb_object_agg(o."id", CASE WHEN o."person_id" IS DISTINCT FROM n."person_id" THEN jsonb_build_object(\'person_id\', o."person_id") ELSE \'{}\'::jsonb END || CASE WHEN o."card_number" IS DISTINCT FROM n."card_number" THEN jsonb_build_object(\'card_number\', o."card_number") ELSE \'{}\'::jsonb END || CASE WHEN o."bank_id" IS DISTINCT FROM n."bank_id" THEN jsonb_build_object(\'bank_id\', o."bank_id") ELSE \'{}\'::jsonb END), jsonb_object_agg(o."id", CASE WHEN o."person_id" IS DISTINCT FROM n."person_id" THEN jsonb_build_object(\'person_id\', n."person_id") ELSE \'{}\'::jsonb END || CASE WHEN o."card_number" IS DISTINCT FROM n."card_number" THEN jsonb_build_object(\'card_number\', n."card_number") ELSE \'{}\'::jsonb END || CASE WHEN o."bank_id" IS DISTINCT FROM n."bank_id" THEN jsonb_build_object(\'bank_id\', n."bank_id") ELSE \'{}\'::jsonb END) INTO b, a FROM old_rows o JOIN new_rows n ON n."id" = o."id" WHERE o."person_id" IS DISTINCT FROM n."person_id" OR o."card_number" IS DISTINCT FROM n."card_number" OR o."bank_id" IS DISTINCT FROM n."bank_id"; INSERT INTO dayao_sscard_datachange (at, actor_id, actor_username, db_user, context, table_name, operation, row_count, row_ids, columns, before, after, transaction_id) VALUES (now(), NULLIF(current_setting(\'dayao.actor_id\', true), \'\')::bigint, COALESCE(current_setting(\'dayao.actor_username\', true), \'\'), session_user, LEFT(COALESCE(current_setting(\'dayao.context\', true), \'\'), 200), TG_TABLE_NAME, TG_OP, n, ids, COALESCE(cols, \'[]\'::jsonb), b, a, txid_current()); RETURN NULL;', hash='dd1acef4aee14e360b635f4aca75af48528afa77', level='STATEMENT', operation='UPDATE', pgid='pgtrigger_audit_update_6ac62', referencing='REFERENCING OLD TABLE AS old_rows  NEW TABLE AS new_rows ', table='issuance_card', when='AFTER')),
        ),
    ]
