import datetime
import os
from zoneinfo import ZoneInfo

import pytest

from dayao_sscard.roles import Role
from roster.places import township_cache_clear
from tests.factories import BankBranchFactory, PersonFactory, UserFactory, VillageFactory, township

TOWNSHIP_A = "532326101"  # 金碧镇
TOWNSHIP_B = "532326102"  # 石羊镇
# "Today" for tests whose data sit before or after it (a death date, an ID card's validity).
FIXED_NOW = datetime.datetime(2026, 11, 29, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _settings_for_tests(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    from django.core.cache import cache

    cache.clear()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # A test's writes follow each other within a second; the tiles' throttle has its test.
    settings.RISK_COUNTS_MIN_SECONDS = 0
    township_cache_clear()


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Transactional tests flush the tables; put the county's townships back for them."""
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or any(
        name in request.fixturenames for name in ("transactional_db", "live_server")
    )
    if transactional:
        from importlib import import_module

        request.getfixturevalue("transactional_db")

        from django.apps import apps

        import_module("roster.migrations.0002_county_and_townships").create(apps, None)
    yield
    if transactional:
        _delete_ledger_rows_on_sqlite()


@pytest.fixture(autouse=True, scope="session")
def _test_setup_recounts_its_persons():
    """Tests set their scene behind the services (``Person.objects.filter(…).update(…)``);
    such a write, made from a test file, recounts its persons as a service would, so that
    ``_figures_stay_current`` finds only the application's own forgotten recounts."""
    import sys

    import django
    from django.db.models import QuerySet

    from roster.apps import RosterConfig
    from roster.progress import _Recount, figures_touch
    from roster.verification import person_derive

    sources = set(RosterConfig.FIGURE_SOURCES)
    original_update, original_delete = QuerySet.update, QuerySet.delete
    original_bulk_create = QuerySet.bulk_create
    django_dir = os.path.dirname(django.__file__)

    def from_a_test(queryset) -> bool:
        if queryset.model._meta.label not in sources:
            return False
        frame = sys._getframe(2)
        while frame is not None and frame.f_code.co_filename.startswith(django_dir):
            frame = frame.f_back
        return frame is not None and f"{os.sep}tests{os.sep}" in frame.f_code.co_filename

    def is_person(queryset) -> bool:
        return queryset.model._meta.label == "roster.Person"

    def person_ids(queryset) -> list[int]:
        return list(queryset.values_list("pk" if is_person(queryset) else "person_id", flat=True))

    def update(self, **kwargs):
        if not from_a_test(self):
            return original_update(self, **kwargs)
        ids = person_ids(self)
        with figures_touch(ids):
            updated = original_update(self, **kwargs)
            if is_person(self):
                # What a person lacks and their walking order follow, as on any save.
                for person in self.model.objects.filter(pk__in=ids):
                    if changed := person_derive(person):
                        fields = {name: getattr(person, name) for name in changed}
                        original_update(self.model.objects.filter(pk=person.pk), **fields)
            return updated

    def delete(self):
        if not from_a_test(self):
            return original_delete(self)
        with figures_touch(person_ids(self)):
            return original_delete(self)

    def bulk_create(self, objs, *args, **kwargs):
        if not from_a_test(self):
            return original_bulk_create(self, objs, *args, **kwargs)
        objs = list(objs)
        if is_person(self):
            for person in objs:
                person_derive(person)
        recount = _Recount([] if is_person(self) else [o.person_id for o in objs])
        created = original_bulk_create(self, objs, *args, **kwargs)
        recount.done(o.pk if is_person(self) else o.person_id for o in created)
        return created

    QuerySet.update, QuerySet.delete, QuerySet.bulk_create = update, delete, bulk_create
    yield
    QuerySet.update, QuerySet.delete = original_update, original_delete
    QuerySet.bulk_create = original_bulk_create


@pytest.fixture(autouse=True)
def _figures_stay_current(request):
    """After every test, the progress counters equal a count from scratch: a write path
    that changes a figure without recounting its persons fails the test that took it.
    The same for what is kept beside them (the disagreements, the reconciliation)."""
    # A test that only carries ``pytest.mark.django_db`` has no "db" among its fixtures.
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or (
        marker is not None
        and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    )
    uses_db = ("db" in request.fixturenames or marker is not None) and not transactional
    # FIGURES_DRIFT_CHECK=0 leaves it out, e.g. to time a test alone.
    if not uses_db or os.environ.get("FIGURES_DRIFT_CHECK") == "0":
        yield
        return
    request.getfixturevalue("db")
    yield
    from django.db import connection

    from roster.progress import figures_drift

    if connection.needs_rollback:
        return  # the test ended on a refused write (pytest.raises); nothing more can be read

    assert figures_drift() == {}, "进度计数与重新统计不一致：某个写入路径没有重算人员的进度指标"
    assert _persons_not_derived() == [], "人员的尚缺要素或走访顺序未随人员信息一起写入"
    # What follows the counters' writes (roster.progress.persons_recounted) is checked the
    # same way: the 两方记录不一致 persons and the reconciliation's items.
    from issuance.reconciliation import reconciliation_drift, reconciliation_on_current_exports
    from roster.disagreements import disagreements_drift

    assert disagreements_drift() == {"missing": set(), "extra": set()}, (
        "两方记录不一致人员与按规则重新判断不一致：某个写入路径没有重算人员"
    )
    from issuance.places import card_places_drift

    assert list(card_places_drift().values_list("pk", flat=True)) == [], (
        "社保卡上记的持卡人所在村与持卡人不一致：某个写入路径没有重算人员"
    )
    # A scene that wrote a card-system export behind the import (which reconciles the
    # county) has a reconciliation of the exports before it: not a forgotten recount.
    if reconciliation_on_current_exports():
        recon = reconciliation_drift()
        assert not recon["missing"] and not recon["extra"], (
            f"对账结果与重新对账不一致：某个写入路径没有重算人员（{recon}）"
        )


def _persons_not_derived() -> list[str]:
    """Persons whose ``missing_bits`` or ``walk_key`` differ from their fields worked out
    again: a write path that changes a person without ``person_derive``."""
    from roster.models import Person
    from roster.verification import person_derive

    return [f"{p.pk} {changed}" for p in Person.objects.all() if (changed := person_derive(p))]


def _delete_ledger_rows_on_sqlite():
    """Lets the flush that ends a transactional test empty a custody ledger and an audit
    log with rows.

    Migration issuance 0002 makes ``issuance_ledgerentry`` append-only with triggers, and
    dayao_sscard 0015 the audit tables. On SQLite that flush is a plain DELETE, which the
    triggers refuse (PostgreSQL truncates): the rows of the test are removed here with the
    triggers lifted, and the triggers are put back for the next test.
    """
    from importlib import import_module

    from django.db import connection

    from dayao_sscard.models import AuditEvent, DataChange
    from issuance.models import LedgerEntry

    if connection.vendor != "sqlite":
        return
    for migration, models in (
        ("issuance.migrations.0002_ledger_append_only", [LedgerEntry]),
        ("dayao_sscard.migrations.0016_audit_log_unchangeable", [AuditEvent, DataChange]),
    ):
        if not any(model.objects.exists() for model in models):
            continue
        triggers = import_module(migration)
        with connection.schema_editor() as editor:
            triggers.backward(None, editor)
        try:
            with connection.cursor() as cursor:
                for model in models:
                    cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
        finally:
            with connection.schema_editor() as editor:
                triggers.forward(None, editor)


@pytest.fixture
def fixed_clock(time_machine) -> datetime.datetime:
    """The code under test sees FIXED_NOW as now (the clock still ticks from there)."""
    time_machine.move_to(FIXED_NOW, tick=True)
    return FIXED_NOW


@pytest.fixture
def township_a(db):
    return township(TOWNSHIP_A)


@pytest.fixture
def township_b(db):
    return township(TOWNSHIP_B)


@pytest.fixture
def village_a(township_a):
    return VillageFactory(township=township_a, name="大河社区")


@pytest.fixture
def village_a2(township_a):
    return VillageFactory(township=township_a, name="龙街村委会")


@pytest.fixture
def village_b(township_b):
    return VillageFactory(township=township_b, name="石羊社区")


@pytest.fixture
def branch_a(township_a):
    return BankBranchFactory(name="金碧信用社", township=township_a)


@pytest.fixture
def branch_b(township_b):
    return BankBranchFactory(name="石羊信用社", township=township_b)


@pytest.fixture
def county_admin(db):
    """As staff_create makes one: with the staff flags that open the reference-data admin."""
    return UserFactory(
        username="admin", role=Role.COUNTY_ADMIN, township=None, is_staff=True, is_superuser=True
    )


@pytest.fixture
def supervisor(db):
    return UserFactory(username="supervisor", role=Role.COUNTY_SUPERVISOR, township=None)


@pytest.fixture
def clerk_a(township_a):
    return UserFactory(username="clerk_a", role=Role.TOWNSHIP_STAFF, township=township_a)


@pytest.fixture
def clerk_b(township_b):
    return UserFactory(username="clerk_b", role=Role.TOWNSHIP_STAFF, township=township_b)


@pytest.fixture
def collector_a(village_a):
    return UserFactory(
        username="collector_a",
        role=Role.VILLAGE_COLLECTOR,
        township=village_a.township,
        village=village_a,
    )


@pytest.fixture
def banker_a(branch_a):
    return UserFactory(
        username="banker_a", role=Role.BANK_STAFF, township=None, bank_branch=branch_a
    )


@pytest.fixture
def person_a(village_a):
    return PersonFactory(township=village_a.township, village=village_a, name="张桂芬")


@pytest.fixture
def person_a2(village_a2):
    return PersonFactory(township=village_a2.township, village=village_a2, name="罗志华")


@pytest.fixture
def person_b(village_b):
    return PersonFactory(township=village_b.township, village=village_b, name="杨春梅")


@pytest.fixture
def ledger_flushable(transactional_db):
    """Lets the end of a live-server test flush a database that holds custody-ledger or
    audit rows (see ``_delete_ledger_rows_on_sqlite``)."""
    yield
    _delete_ledger_rows_on_sqlite()


def pytest_sessionfinish(session, exitstatus):
    """In CI a skipped test is a failure: every test, browser tests included, must run."""
    if os.environ.get("CI", "").lower() != "true":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(
            f"CI: {len(skipped)} test(s) skipped; skipped tests are not allowed in CI.", red=True
        )
        session.exitstatus = 1
