"""PostgreSQL restarted while clerks write the custody ledger: every write that answered
success is there afterwards, and ``manage.py ledger verify`` passes.

A private PostgreSQL cluster (never the shared one) is restarted twice under a process
writing through the ledger's services (tests/faults/ledger_writer.py): once shut down
cleanly (``pg_ctl restart -m fast``, as an upgrade does), once killed (``-m immediate``, as
a crash or a power cut: recovery replays the write-ahead log).
"""

import subprocess
import sys
from collections import defaultdict

import pytest

from .installation import PROJECT, installation_env, manage

CARDS = 60  # each card: 7 writes (applied, production, made, two handovers, two receipts)
RESTARTS = {60: "fast", 200: "immediate"}  # after this many successful writes


@pytest.fixture
def database(private_cluster, migrated_template, tmp_path):
    url = private_cluster.database_from(migrated_template, "ledger_restart")
    return installation_env(tmp_path, url)


def test_every_write_that_answered_success_survives_restarts_and_the_chain_verifies(
    private_cluster, database, tmp_path
):
    log = open(tmp_path / "writer.log", "w+")  # noqa: SIM115 (read and closed below)
    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.faults.ledger_writer", str(CARDS)],
        env=database,
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    succeeded: dict[int, list[str]] = defaultdict(list)
    errors_after_restart: list[str] = []
    writes, restarted = 0, []
    try:
        for line in writer.stdout:
            word, *rest = line.split()
            if word == "ok":
                succeeded[int(rest[0])].append(rest[1])
                writes += 1
                if mode := RESTARTS.get(writes):
                    private_cluster.restart(mode)
                    restarted.append(writes)
            elif word == "error":
                errors_after_restart.append(line.strip())
        writer.wait(timeout=300)
    finally:
        if writer.poll() is None:
            writer.kill()
    log.seek(0)
    problems = log.read()
    log.close()
    assert writer.returncode == 0, problems[-3000:]
    assert restarted == list(RESTARTS), "the writer ended before both restarts"
    # Each restart cut a connection in use: the writer saw it fail, and went on.
    assert len(errors_after_restart) >= len(RESTARTS), errors_after_restart
    assert writes > max(RESTARTS) + 50

    found = manage(
        database,
        "shell",
        "--no-imports",
        "-c",
        "from issuance.models import LedgerEntry;"
        "[print(e.card_id, e.event) for e in LedgerEntry.objects.order_by('card_id', 'sequence')]",
    ).stdout
    in_ledger: dict[int, list[str]] = defaultdict(list)
    for line in found.splitlines():
        card, event = line.split()
        in_ledger[int(card)].append(event)
    for card, events in succeeded.items():
        # What answered success is there, in order; a write cut by the restart may have
        # committed without its answer arriving (one step more), never anything else.
        assert in_ledger[card][: len(events)] == events, card
        assert len(in_ledger[card]) <= len(events) + 1, card

    verify = manage(database, "ledger", "verify", check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "台账校验通过" in verify.stdout
