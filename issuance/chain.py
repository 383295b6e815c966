"""Tamper evidence of the card ledger: each card's entries form a hash chain, each day's
entries a chain of day heads, and a card's state is the fold of its ledger.

The one place that knows how an entry is serialised and hashed (docs/LEDGER.md):

- ``entry_hash`` = sha256 (hex) of ``canonical_text(entry)``: a version line, then one
  line ``name:length:value`` per field of ``FIELDS`` in that order (length in
  characters, so no value can pass for another), ``prev_hash`` last. ``prev_hash`` is
  the ``entry_hash`` of the same card's previous entry, "" for its first. A chain per card
  needs no lock beyond the card row the writers already hold.
- ``entry_hash_sql`` builds the same text and hash inside an ``INSERT … SELECT``
  (PostgreSQL's ``sha256()``; on SQLite a Python function registered on each connection).
- ``chain_head(day)``: head(d) = sha256(head(d-1) + the ``entry_hash`` of every entry
  recorded on local day d, in id order); "" before the ledger's first day. Sealed heads
  of past days (``LedgerDayHead``) make the removal of a day's newest entries show.
- ``card_fold(entries)``: the card's status and custody after its entries, by the rule
  ``fold_step`` that the ledger services apply when they write.
"""

from __future__ import annotations

import hashlib
from collections import namedtuple
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from hashlib import sha256
from itertools import groupby
from operator import attrgetter
from typing import NamedTuple

from django.db import IntegrityError, connection, transaction
from django.db.models.functions import TruncDate
from django.utils import timezone

from .models import Card, CardStatus, CustodyKind, LedgerDayHead, LedgerEntry, LedgerEvent

VERSION = "dayao-ledger-v1"

# (attribute, kind) of every field hashed, in the order of the canonical text.
FIELDS: tuple[tuple[str, str], ...] = (
    ("card_id", "int"),
    ("sequence", "int"),
    ("event", "text"),
    ("status_before", "text"),
    ("status_after", "text"),
    ("from_party", "text"),
    ("to_party", "text"),
    ("custody_kind", "text"),
    ("location", "text"),
    ("responsible_person", "text"),
    ("signee", "text"),
    ("method", "text"),
    ("face_to_face", "bool"),
    ("identity_checked", "bool"),
    ("occurred_at", "time"),
    ("recorded_at", "time"),
    ("recorded_by_id", "int"),
    ("note", "text"),
    ("prev_hash", "text"),
)
FIELD_NAMES = tuple(name for name, _ in FIELDS)
_KINDS = tuple(kind for _, kind in FIELDS)


def value_text(kind: str, value) -> str:
    """One field's value as the canonical text writes it: None is "", a boolean 1 or 0,
    a time UTC with microseconds (``2026-11-29T08:05:00.000000Z``), the rest ``str``."""
    if value is None:
        return ""
    if kind == "bool":
        return "1" if value else "0"
    if kind == "time":
        return value.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"
    return str(value)


_HEADER = VERSION + "\n"
_PREFIXES = tuple(f"{name}:" for name in FIELD_NAMES)


def canonical_values(values: Iterable) -> str:
    """The canonical text of the values of ``FIELDS``, in their order.

    ``value_text`` written out inline: ``ledger verify`` calls this for every entry."""
    parts = [_HEADER]
    append = parts.append
    for prefix, kind, value in zip(_PREFIXES, _KINDS, values, strict=True):
        if value is None:
            text = ""
        elif kind == "text":
            text = value if value.__class__ is str else str(value)
        elif kind == "int":
            text = str(value)
        elif kind == "bool":
            text = "1" if value else "0"
        else:
            text = value.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"
        append(f"{prefix}{len(text)}:{text}\n")
    return "".join(parts)


def canonical_text(entry) -> str:
    """The canonical text of an entry (a ``LedgerEntry`` or any object with its fields)."""
    return canonical_values(getattr(entry, name) for name in FIELD_NAMES)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def entry_hash(entry) -> str:
    return sha256_hex(canonical_text(entry))


def entry_seal(entry: LedgerEntry, prev_hash: str) -> LedgerEntry:
    """Chain an entry not yet written to its card's previous one: every field must be set
    (``recorded_at`` too), nothing may change after."""
    entry.prev_hash = prev_hash
    entry.entry_hash = entry_hash(entry)
    return entry


# -- the same in SQL --------------------------------------------------------------------

SQLITE_SHA256 = "dayao_sha256_hex"


def sql_sha256_hex(text_sql: str) -> str:
    if connection.vendor == "postgresql":
        return f"encode(sha256(convert_to({text_sql}, 'UTF8')), 'hex')"
    return f"{SQLITE_SHA256}({text_sql})"


def sqlite_register(sqlite_connection) -> None:
    """SQLite has no sha256: the hash of ``entry_hash_sql`` is Python's."""
    sqlite_connection.create_function(
        SQLITE_SHA256,
        1,
        lambda text: None if text is None else sha256_hex(text),
        deterministic=True,
    )


def entry_hash_sql(columns: dict[str, str], constants: dict[str, object]) -> tuple[str, list]:
    """An SQL expression of ``entry_hash`` and its parameters: the fields in ``columns``
    (name → an SQL expression of text or integer type) from the query, every other field
    of ``FIELDS`` the same for every row, from ``constants``.

    Text the same as ``canonical_text``'s: lengths are characters in both databases.
    """
    pieces: list[str] = []
    params: list[str] = []
    pending = VERSION + "\n"
    for name, kind in FIELDS:
        if name not in columns:
            text = value_text(kind, constants[name])
            pending += f"{name}:{len(text)}:{text}\n"
            continue
        if kind == "int":
            value = f"COALESCE(CAST({columns[name]} AS TEXT), '')"
        elif kind == "text":
            value = f"COALESCE({columns[name]}, '')"
        else:
            raise ValueError(f"{name}: only text and integer fields come from the query")
        pieces.append("CAST(%s AS TEXT)")
        params.append(pending + f"{name}:")
        pieces.append(f"CAST(length({value}) AS TEXT) || ':' || {value}")
        pending = "\n"
    pieces.append("CAST(%s AS TEXT)")
    params.append(pending)
    return sql_sha256_hex(" || ".join(pieces)), params


# -- the fold ---------------------------------------------------------------------------


class FoldedState(NamedTuple):
    """A card's status and custody as its ledger tells them (a tuple: ``ledger verify``
    folds a million entries)."""

    status: str = ""
    custody_kind: str = CustodyKind.NONE
    custodian: str = ""
    custody_location: str = ""
    custody_since: datetime | None = None


FOLDED_FIELDS = ("status", "custody_kind", "custodian", "custody_location", "custody_since")


def fold_step(state: FoldedState, entry) -> FoldedState:
    """The state after one more entry.

    The entry moves the card when it names a receiving party or another kind of custodian;
    then the card is kept where the entry says (its place, since it happened) by: the
    holder or proxy who signed (the receiving party), nobody without a physical card, else
    the responsible person of the receiving unit (or the unit, when none is named).
    Otherwise (activation, dormancy, a closing without a move) only the status changes.
    """
    if not entry.to_party and entry.custody_kind == state.custody_kind:
        return state._replace(status=entry.status_after)
    kind = entry.custody_kind
    if kind in (CustodyKind.HOLDER, CustodyKind.PROXY):
        keeper = entry.to_party or entry.signee
    elif kind == CustodyKind.NONE:
        keeper = ""
    else:
        keeper = entry.responsible_person or entry.to_party
    return FoldedState(
        status=entry.status_after,
        custody_kind=kind,
        custodian=keeper,
        custody_location=entry.location,
        custody_since=entry.occurred_at,
    )


def card_fold(entries: Iterable) -> FoldedState:
    """A card's state after its entries, in sequence order."""
    state = FoldedState()
    for entry in entries:
        state = fold_step(state, entry)
    return state


def card_state(card) -> FoldedState:
    """What a card row says of the state its ledger should give."""
    return FoldedState(**{name: getattr(card, name) for name in FOLDED_FIELDS})


def card_state_apply(card, state: FoldedState) -> None:
    for name in FOLDED_FIELDS:
        setattr(card, name, getattr(state, name))


# -- day heads --------------------------------------------------------------------------

# A day is sealed once it has been over this long: a writer that began before midnight
# (an import's entries carry its start time) has committed by then.
SEAL_GRACE = timedelta(hours=1)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _heads_between(start: date, end: date, head: str) -> Iterator[tuple[date, str, int]]:
    """(day, head, entries) of every day from ``start`` to ``end`` (inclusive), days
    without entries too, from ``head`` (that of the day before ``start``). The entries
    are streamed by day and id and hashed as they come: memory stays flat however many
    a day holds (a million-row import)."""
    rows = (
        LedgerEntry.objects.filter(
            recorded_at__gte=_day_start(start), recorded_at__lt=_day_start(end + timedelta(1))
        )
        .annotate(day=TruncDate("recorded_at"))
        .order_by("day", "id")
        .values_list("day", "entry_hash")
        .iterator(chunk_size=20000)
    )
    pending = next(rows, None)
    day = start
    while day <= end:
        hasher, count = sha256(head.encode()), 0
        while pending is not None and pending[0] == day:
            hasher.update(pending[1].encode())
            count += 1
            pending = next(rows, None)
        head = hasher.hexdigest()
        yield day, head, count
        day += timedelta(1)


def first_ledger_day() -> date | None:
    first = LedgerEntry.objects.order_by("recorded_at").values_list("recorded_at", flat=True)[:1]
    return timezone.localdate(first[0]) if first else None


def last_sealable_day(now: datetime | None = None) -> date:
    return timezone.localdate((now or timezone.now()) - SEAL_GRACE) - timedelta(1)


def _heads(until: date) -> Iterator[tuple[date, str, int]]:
    """(day, head, entries) from the day after the last sealed one before
    ``until`` (or the ledger's first day) up to ``until``."""
    base = LedgerDayHead.objects.filter(day__lt=until).order_by("-day").first()
    if base is not None:
        start, head = base.day + timedelta(1), base.head
    else:
        start, head = first_ledger_day(), ""
        if start is None or start > until:
            return
    yield from _heads_between(start, until, head)


def chain_head(day: date) -> str:
    """The chain head of the ledger at the end of local day ``day``; "" before its first
    entry. A past day's head is sealed (stored) the first time it is asked for, so that
    what a printed page shows can be checked later (``ledger verify``)."""
    sealed = LedgerDayHead.objects.filter(day=day).values_list("head", flat=True).first()
    if sealed is not None:
        return sealed
    if day <= last_sealable_day():
        days_seal(until=day)
        sealed = LedgerDayHead.objects.filter(day=day).values_list("head", flat=True).first()
        return sealed if sealed is not None else ""
    heads = list(_heads(day))
    return heads[-1][1] if heads else ""


def days_seal(*, until: date | None = None) -> int:
    """Seal the head of every past day not sealed yet, up to ``until`` (by default the
    last day over ``SEAL_GRACE`` ago); returns how many days were sealed. Two sealers at
    once write each day once (the day is unique), and agree on its head."""
    until = until or last_sealable_day()
    now = timezone.now()
    rows = [
        LedgerDayHead(day=day, head=head, entries=count, sealed_at=now)
        for day, head, count in _heads(until)
        if not LedgerDayHead.objects.filter(day=day).exists()
    ]
    try:
        with transaction.atomic():
            LedgerDayHead.objects.bulk_create(rows, batch_size=500)
    except IntegrityError:
        # Another sealer wrote them first, from the same entries.
        return 0
    return len(rows)


# -- verification -----------------------------------------------------------------------

EntryRow = namedtuple("EntryRow", [*FIELD_NAMES, "id", "entry_hash"])

# How many problems a run names before it stops looking (the first one matters most).
PROBLEMS_NAMED = 20


@dataclass
class Verification:
    """What ``ledger_verify`` found: figures, and each problem in Chinese."""

    cards: int = 0
    entries: int = 0
    sealed_days: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.ok:
            return (
                f"台账校验通过：{self.cards} 张卡，{self.entries} 条记录，"
                f"{self.sealed_days} 个已封存日链头一致。"
            )
        return f"台账校验失败：{self.problems[0]}"


def ledger_verify() -> Verification:
    """Check the whole ledger, streaming it card by card: each entry's hash, the links of
    each card's chain, its sequences 1…n, the card's state against the fold of its
    ledger, and every sealed day head recomputed. Read in one snapshot (PostgreSQL:
    REPEATABLE READ), so clerks' writes meanwhile neither disturb nor wait."""
    snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic():
        if snapshot:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return _verify()


def _verify() -> Verification:
    result = Verification()
    bad_cards: dict[int, str] = {}
    cards = (
        Card.objects.order_by("pk")
        .values_list("pk", *FOLDED_FIELDS)
        .iterator(chunk_size=VERIFY_CHUNK)
    )
    entries = (
        LedgerEntry.objects.order_by("card_id", "sequence")
        .values_list(*EntryRow._fields)
        .iterator(chunk_size=VERIFY_CHUNK)
    )
    by_card = groupby(map(EntryRow._make, entries), key=attrgetter("card_id"))
    pending = next(by_card, None)
    for pk, *stored in cards:
        result.cards += 1
        rows: list = []
        while pending is not None and pending[0] < pk:
            # Entries of a card that is not there: the foreign key forbids it.
            pending = next(by_card, None)
        if pending is not None and pending[0] == pk:
            rows = list(pending[1])
            pending = next(by_card, None)
        result.entries += len(rows)
        problem = _card_problem(rows, FoldedState(*stored))
        if problem and len(bad_cards) < PROBLEMS_NAMED:
            bad_cards[pk] = problem
    names = _card_names(list(bad_cards))
    result.problems = [f"{names[pk]}{problem}" for pk, problem in bad_cards.items()]
    sealed, problems = _sealed_days_problems()
    result.sealed_days = sealed
    result.problems.extend(problems)
    return result


VERIFY_CHUNK = 10000


def _card_problem(rows: list, stored: FoldedState) -> str:
    """What is wrong with one card's chain, from its first bad entry; "" if nothing."""
    if not rows:
        return "没有任何台账记录（记录被删除）。"
    previous, state = "", FoldedState()
    hashed = len(FIELDS)
    for expected, row in enumerate(rows, start=1):
        if sha256(canonical_values(row[:hashed]).encode()).hexdigest() != row.entry_hash:
            return f"第 {row.sequence} 条记录（{_label(row.event)}）被改动：内容与其指纹不符。"
        if row.sequence > expected:
            return f"第 {expected} 条记录缺失（被删除）。"
        if row.sequence != expected:
            return f"第 {row.sequence} 条记录的序号重复或顺序被调换。"
        if row.prev_hash != previous:
            return (
                f"第 {row.sequence} 条记录（{_label(row.event)}）与上一条记录链接不上："
                "前面的记录被删除、替换或调换了顺序。"
            )
        previous = row.entry_hash
        state = fold_step(state, row)
    if state != stored:
        return f"卡片现状与台账不符：{_differences(stored, state)}。"
    return ""


def _label(event: str) -> str:
    return LedgerEvent(event).label if event in LedgerEvent.values else event


_FIELD_LABELS = {
    "status": "状态",
    "custody_kind": "保管方",
    "custodian": "责任人",
    "custody_location": "保管地点",
    "custody_since": "保管起始时间",
}


def _shown(name: str, value) -> str:
    if value in (None, ""):
        return "空"
    if name == "status":
        return CardStatus(value).label if value in CardStatus.values else value
    if name == "custody_kind":
        return CustodyKind(value).label if value in CustodyKind.values else value
    if name == "custody_since":
        return f"{timezone.localtime(value):%Y年%m月%d日 %H:%M}"
    return str(value)


def _differences(stored: FoldedState, folded: FoldedState) -> str:
    return "；".join(
        f"{_FIELD_LABELS[name]}卡上为“{_shown(name, getattr(stored, name))}”，"
        f"按台账应为“{_shown(name, getattr(folded, name))}”"
        for name in FOLDED_FIELDS
        if getattr(stored, name) != getattr(folded, name)
    )


def _card_names(pks: list[int]) -> dict[int, str]:
    """How a problem names its card: the card number, else the holder."""
    names = {}
    for pk, number, holder in Card.objects.filter(pk__in=pks).values_list(
        "pk", "card_number", "person__name"
    ):
        names[pk] = f"卡号 {number} " if number else f"（未出卡号，持卡人{holder}）"
    return names


def _sealed_days_problems() -> tuple[int, list[str]]:
    """Every sealed day head recomputed from the entries as they are now."""
    sealed = list(LedgerDayHead.objects.order_by("day").values_list("day", "head", "entries"))
    if not sealed:
        return 0, []
    first = first_ledger_day()
    # Before the ledger's first day the head is "" (and a sealed head there is wrong).
    recomputed: dict[date, tuple[str, int]] = {}
    if first is not None and first <= sealed[-1][0]:
        recomputed = {
            day: (head, count) for day, head, count in _heads_between(first, sealed[-1][0], "")
        }
    problems = []
    for day, head, count in sealed:
        now_head, now_count = recomputed.get(day, ("", 0))
        if now_head != head:
            problems.append(
                f"{day:%Y年%m月%d日}的日链头与封存值不一致（封存时当日 {count} 条记录，"
                f"现 {now_count} 条）：该日或之前的记录被删除、改动或移动。"
            )
            break
    return len(sealed), problems
