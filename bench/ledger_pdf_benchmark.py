"""A township's 发放台账 PDF: the way the system prints it against a plain WeasyPrint run.

Builds ``--cards`` (default 3,000) cards of one township in ``--villages`` villages (default
10), each through the ledger's services: applied, made, handed from the bank to the county,
received, handed to the township, received, handed to the village; every fifth issued to
its holder. Then, in one run, side by side from the same rows:

- ``system``: ``issuance.ledger_exports.ledger_pdf_bytes`` — lean CSS, fixed table layout,
  one part per village printed by ``LEDGER_PDF_WORKERS`` worker processes, joined, numbered
  and signed (the signing is counted here, not in the baseline);
- ``plain``: the same rows as one would first print them — one document extending
  ``pdf/base.html`` with its stylesheet as it is, the default (auto) table layout, one
  WeasyPrint ``write_pdf`` call (``PLAIN_TEMPLATE``).

Prints the time of each and the peak resident memory of the process tree (this process and
its worker processes, sampled every 50 ms) and the CPU time they used. Usage::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dayao_ledgerbench \\
        .venv/bin/python bench/ledger_pdf_benchmark.py --cards 3000

It runs in a test database (``test_<name>``, created and dropped) and a temporary data
folder; nothing else is touched.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dayao_sscard.settings")


# The ledger as one would first write it: pdf/base.html's stylesheet as it is, the default
# (auto) table layout, a line break element between handovers, one document.
PLAIN_TEMPLATE = """{% extends "pdf/base.html" %}
{% block orientation %}landscape{% endblock %}
{% block running_title %}社会保障卡发放台账{% endblock %}
{% block style %}table { table-layout: auto; }{% endblock %}
{% block body %}<h1>社会保障卡发放台账</h1>
{% for village in report.villages %}<h2>{{ report.township.name }} {{ village.name }}</h2>
<table><thead><tr><th>序号</th><th>卡号</th><th>持卡人</th><th>身份证号（脱敏）</th><th>发卡银行</th>
<th>流转环节（各次交接）</th><th>保管地点</th><th>责任人</th><th>发放时间</th><th>签收人</th>
<th>发放方式</th><th>状态</th></tr></thead><tbody>
{% for row in village.rows %}<tr><td>{{ forloop.counter }}</td><td>{{ row.card_number }}</td>
<td>{{ row.holder }}</td><td>{{ row.masked_id_number }}</td><td>{{ row.bank }}</td>
<td>{% for step in row.handovers %}{{ step }}<br>{% endfor %}</td><td>{{ row.location }}</td>
<td>{{ row.responsible_person }}</td><td>{{ row.issued_at }}</td><td>{{ row.signee }}</td>
<td>{{ row.method }}</td><td>{{ row.status }}</td></tr>
{% endfor %}</tbody></table>{% endfor %}
<table>{% for label, count in report.status_counts %}<tr><td>{{ label }}</td><td>{{ count }}</td></tr>{% endfor %}</table>
<div class="signatures"><div>乡镇负责人（签字）：</div><div>经办人（签字）：</div></div>
{% endblock %}"""


def tree_rss_mb(root: int) -> float:
    """Resident memory of ``root`` and all its descendants, in MB (from /proc)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                parents[int(entry)] = int(fields[1])
            except OSError:
                continue
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    total_kb = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total_kb += int(line.split()[1])
        except OSError:
            continue
    return total_kb / 1024


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its children that have ended."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class Measured:
    """Wall time, CPU time of the process tree and its highest ``tree_rss_mb`` while the
    block runs. CPU time says what the machine's other load cannot change much."""

    def __enter__(self):
        gc.collect()
        # What building the data left behind goes back to the system first: a job's worker
        # process did not build three thousand cards before printing their ledger.
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        self.start_mb = tree_rss_mb(os.getpid())
        self.peak, self._stop = 0.0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        self._cpu, self._wall = cpu_seconds(), time.perf_counter()
        return self

    def _sample(self):
        while True:
            self.peak = max(self.peak, tree_rss_mb(os.getpid()))
            if self._stop.wait(0.05):
                return

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self._wall
        self.cpu = cpu_seconds() - self._cpu
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=3000)
    parser.add_argument("--villages", type=int, default=10)
    parser.add_argument("--workers", type=int, default=None, help="默认 LEDGER_PDF_WORKERS")
    parser.add_argument("--keep", type=Path, help="folder to keep both PDFs in")
    args = parser.parse_args()

    data = tempfile.mkdtemp(prefix="dayao-ledger-bench-")
    os.environ["DAYAO_DATA_DIR"] = data

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    settings.MEDIA_ROOT = Path(data) / "private"
    if args.workers:
        settings.LEDGER_PDF_WORKERS = args.workers
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(args)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(args) -> None:
    from django.conf import settings
    from django.db import connection, reset_queries
    from django.template import engines

    from dayao_sscard.models import User
    from dayao_sscard.pdf import pdf_from_html
    from dayao_sscard.roles import Role
    from issuance.ledger_exports import ledger_pdf_bytes
    from issuance.ledger_report import ledger_report
    from roster.models import Township
    from tests.factories import BankFactory, VillageFactory
    from tests.issuance.ledgerdata import ledger_cards

    township = Township.objects.get(code="532326101")
    admin = User.objects.create(username="bench_admin", role=Role.COUNTY_ADMIN)
    bank = BankFactory()
    started = time.perf_counter()
    per_village = args.cards // args.villages
    for n in range(args.villages):
        village = VillageFactory(township=township, name=f"第{n + 1}村")
        ledger_cards(
            village, count=per_village, acting_user=admin, issued=per_village // 5, bank=bank
        )
    print(
        f"{connection.vendor}: {per_village * args.villages} cards in {args.villages} villages "
        f"built in {time.perf_counter() - started:.0f} s; "
        f"{settings.LEDGER_PDF_WORKERS} worker processes, {os.cpu_count()} cores"
    )

    settings.DEBUG = True
    reset_queries()
    started = time.perf_counter()
    report = ledger_report(user=admin, township=township)
    print(
        f"ledger rows: {report.card_count} cards read in {len(connection.queries)} queries, "
        f"{time.perf_counter() - started:.2f} s"
    )
    settings.DEBUG = False

    with Measured() as ours:
        system = ledger_pdf_bytes(report)

    plain_html = engines["django"].from_string(PLAIN_TEMPLATE).render({"report": report})
    with Measured() as theirs:
        plain = pdf_from_html(plain_html)

    print(f"{'':<42}{'time':>8}{'CPU':>8}{'RSS before':>12}{'peak RSS':>10}{'size':>9}")
    for label, measured, pdf in (
        ("system (villages in parallel, signed)", ours, system),
        ("plain (one document, auto table layout)", theirs, plain),
    ):
        print(
            f"{label:<42}{measured.wall:7.1f}s{measured.cpu:7.1f}s{measured.start_mb:9.0f} MB"
            f"{measured.peak:7.0f} MB{len(pdf) / 1e6:6.1f} MB"
        )
    print(
        f"speed-up: {theirs.wall / ours.wall:.2f}× in time, {theirs.cpu / ours.cpu:.2f}× in CPU; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        (args.keep / "system.pdf").write_bytes(system)
        (args.keep / "plain.pdf").write_bytes(plain)


if __name__ == "__main__":
    main()
