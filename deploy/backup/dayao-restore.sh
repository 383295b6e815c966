#!/bin/sh
# Restore a backup of dayao-sscard into a NEW database (and, if given, the private files
# into a data folder): docs/DEPLOYMENT.md, "备份与恢复". Never overwrites a database: restore
# beside the live one, check it, then point DATABASE_URL at it.
#
#   dayao-restore.sh DUMP NEW_DATABASE [FILES_ARCHIVE DATA_DIR]
#
# Run as the PostgreSQL superuser (sudo -u postgres …), with the PG* variables if the
# server is not the local one. The new database and everything in it belong to
# DAYAO_DB_OWNER (dayao), the role the application logs in as.
# tests/faults/test_restore.py runs this script.
set -eu

if [ $# -ne 2 ] && [ $# -ne 4 ]; then
  echo "用法：$0 数据库备份文件 新数据库名 [文件备份 数据目录]" >&2
  exit 2
fi
DUMP=$1
NEW_DB=$2
OWNER=${DAYAO_DB_OWNER:-dayao}

createdb --owner="$OWNER" --template=template0 --encoding=UTF8 "$NEW_DB"
# --exit-on-error: a restore that is not whole fails loudly, it is never half there.
pg_restore --exit-on-error --no-owner --role="$OWNER" --dbname="$NEW_DB" "$DUMP"
psql --quiet --dbname="$NEW_DB" --command="ANALYZE"

if [ $# -eq 4 ]; then
  mkdir -p "$4"
  tar --extract --gzip --file="$3" --directory="$4"
fi
echo "已恢复到数据库 $NEW_DB"
