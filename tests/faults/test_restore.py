"""The backup and restore of docs/DEPLOYMENT.md, run as written: a database holding data
made through the services is backed up by deploy/backup/dayao-backup.sh, restored into a
fresh database (and a fresh data folder) by deploy/backup/dayao-restore.sh, and the
restored installation has the persons, the photo file and a ledger whose chain verifies.

On a private PostgreSQL cluster, with the application's own role ``dayao`` owning the
restored database, as in production.
"""

import datetime
import hashlib
import os
import subprocess
import sys

from tests.factories import make_id_number

from .installation import PROJECT, django_eval, installation_env, manage

BACKUP = PROJECT / "deploy" / "backup" / "dayao-backup.sh"
RESTORE = PROJECT / "deploy" / "backup" / "dayao-restore.sh"
PERSONS = 30
# Not the factories' birth date: the ledger writer's persons are made in another process.
BORN = datetime.date(1991, 3, 8)
CARDS = 8

FIGURES = (
    "from roster.models import Person; from issuance.models import Card, LedgerEntry;"
    "from dayao_sscard.models import AuditEvent;"
    "p = Person.objects.exclude(photo='').get();"
    "print(Person.objects.count(), Card.objects.count(), LedgerEntry.objects.count(),"
    " AuditEvent.objects.count(), p.photo.name)"
)


def test_a_backup_restored_into_a_fresh_database_has_the_data_and_the_chain_verifies(
    private_cluster, migrated_template, tmp_path
):
    source_data = tmp_path / "data"
    env = installation_env(source_data, private_cluster.database_from(migrated_template, "live"))
    names = tmp_path / "名单.csv"
    names.write_text(
        "\n".join(
            ["姓名,身份证号码,乡镇"]
            + [f"人{n},{make_id_number(birth=BORN)},金碧" for n in range(PERSONS)]
        ),
        encoding="utf-8",
    )
    manage(env, "import_list", "unissued", str(names), "--source", "省第一批")
    subprocess.run(
        [sys.executable, "-m", "tests.faults.ledger_writer", str(CARDS)],
        env=env,
        cwd=PROJECT,
        check=True,
        capture_output=True,
    )
    django_eval(
        env,
        "from dayao_sscard.models import User; from roster.models import Person;"
        "from roster.services import person_set_photo; from tests.roster.photos import photo_bytes;"
        "p = Person.objects.order_by('pk').first();"
        "person_set_photo(person=p, acting_user=User.objects.get(username='ledger_clerk'),"
        " data=photo_bytes())",
    )
    before = django_eval(env, FIGURES)
    photo = before.split()[-1]
    photo_sha = hashlib.sha256((source_data / "private" / photo).read_bytes()).hexdigest()

    backups = tmp_path / "backups"
    written = subprocess.run(
        [str(BACKUP), str(backups)], env=env, check=True, capture_output=True, text=True
    ).stdout.split()
    database_dump, files_archive = written
    assert os.path.basename(database_dump).startswith("dayao-db-")

    # The doc's restore: as the PostgreSQL superuser, into a new database owned by dayao.
    private_cluster.psql("CREATE ROLE dayao LOGIN")
    restored_data = tmp_path / "restored-data"
    server = {
        **os.environ,
        "PGHOST": "127.0.0.1",
        "PGPORT": str(private_cluster.port),
        "PGUSER": "postgres",
    }
    done = subprocess.run(
        [str(RESTORE), database_dump, "dayao_restored", files_archive, str(restored_data)],
        env=server,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert (
        private_cluster.psql(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'dayao_restored'"
        )
        == "dayao"
    )

    restored = installation_env(
        restored_data, f"postgres://dayao@127.0.0.1:{private_cluster.port}/dayao_restored"
    )
    after = django_eval(restored, FIGURES)
    assert after == before
    persons, cards, entries, *_ = map(int, after.split()[:-1])
    assert (persons, cards, entries) == (PERSONS + CARDS, CARDS, 7 * CARDS)
    assert hashlib.sha256((restored_data / "private" / photo).read_bytes()).hexdigest() == (
        photo_sha
    )
    verify = manage(restored, "ledger", "verify", check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert f"{CARDS} 张卡，{7 * CARDS} 条记录" in verify.stdout
    # The application's role writes to the restored database, and the ledger stays append-only.
    refused = manage(
        restored,
        "shell",
        "--no-imports",
        "-c",
        "from issuance.models import LedgerEntry; LedgerEntry.objects.all().delete()",
        check=False,
    )
    assert refused.returncode != 0
    manage(restored, "create_staff", "restored_admin", "--password", "Pw-12345678",
           "--role", "county_admin")  # fmt: skip
