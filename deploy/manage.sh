#!/bin/sh
# manage.py with the production environment: sudo -u dayao /srv/dayao/app/deploy/manage.sh migrate
set -eu
set -a
. /etc/dayao/dayao.env
set +a
cd "$(dirname "$0")/.."
exec .venv/bin/python manage.py "$@"
