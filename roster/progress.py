"""The figures of ``roster.figures`` counted per township and village, kept current.

Every count a page shows is read from ``FigureCount``, which holds, per village, how
many persons meet each figure's condition. It is kept in step in the same transaction as
the change: a save of a person, a list entry, a comparison result, a card, a batch member
or an electronic card recounts that one person before and after (``roster.apps`` connects
the signals), and the bulk paths (imports, matching, opening cards, batches) recount the
persons they wrote (``figures_touch``) or the whole county (``figures_rebuild``).
``figures_drift`` compares the counters with a count from scratch; the nightly snapshot
runs it and repairs what it finds, and the tests run it after every test.
"""

import datetime
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet
from django.dispatch import Signal
from django.utils import timezone

from dayao_sscard.bulk import CompiledForIds
from dayao_sscard.natural import natural_key
from dayao_sscard.roles import COUNTY_WIDE_ROLES, Role
from dayao_sscard.scoping import served_by
from issuance.models import Card

from .figures import (
    CARD_KEY_PREFIX,
    FIGURE_KEYS,
    PERSON_COLUMNS,
    card_key,
    card_key_parts,
    counted_conditions,
    holders_key,
    holds,
    person_flags,
    subsidy_projects,
)
from .models import (
    DailyFigures,
    FigureCount,
    Person,
    Township,
    Village,
)

logger = logging.getLogger(__name__)

Place = tuple[int, int]  # (township_id, village_id or 0)
Counts = dict[Place, dict[str, int]]

# Sent, inside the writer's transaction, once the figures of some persons (``person_ids``)
# or of the whole county (``person_ids`` None) are counted again: what else is kept per
# person from the same writes (the 两方记录不一致 list, the reconciliation with the card
# system) follows every write path the counters follow, bulk ones included.
persons_recounted = Signal()


# ---- counting from scratch -------------------------------------------------------------


def _counting(persons: QuerySet[Person]) -> tuple[QuerySet, dict[str, Q]]:
    """The persons grouped by place and by what is known of them (the flags and columns
    the conditions read), with the number in each group; and the conditions."""
    projects = subsidy_projects()
    flags = person_flags(projects)
    rows = (
        persons.order_by()
        .annotate(**flags)
        .values("township_id", "village_id", *PERSON_COLUMNS, *flags)
        .annotate(persons_n=Count("id"))
    )
    return rows, counted_conditions(projects)


def _counts_from(rows: Iterable[dict], conditions: dict[str, Q]) -> Counts:
    counts: Counts = defaultdict(lambda: defaultdict(int))
    for row in rows:
        place = (row["township_id"], row["village_id"] or 0)
        for key, condition in conditions.items():
            if holds(condition, row):
                counts[place][key] += row["persons_n"]
    return {place: dict(figures) for place, figures in counts.items()}


def count_figures(persons: QuerySet[Person]) -> Counts:
    """Per (township, village) the number of ``persons`` meeting each figure, and their
    cards by status and bank, counted now."""
    rows, conditions = _counting(persons)
    counts = _counts_from(rows, conditions)
    cards = (
        Card.objects.all() if not persons.query.where else Card.objects.filter(person__in=persons)
    )
    return _merged(counts, _count_cards(cards))


def _card_rows(cards: QuerySet[Card]) -> QuerySet:
    return (
        cards.order_by()
        .values_list("person__township_id", "person__village_id", "bank_id", "status")
        .annotate(n=Count("id"))
    )


def _holder_rows(cards: QuerySet[Card]) -> QuerySet:
    return (
        cards.order_by()
        .values_list("person__township_id", "person__village_id", "bank_id")
        .annotate(n=Count("person_id", distinct=True))
    )


def _count_cards(cards: QuerySet[Card]) -> Counts:
    """Per (township, village) of the holders, ``cards`` by status and bank (``card_key``),
    and their holders by bank (``holders_key``)."""
    counts: Counts = defaultdict(dict)
    for township_id, village_id, bank_id, status, n in _card_rows(cards):
        counts[(township_id, village_id or 0)][card_key(status, bank_id)] = n
    for township_id, village_id, bank_id, n in _holder_rows(cards):
        counts[(township_id, village_id or 0)][holders_key(bank_id)] = n
    return counts


def _merged(*parts: Counts) -> Counts:
    total: Counts = defaultdict(lambda: defaultdict(int))
    for counts in parts:
        for place, figures in counts.items():
            for key, n in figures.items():
                total[place][key] += n
    return {place: dict(figures) for place, figures in total.items()}


# Recounting a few persons on every save, building the query (a dozen subqueries) took
# longer in Python than in the database: each is compiled once per number of persons
# (``CompiledForIds``), the person's for each set of subsidy lists.
_SIZES = (1, 2, 8, 64, 512, 5000)
_persons_of = CompiledForIds(
    lambda ids: _counting(Person.objects.filter(pk__in=ids))[0], sizes=_SIZES
)
# One row per holder, bank and status: the holders per bank are told apart in Python.
_cards_of = CompiledForIds(
    lambda ids: (
        Card.objects.filter(person_id__in=ids)
        .order_by()
        .values_list("person_id", "person__township_id", "person__village_id", "bank_id", "status")
        .annotate(n=Count("id"))
    ),
    sizes=_SIZES,
)
_conditions: dict[tuple[str, ...], dict[str, Q]] = {}


def _count_cards_few(ids: list[int]) -> Counts:
    """``_count_cards`` of these persons' cards."""
    counts: Counts = defaultdict(lambda: defaultdict(int))
    holders = set()
    with connection.cursor() as cursor:
        cursor.execute(*_cards_of(ids))
        for person_id, township_id, village_id, bank_id, status, n in cursor.fetchall():
            place = (township_id, village_id or 0)
            counts[place][card_key(status, bank_id)] += n
            holders.add((place, bank_id, person_id))
    for place, bank_id, _person_id in holders:
        counts[place][holders_key(bank_id)] += 1
    return {place: dict(figures) for place, figures in counts.items()}


def _count_few(ids: list[int]) -> Counts:
    projects = tuple(subsidy_projects())
    if projects not in _conditions:
        _conditions[projects] = counted_conditions(list(projects))
    with connection.cursor() as cursor:
        cursor.execute(*_persons_of(ids, variant=projects))
        columns = [column[0] for column in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor]
    return _counts_from(rows, _conditions[projects])


@contextmanager
def _counting_the_county(*, exclusive: bool = False) -> Iterator[None]:
    """Settings for counting a whole county on PostgreSQL: work memory to hash each
    subquery once (4 MB would probe them person by person), and no JIT (compiling the
    forty conditions took 24 s of a 27 s count of 300,000 persons).

    ``exclusive``: the counters are about to be replaced by the count. Their table is
    locked first, so every writer that added to them has committed (and is counted) and
    none adds to them until this transaction commits — else a clerk's change committed
    between the count and the replacement would be lost from the counters.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            if exclusive:
                table = connection.ops.quote_name(FigureCount._meta.db_table)
                cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute("SET LOCAL jit = off")
    yield


# ---- keeping the counters -------------------------------------------------------------


def _apply(delta: Counts) -> None:
    rows = [
        (place[0], place[1], key, n)
        for place, figures in sorted(delta.items())
        for key, n in sorted(figures.items())
        if n
    ]
    if not rows:
        return
    table = FigureCount._meta.db_table
    # Sorted, so two transactions adding to the same villages lock their rows in one order.
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (township_id, village_id, key, n) VALUES (%s, %s, %s, %s) "
            f"ON CONFLICT (township_id, village_id, key) DO UPDATE SET n = {table}.n + excluded.n",
            rows,
        )


def _difference(after: Counts, before: Counts) -> Counts:
    delta: Counts = defaultdict(dict)
    for place in after.keys() | before.keys():
        new, old = after.get(place, {}), before.get(place, {})
        for key in new.keys() | old.keys():
            if n := new.get(key, 0) - old.get(key, 0):
                delta[place][key] = n
    return delta


class _Recount:
    """The figures of some persons counted before a change; ``done()`` adds the difference."""

    def __init__(self, person_ids: Iterable[int | None]):
        self.ids = sorted({pk for pk in person_ids if pk is not None})
        if self.ids and transaction.get_connection().in_atomic_block:
            # Two transactions changing different rows of one person (a card, a list
            # entry) would each count the other's change as not there yet, and a figure
            # needing both would drift: the person's row is locked first, so the second
            # counts "before" once the first has committed.
            for start in range(0, len(self.ids), 5000):
                list(
                    Person.objects.select_for_update()
                    .filter(pk__in=self.ids[start : start + 5000])
                    .order_by("pk")
                    .values_list("pk", flat=True)
                )
        self.before = _count_ids(self.ids) if self.ids else {}

    def done(self, person_ids: Iterable[int | None] = ()) -> None:
        ids = sorted(set(self.ids) | {pk for pk in person_ids if pk is not None})
        if ids:
            _apply(_difference(_count_ids(ids), self.before))
            persons_recounted.send(sender=Person, person_ids=ids)


def _person_id_of(instance) -> int | None:
    return instance.pk if isinstance(instance, Person) else instance.person_id


# A person's own columns the figures read: a save of a person naming none of them (a
# phone, an address, a photo) changes no figure and is not recounted.
_PERSON_FIELDS_COUNTED = frozenset(
    {*PERSON_COLUMNS, "township", "township_id", "village", "village_id"}
)


def recount_before_save(sender, instance, raw: bool = False, update_fields=None, **kwargs) -> None:
    """pre_save of every model a figure reads (``roster.apps``); loaddata (raw) is left to
    ``figures_rebuild``."""
    if raw:
        return
    if (
        isinstance(instance, Person)
        and update_fields is not None
        and not _PERSON_FIELDS_COUNTED & set(update_fields)
    ):
        return
    instance._figures_recount = _Recount([_person_id_of(instance)])


def recount_after_save(sender, instance, raw: bool = False, **kwargs) -> None:
    recount = getattr(instance, "_figures_recount", None)
    if raw or recount is None:
        return
    del instance._figures_recount
    recount.done([_person_id_of(instance)] if instance.pk is not None else [])


@contextmanager
def figures_touch(person_ids: Iterable[int]) -> Iterator[None]:
    """Around a change of these persons: count them before and after, add the difference.

    Must run inside the change's transaction, so the counters commit (or roll back) with it.
    """
    recount = _Recount(person_ids)
    yield
    recount.done()


def _count_ids(ids: list[int]) -> Counts:
    parts = []
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        parts += [_count_few(chunk), _count_cards_few(chunk)]
    return _merged(*parts)


def figures_rebuild(*, recounted_signal: bool = True) -> None:
    """Count the whole county from scratch into the counters (after a bulk import), and
    tell what else is kept per person (``persons_recounted``) unless told not to."""
    with transaction.atomic(), _counting_the_county(exclusive=True):
        counts = count_figures(Person.objects.all())
        FigureCount.objects.all().delete()
        FigureCount.objects.bulk_create(
            FigureCount(township_id=place[0], village_id=place[1], key=key, n=n)
            for place, figures in counts.items()
            for key, n in figures.items()
        )
        if recounted_signal:
            persons_recounted.send(sender=Person, person_ids=None)


def _stored(counters: QuerySet[FigureCount] | None = None) -> Counts:
    """Per (township, village), what ``counters`` hold (None: every counter of the county)."""
    counts: Counts = defaultdict(dict)
    rows = FigureCount.objects.all() if counters is None else counters
    for township_id, village_id, key, n in rows.values_list(
        "township_id", "village_id", "key", "n"
    ):
        if n:
            counts[(township_id, village_id)][key] = n
    return counts


def figures_drift(*, to_repair: bool = False) -> Counts:
    """What the counters would have to change to equal a count from scratch (empty: none);
    ``to_repair``: inside a transaction that will apply it, with the counters locked."""
    with transaction.atomic(), _counting_the_county(exclusive=to_repair):
        return dict(_difference(count_figures(Person.objects.all()), _stored()))


# ---- daily snapshots --------------------------------------------------------------------


def figures_snapshot(day: datetime.date | None = None) -> int:
    """Store every village's figures as they stand now under ``day`` (today), replacing an
    earlier snapshot of that day; first repairs any drift of the counters. Rows written."""
    day = day or timezone.localdate()
    now = timezone.now()
    with transaction.atomic():
        # Counted first without the lock: locked, every clerk's save in the county would wait
        # for the whole count each hour. Only a drift seen is counted again under the lock
        # (a save committed between the count and the reading of the counters looks like one).
        if figures_drift() and (drift := figures_drift(to_repair=True)):
            logger.warning("进度计数与重新统计不一致，已按重新统计修正：%s", dict(drift))
            _apply(drift)
        stored = _stored()
        DailyFigures.objects.filter(day=day).delete()
        DailyFigures.objects.bulk_create(
            DailyFigures(
                day=day, township_id=place[0], village_id=place[1], figures=figures, taken_at=now
            )
            for place, figures in sorted(stored.items())
        )
    return len(stored)


# ---- reading ------------------------------------------------------------------------------


def _empty() -> dict[str, int]:
    return dict.fromkeys(FIGURE_KEYS, 0)


def _counts_on(
    day: datetime.date | None, *, user=None, keys: Iterable[str] | None = None
) -> Counts:
    """The counters ``keys`` (None: all) now, or the snapshot of a past ``day`` (the last one
    taken up to it); read for the user's scope only where the database can narrow it."""
    if day is None or day >= timezone.localdate():
        # The county has thousands of counter rows: a township clerk's page reads its own,
        # and a dashboard its figures, not every work and card counter besides.
        scope = _scope_filter(user)
        if scope is None:
            return {}
        counters = FigureCount.objects.filter(**scope)
        if keys is not None:
            counters = counters.filter(key__in=list(keys))
        return _stored(counters)
    last = snapshot_day_for(day)
    if last is None:
        return {}
    return {
        (row.township_id, row.village_id): row.figures
        for row in DailyFigures.objects.filter(day=last)
    }


def snapshot_day_for(day: datetime.date) -> datetime.date | None:
    """The day of the snapshot ``_counts_on(day)`` reads for a past day (None: there is none)."""
    return (
        DailyFigures.objects.filter(day__lte=day)
        .order_by("-day")
        .values_list("day", flat=True)
        .first()
    )


def day_label(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def figures_day(day: datetime.date) -> datetime.date | None:
    """The snapshot the figures of ``day`` are read from (None: today, the counters).

    A future day, or a past one before the first snapshot, has no figures: answering with
    today's counters or with zeros would pass them off as that day's, so ``ValidationError``
    (Chinese) is raised for both — for the progress report and ``report progress --date``.
    """
    today = timezone.localdate()
    if day > today:
        raise ValidationError(
            f"不能选择今天（{day_label(today)}）以后的日期：进度只能反映已有的情况。"
        )
    if day == today:
        return None
    taken = snapshot_day_for(day)
    if taken is None:
        raise ValidationError(
            f"{day_label(day)}及以前没有每日进度快照，无法给出该日的进度；"
            "请选择有快照的日期，或选择今天（按实时数据）。"
        )
    return taken


def _scope_filter(user) -> dict[str, int] | None:
    """The villages the user may see, as filters on (township_id, village_id): none (``{}``)
    for the county roles and for ``None``, the command line; a township clerk's township, a
    collector's village; None: no village at all (a bank clerk)."""
    if user is None or user.is_county_wide:
        return {}
    if getattr(user, "village_id", None):
        return {"township_id": user.township_id, "village_id": user.village_id}
    if user.township_id and not getattr(user, "bank_branch_id", None):
        return {"township_id": user.township_id}
    return None


def in_scope(counts: Counts, user) -> Counts:
    """The villages of ``counts`` the user may see (``_scope_filter``)."""
    scope = _scope_filter(user)
    if scope is None:
        return {}
    wanted = (scope.get("township_id"), scope.get("village_id"))
    return {
        place: figures
        for place, figures in counts.items()
        if all(want is None or want == have for want, have in zip(wanted, place, strict=True))
    }


def counters_of(user, keys: Iterable[str]) -> QuerySet[FigureCount] | None:
    """The counters ``keys`` of the villages whose persons ``Person.objects.for_user(user)``
    reaches (a township clerk's township, a collector's village, the county); None for a
    bank clerk, whose persons are those holding its cards — no counter knows them."""
    if not (user.is_authenticated and user.is_active):
        return None
    counters = FigureCount.objects.filter(key__in=list(keys))
    role = getattr(user, "role", None)
    if role == Role.TOWNSHIP_STAFF and user.township_id is not None:
        return counters.filter(township_id=user.township_id)
    if role == Role.VILLAGE_COLLECTOR and user.village_id is not None:
        return counters.filter(village_id=user.village_id)
    return counters if role in COUNTY_WIDE_ROLES else None


def counted_per_place(
    counters: QuerySet[FigureCount],
    *,
    township_code: str = "",
    village_id: int | None = None,
    unplaced: bool = False,
) -> list[tuple[int, int | None, int]] | None:
    """``(township id, village id or None, n)`` of each place ``counters`` count, narrowed to
    a township (by code), a village, or the persons without one (``unplaced``) — the rows
    ``roster.paging.PlacePaginator`` pages by. None for ``village_id`` 0: no village has that
    id, and the counters' row of the persons without one must not answer for it."""
    if township_code:
        counters = counters.filter(
            township_id__in=Township.objects.filter(code=township_code).values("pk")
        )
    if village_id == 0:
        return None
    if village_id is not None:
        counters = counters.filter(village_id=village_id)
    elif unplaced:
        counters = counters.filter(village_id=0)
    return [
        (township_id, village_id or None, n)
        for township_id, village_id, n in counters.values_list("township_id", "village_id", "n")
    ]


def holder_counters_of(user) -> QuerySet[FigureCount] | None:
    """A bank clerk's persons — the holders of the branch's cards, ``Person.objects.for_user``
    — per village: the holder counters of the branch's bank in the townships it serves. None
    for every other user."""
    role = getattr(user, "role", None)
    if not (user.is_authenticated and user.is_active) or role != Role.BANK_STAFF:
        return None
    if user.bank_branch_id is None:
        return FigureCount.objects.none()
    served = served_by(Township, user.bank_branch_id)
    banks = {bank_id for _, bank_id in served}
    if len(banks) > 1:
        return None  # one holder of two banks' cards is one person, counted under each
    return FigureCount.objects.filter(
        township_id__in={township_id for township_id, _ in served},
        key__in=[holders_key(bank_id) for bank_id in banks],
    )


def counted(
    *, user=None, day: datetime.date | None = None, keys: Iterable[str] | None = None
) -> Counts:
    """Per (township, village) in the user's scope, the counters ``keys`` (None: every
    counter), now or on a past day."""
    return in_scope(_counts_on(day, user=user, keys=keys), user)


def card_counts_per_bank(
    *,
    township_ids: Iterable[int] | None = None,
    village_id: int | None = None,
    bank_id: int | None = None,
) -> dict[tuple[str, int], int]:
    """Cards per (status, bank id) from the counters: of the holders of these townships
    (None: all), of this village, of this bank."""
    rows = FigureCount.objects.filter(key__startswith=CARD_KEY_PREFIX)
    if township_ids is not None:
        rows = rows.filter(township_id__in=list(township_ids))
    if village_id is not None:
        rows = rows.filter(village_id=village_id)
    counts: dict[tuple[str, int], int] = defaultdict(int)
    for key, n in rows.values_list("key", "n"):
        status, bank = card_key_parts(key)
        if n and (bank_id is None or bank == bank_id):
            counts[(status, bank)] += n
    return dict(counts)


def card_counts(
    *,
    township_ids: Iterable[int] | None = None,
    village_id: int | None = None,
    bank_id: int | None = None,
) -> dict[str, int]:
    """Cards per status from the counters (``card_counts_per_bank`` summed over banks)."""
    counts: dict[str, int] = defaultdict(int)
    per_bank = card_counts_per_bank(
        township_ids=township_ids, village_id=village_id, bank_id=bank_id
    )
    for (status, _bank), n in per_bank.items():
        counts[status] += n
    return dict(counts)


def townships_of(user) -> QuerySet[Township]:
    townships = Township.objects.order_by("code")
    if user is None or user.is_county_wide:
        return townships
    return townships.filter(pk=user.township_id) if user.township_id else townships.none()


def _sum(rows: Iterable[dict[str, int]]) -> dict[str, int]:
    total = _empty()
    for figures in rows:
        for key in FIGURE_KEYS:
            total[key] += figures.get(key, 0)
    return total


def progress_by_township(*, user=None, day: datetime.date | None = None) -> dict:
    """``{"date", "townships": [{"code", "name", figures…}], "total": {figures…}}`` for
    the townships in the user's scope (all for ``None``), today or on a past ``day``."""
    counts = counted(user=user, day=day, keys=FIGURE_KEYS)
    per_township: dict[int, list[dict]] = defaultdict(list)
    for (township_id, _village_id), figures in counts.items():
        per_township[township_id].append(figures)
    townships = [
        {"code": t.code, "name": t.name, **_sum(per_township.get(t.pk, []))}
        for t in townships_of(user)
    ]
    return {
        "date": (day or timezone.localdate()).isoformat(),
        "townships": townships,
        "total": _sum(townships),
    }


def progress_by_village(*, user, township: Township, day: datetime.date | None = None) -> dict:
    """The same for the villages of one township the user may see (a village collector:
    their own), with ``village_id`` and name; persons without a village as one row."""
    counts = counted(user=user, day=day, keys=FIGURE_KEYS)
    villages = Village.objects.filter(township=township)
    if user is not None and getattr(user, "village_id", None) and not user.is_county_wide:
        villages = villages.filter(pk=user.village_id)
    rows = []
    for village in sorted(villages, key=lambda v: natural_key(v.name)):
        figures = counts.get((township.pk, village.pk), {})
        rows.append({"village_id": village.pk, "name": village.name, **_sum([figures])})
    if not (user is not None and getattr(user, "village_id", None)):
        unplaced = counts.get((township.pk, 0))
        if unplaced:
            rows.append({"village_id": 0, "name": "未填村（社区）", **_sum([unplaced])})
    return {
        "date": (day or timezone.localdate()).isoformat(),
        "township": {"code": township.code, "name": township.name},
        "villages": rows,
        "total": _sum(rows),
    }


def progress_trend(
    *,
    user=None,
    township: Township | None = None,
    days: int = 60,
    current: dict[str, int] | None = None,
) -> list[dict]:
    """Per day of the last ``days`` with a snapshot, the figures of the scope (the county,
    or one township), oldest first; today's row is the counters as they stand now —
    ``current``, when the caller has just summed them for the same scope."""
    today = timezone.localdate()
    since = today - datetime.timedelta(days=days)
    snapshots = DailyFigures.objects.filter(day__gte=since, day__lt=today)
    townships = {t.pk for t in townships_of(user)}
    if township is not None:
        townships &= {township.pk}
    per_day: dict[datetime.date, list[dict]] = defaultdict(list)
    for row in snapshots.filter(township_id__in=townships).order_by("day"):
        if in_scope({(row.township_id, row.village_id): row.figures}, user):
            per_day[row.day].append(row.figures)
    if current is None:
        now = counted(user=user, keys=FIGURE_KEYS).items()
        current = _sum(f for (t, _v), f in now if t in townships)
    trend = [{"date": day.isoformat(), **_sum(rows)} for day, rows in sorted(per_day.items())]
    trend.append({"date": today.isoformat(), **_sum([current])})
    return trend


# ---- against the deadlines ---------------------------------------------------------------

# Each stage is measured as one figure over a base: what share of the listed persons has
# been compared, and of the persons who should hold a card how many are verified, have
# their card made, in their hands, activated.
STAGE_MEASURES = {
    "compare": ("compared", "listed"),
    "verify": ("verified", "should_hold"),
    "produce": ("made", "should_hold"),
    "distribute": ("issued", "should_hold"),
    "activate": ("activated", "should_hold"),
}


def share(part: int, whole: int) -> float | None:
    """Percent with one decimal; None when there is nothing to share (no persons)."""
    return round(100 * part / whole, 1) if whole else None


# The base every figure is a share of: the persons who should hold a card; the deceased
# are a share of the listed persons they were found among. The base itself and the listed
# persons get none: the listed include the deceased and may outnumber the base, and "116%"
# of it reads as a stage beyond completion.
_SHARE_BASES = {"deceased": "listed"}
_WITHOUT_SHARE = ("should_hold", "listed")


def share_base(key: str) -> str | None:
    """The figure ``key`` is shown as a share of (None: shown without a share)."""
    return None if key in _WITHOUT_SHARE else _SHARE_BASES.get(key, "should_hold")


def figure_share(figures: dict[str, int], key: str) -> float | None:
    """``key``'s share of its base in ``figures`` (the dashboards, the progress report)."""
    base = share_base(key)
    return share(figures.get(key, 0), figures.get(base, 0)) if base else None


def expected_share(stage: dict, today: datetime.date) -> float:
    """The share a stage should have reached by ``today`` at an even pace towards its
    target by its deadline (0 before the stage starts, the target from the deadline on)."""
    start, deadline, target = stage["starts_on"], stage["deadline"], stage["target"]
    if today >= deadline:
        return float(target)
    if today <= start:
        return 0.0
    return round(target * (today - start).days / (deadline - start).days, 1)


def next_stage(stages: list[dict], today: datetime.date) -> dict | None:
    """The stage whose deadline is next (today's counts as next); after the last deadline,
    the last stage."""
    for stage in stages:
        if stage["deadline"] >= today:
            return stage
    return stages[-1] if stages else None


def stage_standing(figures: dict[str, int], stage: dict, today: datetime.date) -> dict:
    """One township's (or village's) standing in ``stage``: done, base, share, the share
    expected today, how many persons it is short of that, and whether it is behind."""
    figure, base = STAGE_MEASURES[stage["code"]]
    done, whole = figures.get(figure, 0), figures.get(base, 0)
    actual = share(done, whole)
    expected = expected_share(stage, today)
    short = max(0, -(-int(expected * whole) // 100) - done) if whole else 0
    return {
        "figure": figure,
        "base": base,
        "done": done,
        "whole": whole,
        "share": actual,
        "expected": expected,
        "short": short,
        "behind": bool(whole) and short > 0,
        "days_left": (stage["deadline"] - today).days,
    }
