#!/bin/bash
# The cost of the statement-audit triggers (dayao_sscard.row_audit), statement by
# statement, on a database import_benchmark.py left (a county of 300,000 persons): each
# statement in a transaction that is rolled back, with the triggers on, then off (ALTER
# TABLE … DISABLE TRIGGER for the pgtrigger_audit_* triggers only, inside that
# transaction), ROUNDS times. Never on a shared database: DB must be your own copy.
#   DB=dayao_bench_mine bash bench/statement_audit_ab.sh
set -u
DB=${DB:?name your own copy of a benchmark database}
run() { # $1 label, $2 table, $3 statement, $4 on|off
  local toggle=""
  if [ "$4" = off ]; then
    toggle=$(psql -h 127.0.0.1 -U postgres -d $DB -tAc "SELECT string_agg(format('ALTER TABLE %I DISABLE TRIGGER %I;', '$2', tgname), ' ') FROM pg_trigger WHERE tgrelid = '$2'::regclass AND tgname LIKE 'pgtrigger_audit_%'")
  fi
  local ms
  ms=$(psql -h 127.0.0.1 -U postgres -d $DB -qtA <<SQL | grep -E '^Time' | tail -1
BEGIN;
SET jit = off;
$toggle
\timing on
$3;
\timing off
ROLLBACK;
SQL
)
  echo "$1 triggers=$4 $ms"
}
INS_P="INSERT INTO roster_person (id_number, name, gender, birth_date, ethnicity, address, phone, township_id, village_id, group_name, created_at, updated_at) SELECT 'X' || substr(id_number, 2), name, gender, birth_date, ethnicity, address, phone, township_id, village_id, group_name, created_at, updated_at FROM roster_person"
UPD_P="UPDATE roster_person SET phone = phone || '1'"
UPD_C="UPDATE roster_personclass SET classified_at = classified_at + interval '1 second'"
INS_E="INSERT INTO roster_listentry (source_list_id, person_id, sheet, row_number, category, amount) SELECT source_list_id + 1000, person_id, sheet, row_number, category, amount FROM roster_listentry"
for round in ${ROUNDS:-1 2}; do
  for t in on off; do
    run "insert persons (300k)" roster_person "$INS_P" $t
    run "insert list entries (300k)" roster_listentry "$INS_E" $t
    run "update every person's phone" roster_person "$UPD_P" $t
    run "update every class" roster_personclass "$UPD_C" $t
  done
done
