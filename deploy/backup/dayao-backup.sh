#!/bin/sh
# The nightly backup of dayao-sscard (docs/DEPLOYMENT.md, "备份与恢复"): the database as a
# pg_dump archive, and the private files (uploaded lists, photos, signed sheets, generated
# reports) under $DAYAO_DATA_DIR/private. Both are needed to restore: the database names
# the files.
#
#   dayao-backup.sh [BACKUP_DIR]
#
# Reads DATABASE_URL and DAYAO_DATA_DIR as the application does (the systemd unit loads
# /etc/dayao/dayao.env). Prints the two files it wrote. Removes backups older than
# BACKUP_KEEP_DAYS (30). tests/faults/test_restore.py runs this script.
set -eu

BACKUP_DIR=${1:-${BACKUP_DIR:-/var/backups/dayao}}
DATA_DIR=${DAYAO_DATA_DIR:-/srv/dayao/data}
KEEP_DAYS=${BACKUP_KEEP_DAYS:-30}
: "${DATABASE_URL:?DATABASE_URL is not set (see /etc/dayao/dayao.env)}"

stamp=$(date +%Y%m%d-%H%M%S)
umask 077
mkdir -p "$BACKUP_DIR"
database="$BACKUP_DIR/dayao-db-$stamp.dump"
files="$BACKUP_DIR/dayao-files-$stamp.tar.gz"

# Written under a temporary name and renamed when complete: a backup cut short by a full
# disk or a reboot never looks like a good one.
pg_dump --format=custom --compress=6 --file="$database.part" "$DATABASE_URL"
mv "$database.part" "$database"
mkdir -p "$DATA_DIR/private"
tar --create --gzip --file="$files.part" --directory="$DATA_DIR" private
mv "$files.part" "$files"

find "$BACKUP_DIR" -maxdepth 1 -name 'dayao-*' -mtime +"$KEEP_DAYS" -delete
echo "$database"
echo "$files"
