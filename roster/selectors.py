"""Reads of people and places, always through the user's scope."""

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from itertools import chain

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone

from dayao_sscard.models import AuditEvent
from dayao_sscard.natural import natural_key
from dayao_sscard.params import id_param
from dayao_sscard.permissions import may
from issuance.models import (
    CARD_MADE_STATUSES,
    LIVE_CARD_STATUSES,
    CancellationRequest,
    Card,
    CardStatus,
    LedgerEntry,
)

from .figures import FIGURE_KEYS, PERSONS_KEY, persons_meeting, subsidy_key
from .figures import subsidy_projects as subsidy_projects
from .id_numbers import mask_phone, try_normalize_id_number
from .imports.collection import field_label, field_text
from .imports.matching import effective_snapshot_ids, latest_snapshot
from .models import (
    CardClass,
    ClassificationChange,
    CollectionConflict,
    InvalidListRow,
    ListEntry,
    ListKind,
    Person,
    PersonClass,
    SourceList,
    Township,
    UnreachableReason,
    VerificationStatus,
    Village,
    VitalStatus,
)
from .progress import counted, counted_per_place, counters_of, holder_counters_of, share
from .verification import (
    MISSING_BITS,
    PROBLEM_GROUPS,
    document_out_of_date_q,
    person_problems,
)
from .witnesses import (
    DISAGREEMENT,
    DISAGREEMENT_ADVICE,
    DISAGREEMENT_LABEL,
    UNCLASSIFIED,
    card_class_q,
    cards_the_export_should_know,
    made_since_the_export,
    needs_card_q,
)


def card_class_label(person: Person) -> str:
    """The person's class as the lists count it, for a person read by ``person_list``.

    A card our ledger shows made is 已制卡 whatever the export says; when the export says
    otherwise the text names the disagreement and the export's word, as the pages do.
    """
    export_label = person.get_card_class_display() if person.card_class else "未比对"
    if not person.card_made_here:
        return export_label
    if person.card_export_should_know and person.card_class not in ("", CardClass.CARD_MADE):
        return f"{CardClass.CARD_MADE.label}（{DISAGREEMENT_LABEL}：卡务系统为{export_label}）"
    return CardClass.CARD_MADE.label


def disagreements(*, user) -> QuerySet[Person]:
    """Persons our ledger shows a made card for while the latest export does not
    (``card_class_q(DISAGREEMENT)``, as ``roster.disagreements`` keeps it)."""
    return (
        Person.objects.for_user(user)
        .filter(card_disagreement__isnull=False)
        .select_related("township", "village", "classification")
        .order_by("township__code", "village__name", "name", "id")
    )


def disagreements_listed(*, user) -> int:
    """Of those, the persons on an unissued list: the counters' ``class_disagreement``,
    the figure 数据比对 shows."""
    return sum(figures.get("class_disagreement", 0) for figures in counted(user=user).values())


def on_unissued_list() -> Q:
    """Persons on at least one unissued list: those the comparison's figures count."""
    return Q(
        Exists(ListEntry.objects.filter(person=OuterRef("pk"), source_list__kind=ListKind.UNISSUED))
    )


def with_ledger_cards(*, user, persons: list[Person]) -> list[dict]:
    """Each person beside the live card our ledger holds for them (one query for all)."""
    cards = {
        card.person_id: card
        for card in Card.objects.for_user(user)
        .filter(person__in=persons, status__in=LIVE_CARD_STATUSES)
        .select_related("bank")
    }
    return [{"person": person, "card": cards.get(person.pk)} for person in persons]


def person_card_witnesses(*, person: Person) -> dict:
    """What each witness says about the person's card, and whether they disagree.

    Not narrowed to the cards the user reaches: the figures count the person's card
    whoever looks, and the person page must say the same (its card table is narrowed).
    """
    card = (
        person.cards.filter(status__in=LIVE_CARD_STATUSES)
        .select_related("bank")
        .order_by("-created_at")
        .first()
    )
    made_here = card is not None and card.status in CARD_MADE_STATUSES
    export_class = person.card_class
    disagrees = (
        made_here
        and bool(export_class)
        and export_class != CardClass.CARD_MADE
        and cards_the_export_should_know().filter(pk=card.pk).exists()
    )
    return {
        # The class every figure counts the person under (card_class_q): made by either.
        "card_class": CardClass.CARD_MADE if made_here else export_class,
        "export_class": export_class,
        "export_label": person.get_card_class_display() if export_class else "未比对",
        "ledger_card": card,
        "ledger_label": card.get_status_display() if card else "无在用卡",
        "disagrees": disagrees,
        "advice": DISAGREEMENT_ADVICE if disagrees else "",
    }


@dataclass(frozen=True)
class PersonFilters:
    query: str = ""
    township: str = ""
    village: str = ""
    card_class: str = ""
    vital_status: str = ""
    category: str = ""
    on_list: str = ""
    project: str = ""
    without_card: bool = False
    figure: str = ""


# The village filter's value for persons without a village (the dashboards' 未填村 row).
NO_VILLAGE = "none"


def person_list(*, user, filters: PersonFilters = PersonFilters()) -> QuerySet[Person]:
    """``person_list_rows`` with each person's card flags (``card_made_here``,
    ``card_export_should_know``) computed in the query: for reading the whole list."""
    return person_list_rows(user=user, filters=filters).annotate(
        card_made_here=Exists(
            Card.objects.filter(person=OuterRef("pk"), status__in=CARD_MADE_STATUSES)
        ),
        card_export_should_know=Exists(
            cards_the_export_should_know().filter(person=OuterRef("pk"))
        ),
    )


def with_card_flags(persons: list[Person]) -> list[Person]:
    """Set ``person_list``'s card flags on a page of ``person_list_rows``, by one query over
    its persons' made cards. In the list's query PostgreSQL answers the second flag with
    one hash of every made card of the county (0.95 s of page 1 at a million persons)."""
    made_cards = Card.objects.filter(
        person_id__in=[person.pk for person in persons], status__in=CARD_MADE_STATUSES
    ).values_list("person_id", made_since_the_export())
    made, known = set(), set()
    for person_id, made_since in made_cards:
        made.add(person_id)
        if not made_since:  # as cards_the_export_should_know, card by card
            known.add(person_id)
    for person in persons:
        person.card_made_here = person.pk in made
        person.card_export_should_know = person.pk in known
    return persons


def _applied(user, filters: PersonFilters) -> PersonFilters:
    """The filters ``person_list_rows`` applies; list membership (poverty, disability,
    subsidies) only for roles that may see it, else it is ignored."""
    if not may(user, "roster.view_person_categories"):
        filters = replace(filters, category="", on_list="", project="")
    return filters


def person_list_rows(*, user, filters: PersonFilters = PersonFilters()) -> QuerySet[Person]:
    """The user's persons matching the filters; filters by list membership (poverty,
    disability, subsidies) only for roles that may see it, else they are ignored."""
    filters = _applied(user, filters)
    persons = Person.objects.for_user(user).search(filters.query)
    if filters.township:
        persons = persons.filter(township__code=filters.township)
    if (village_id := id_param(filters.village)) is not None:
        persons = persons.filter(village_id=village_id)
    elif filters.village == NO_VILLAGE:
        persons = persons.filter(village__isnull=True)
    if filters.figure in FIGURE_KEYS:
        # The persons behind a dashboard's number: the condition its counters count.
        persons = persons_meeting(persons, filters.figure)
    elif filters.figure:
        return persons.none()
    if filters.card_class in (*CardClass.values, DISAGREEMENT, UNCLASSIFIED):
        persons = persons.filter(card_class_q(filters.card_class))
    if filters.vital_status in VitalStatus.values:
        persons = persons.filter(vital_status=filters.vital_status)
    if filters.category:
        persons = persons.filter(categories__category=filters.category)
    if filters.on_list in ListKind.values:
        entries = ListEntry.objects.filter(person=OuterRef("pk"), source_list__kind=filters.on_list)
        if filters.project:
            entries = entries.filter(source_list__source=filters.project)
        persons = persons.filter(Exists(entries))
    if filters.without_card:
        # A LEFT JOIN: persons not yet classified have no card either, so they stay.
        persons = persons.exclude(card_class_q(CardClass.CARD_MADE))
    return persons.select_related("township", "village", "classification")


def person_list_counted(
    *, user, filters: PersonFilters
) -> list[tuple[int, int | None, int]] | None:
    """The rows of ``person_list_rows`` per (township, village or None), read from the
    village counters when the list is filtered by place and a dashboard's figure alone (a
    bank clerk's by place alone, from the holders of the branch's bank); None when only
    counting the list can say (``roster.paging.PlacePaginator`` counts).

    Counting every person of a county by village took 0.4 s at a million persons, on
    every page of the list; the counters hold the same numbers (``roster.progress``).
    """
    filters = _applied(user, filters)
    place_and_figure = replace(
        filters, township="", village="", figure="", query=filters.query.strip()
    )
    if place_and_figure != PersonFilters() or (
        filters.figure and filters.figure not in FIGURE_KEYS
    ):
        return None
    counters = counters_of(user, [filters.figure or PERSONS_KEY])
    if counters is None and not filters.figure:
        counters = holder_counters_of(user)
    if counters is None:
        return None
    return counted_per_place(
        counters,
        township_code=filters.township,
        village_id=id_param(filters.village),
        unplaced=filters.village == NO_VILLAGE,
    )


def person_get(*, user, pk: int) -> Person:
    return get_object_or_404(
        Person.objects.for_user(user).select_related("township", "village", "classification"),
        pk=pk,
    )


def person_get_by_id_number(*, user, raw_id_number: str) -> Person:
    id_number, _ = try_normalize_id_number(raw_id_number)
    return get_object_or_404(
        Person.objects.for_user(user).select_related("township", "village", "classification"),
        id_number=id_number or "",
    )


def person_cards(*, user, person: Person) -> QuerySet[Card]:
    """The person's cards the user reaches (a bank clerk: those of the branch), newest first."""
    return (
        Card.objects.for_user(user)
        .filter(person=person)
        .select_related("bank")
        .prefetch_related("cancellations")
        .order_by("-created_at", "-id")
    )


def person_history(*, user, person: Person) -> list:
    """The person's audit events, and the ledger entries and cancellations (queued by a
    death, withdrawn with it) of the cards the user reaches, newest first."""
    cancellations = [
        str(pk)
        for pk in CancellationRequest.objects.for_user(user)
        .filter(card__person=person)
        .values_list("pk", flat=True)
    ]
    audit = AuditEvent.objects.filter(
        Q(object_type="roster.person", object_id=str(person.pk))
        | Q(object_type="issuance.cancellationrequest", object_id__in=cancellations)
    ).select_related("actor")
    ledger = (
        LedgerEntry.objects.for_user(user)
        .filter(card__person=person)
        .select_related("card", "recorded_by")
    )
    items = chain(
        ({"at": e.at, "kind": "audit", "event": e} for e in audit),
        ({"at": e.recorded_at, "kind": "ledger", "event": e} for e in ledger),
    )
    return sorted(items, key=lambda item: item["at"], reverse=True)


def township_choices(*, user) -> QuerySet[Township]:
    if user.is_county_wide:
        return Township.objects.all()
    if user.township_id:
        return Township.objects.filter(pk=user.township_id)
    return Township.objects.none()


def village_choices(*, user, township_code: str = "") -> list[Village]:
    """Villages in scope, by township, then by name as people count (2组 before 10组)."""
    villages = _villages_in_scope(user, township_code).select_related("township")
    return sorted(villages, key=lambda v: (v.township.code, natural_key(v.name)))


def village_options(*, user, township_code: str = "") -> list[tuple[str, str]]:
    """``village_choices`` as a filter offers them: (id, "乡镇简称·村名"). Read as values:
    the instances of a county's villages and their townships cost 4.6 ms of every person
    search at 140 villages, the values 1.3 ms."""
    rows = _villages_in_scope(user, township_code).values_list(
        "pk", "name", "township__code", "township__short_name"
    )
    return [
        (str(pk), f"{short_name}·{name}")
        for pk, name, _, short_name in sorted(rows, key=lambda r: (r[2], natural_key(r[1])))
    ]


def _villages_in_scope(user, township_code: str) -> QuerySet[Village]:
    villages = Village.objects.all()
    if user.village_id:
        villages = villages.filter(pk=user.village_id)
    elif not user.is_county_wide:
        if not user.township_id:
            return villages.none()
        villages = villages.filter(township_id=user.township_id)
    if township_code:
        villages = villages.filter(township__code=township_code)
    return villages


def source_lists(*, user, kind: str = "") -> QuerySet[SourceList]:
    """Imported files: all for county roles, a clerk's own uploads otherwise."""
    lists = SourceList.objects.select_related("imported_by")
    if not user.is_county_wide:
        lists = lists.filter(imported_by=user)
    return lists.filter(kind=kind) if kind else lists


def invalid_rows(*, user, source_list: SourceList | None = None) -> QuerySet[InvalidListRow]:
    rows = InvalidListRow.objects.for_user(user).select_related("source_list", "township")
    return rows.filter(source_list=source_list) if source_list else rows


def comparison_basis() -> dict:
    """The exports the comparison stands on, as the pages name them.

    ``complete``: the latest whole-county export; ``partials``: those imported after it,
    newest first; ``latest``: the newest of all (whose changes the changes page lists);
    ``classified``: whether anyone has a result at all (the demo has some without any
    export).
    """
    complete = latest_snapshot()
    partials = list(
        SourceList.objects.filter(pk__in=effective_snapshot_ids(), is_partial=True).order_by(
            "-imported_at", "-id"
        )
    )
    return {
        "complete": complete,
        "partials": partials,
        "latest": partials[0] if partials else complete,
        "classified": PersonClass.objects.exists(),
    }


def classification_changes(*, user) -> QuerySet[ClassificationChange]:
    """What the latest export (complete or partial) changed for people classified before it."""
    snapshot = (
        SourceList.objects.filter(kind=ListKind.CARD_EXPORT).order_by("-imported_at", "-id").first()
    )
    if snapshot is None:
        return ClassificationChange.objects.none()
    return (
        ClassificationChange.objects.for_user(user)
        .filter(snapshot=snapshot)
        .exclude(previous_class="")
        .select_related("person", "person__township", "person__village")
    )


def village_class_counts(*, user, township_code: str) -> list[dict]:
    """Per village of one township: listed persons in each class (the township's work list),
    from the progress counters."""
    township = Township.objects.filter(code=township_code).first()
    if township is None:
        return []
    names = dict(Village.objects.filter(township=township).values_list("pk", "name"))
    rows = []
    for (township_id, village_id), figures in counted(user=user).items():
        if township_id != township.pk or not figures.get("listed"):
            continue
        row = {"village_id": village_id or None, "village__name": names.get(village_id)}
        row["listed"] = figures["listed"]
        row.update(
            {key: figures.get(f"class_{key}", 0) for key in (*CardClass.values, DISAGREEMENT)}
        )
        rows.append(row)
    return sorted(rows, key=lambda row: natural_key(row["village__name"] or ""))


def subsidy_readiness(*, user, township: Township | None = None) -> list[dict]:
    """Per subsidy project: its recipients in the user's scope (of one township), how many
    hold their card (issued) and have it activated, and the share activated — the number
    that decides whether the subsidy can be paid by card. Read from the progress counters
    (``subsidy_issued:<项目>`` is the figure ``issued`` over the project's list), so each
    number is what the person list shows for that list with the figure filter."""
    projects = subsidy_projects()
    names = ("recipients", "issued", "activated")
    # Only the projects' counters: the county holds thousands of others (6,450 counters at
    # a million persons, read and sifted on every dashboard).
    keys = [subsidy_key(f"subsidy_{name}", project) for project in projects for name in names]
    totals: dict[str, int] = {}
    for (township_id, _village_id), figures in counted(user=user, keys=keys).items():
        if township is not None and township_id != township.pk:
            continue
        for key, n in figures.items():
            totals[key] = totals.get(key, 0) + n
    rows = []
    for project in projects:
        counts = {name: totals.get(subsidy_key(f"subsidy_{name}", project), 0) for name in names}
        rows.append(
            {
                "project": project,
                **counts,
                "activated_share": share(counts["activated"], counts["recipients"]),
            }
        )
    return rows


def _in_queue() -> Q:
    """People who still need verification: no card record or a failed one, alive, pending."""
    return (
        needs_card_q()
        & Q(verification_status=VerificationStatus.PENDING)
        & ~Q(vital_status=VitalStatus.DECEASED)
    )


def work_queue(*, user, village: str = "") -> QuerySet[Person]:
    """People in scope who still need verification: no card record or a failed one, alive."""
    persons = Person.objects.for_user(user).filter(_in_queue())
    if (village_id := id_param(village)) is not None:
        persons = persons.filter(village_id=village_id)
    return (
        persons.select_related("township", "village", "classification")
        .annotate(card_failure=Subquery(_last_failed_card().values("failure_reason")[:1]))
        .order_by("township__code", "village__name", "group_name", "name", "id")
    )


def _last_failed_card() -> QuerySet[Card]:
    return Card.objects.filter(person=OuterRef("pk"), status=CardStatus.FAILED).order_by(
        "-created_at", "-id"
    )


def last_card_failure(*, person: Person) -> Card | None:
    """The person's card our ledger last saw fail, while no live card has followed it:
    the bank's reason is what the collector must put right (批量制卡 results)."""
    card = person.cards.exclude(status=CardStatus.CANCELLED).order_by("-created_at", "-id").first()
    return card if card is not None and card.status == CardStatus.FAILED else None


Place = tuple[int, int]  # (township id, village id or 0 for persons without one)
# A village's persons in walking order: the index person_walk_order whole. Within a
# village the first two are the same for every row; named, they let PostgreSQL read the
# index in order for a township's persons without a village too (it takes "village IS
# NULL" for no constant, as it does "village = 5", and would sort them all first).
WALKING_ORDER = ("village_id", "township_id", "walk_key", "id")


class WorkQueue:
    """核查队列: the user's persons still to verify, in the order a collector walks them
    (township, village, group as people count — 2组 before 10组 — then name), and under
    each missing element everyone it is missing for (a person missing two is under both).

    Read a village at a time: how many persons each village has in the queue, and in each
    group, come from the progress counters (``work_pending``, ``work_missing_<element>``);
    the villages are put in order here (a county has a few hundred); a page reads the
    one or two villages it falls in through their walking-order index. What the day
    changes — an ID document expired or not valid yet — cannot be counted ahead: those
    persons (the few still to verify whose document has dates) are counted when read.
    """

    def __init__(self, *, user, village: str = "", today: datetime.date | None = None):
        self.user = user
        self.today = today or timezone.localdate()
        self.village_id = id_param(village)

    @cached_property
    def _counts(self) -> dict[Place, dict[str, int]]:
        counts = counted(user=self.user)
        if self.village_id is not None:
            counts = {place: f for place, f in counts.items() if place[1] == self.village_id}
        return counts

    @cached_property
    def places(self) -> list[Place]:
        """The villages in scope with their counters, in walking order."""
        return self._walking_order(self._counts.keys())

    def count(self, group: str = "") -> int:
        return sum(self.place_count(place, group) for place in self.places)

    def group_counts(self) -> dict[str, int]:
        """Each element (PROBLEM_GROUPS' order) missing for anyone, with how many."""
        counts = {key: self.count(key) for key in PROBLEM_GROUPS}
        return {key: n for key, n in counts.items() if n}

    def persons(self, group: str = "") -> "QueuePersons":
        """Everyone (or a group) in walking order, for a ``Paginator``."""
        return QueuePersons(self, group if group in PROBLEM_GROUPS else "")

    def next_after(self, person: Person) -> Person | None:
        """The next person to verify after ``person``, wrapping round to the first; None
        when nobody else is left. One indexed query, for the next in the person's village;
        only at the village's end are the counters read to find the next village with
        anyone left, and its first person read."""
        here = (person.township_id, person.village_id or 0)
        after = Q(walk_key__gte=person.walk_key) & (
            Q(walk_key__gt=person.walk_key) | Q(pk__gt=person.pk)
        )
        found = self.place_persons(here).filter(after).order_by(*WALKING_ORDER).first()
        if found is not None:
            return found
        places = self._walking_order({*self.places, here})
        at = places.index(here)
        for place in [*places[at + 1 :], *places[:at]]:
            if self.place_count(place):
                found = self.place_persons(place).order_by(*WALKING_ORDER).first()
                if found is not None:
                    return found
        return self.place_persons(here).exclude(pk=person.pk).order_by(*WALKING_ORDER).first()

    def place_persons(self, place: Place, group: str = "") -> QuerySet[Person]:
        """The queue's persons of one village (or of a township's persons without one)."""
        township_id, village_id = place
        persons = Person.objects.for_user(self.user).filter(_in_queue())
        # Both keys, for the index person_walk_order (village, township, walk_key, id).
        persons = persons.filter(township_id=township_id, village_id=village_id or None)
        if group == "id_validity":
            persons = persons.filter(
                Q(missing_bits__has_bit=MISSING_BITS[group]) | document_out_of_date_q(self.today)
            )
        elif group:
            persons = persons.filter(missing_bits__has_bit=MISSING_BITS[group])
        return persons

    def place_count(self, place: Place, group: str = "") -> int:
        """How many persons of one village are in the queue (or in one group of it)."""
        figures = self._counts.get(place, {})
        if not group:
            return figures.get("work_pending", 0)
        extra = self._out_of_date.get(place, 0) if group == "id_validity" else 0
        return figures.get(f"work_missing_{group}", 0) + extra

    @cached_property
    def _out_of_date(self) -> dict[Place, int]:
        """Per village, the persons in the queue whose ID document the day has put out of
        date and who lack nothing else of its validity (those are counted already)."""
        persons = (
            Person.objects.for_user(self.user)
            # The condition of the index person_pending_dated, spelt out for the planner.
            .filter(
                verification_status=VerificationStatus.PENDING,
                id_valid_long_term=False,
                id_valid_from__isnull=False,
                id_valid_until__isnull=False,
            )
            .filter(_in_queue(), document_out_of_date_q(self.today))
            .exclude(missing_bits__has_bit=MISSING_BITS["id_validity"])
        )
        if self.village_id is not None:
            persons = persons.filter(village_id=self.village_id)
        rows = persons.order_by().values_list("township_id", "village_id").annotate(n=Count("pk"))
        return {(township_id, village_id or 0): n for township_id, village_id, n in rows}

    @staticmethod
    def _walking_order(places: Iterable[Place]) -> list[Place]:
        """Townships by code; in each, the persons without a village first (as an empty
        name sorts), then the villages as people count them (2组 before 10组)."""
        places = set(places)
        codes = dict(Township.objects.values_list("pk", "code"))
        names = dict(
            Village.objects.filter(pk__in={v for _, v in places if v}).values_list("pk", "name")
        )

        def position(place: Place) -> tuple:
            township_id, village_id = place
            name = names.get(village_id, "")
            return (codes.get(township_id, ""), natural_key(name), name, village_id)

        return sorted(places, key=position)


class QueuePersons:
    """A queue's persons (or one group's) as a ``Paginator`` reads them: ``count()`` and
    slices, each slice read from the villages it spans in walking order. Each person
    read says what it lacks today (``missing``: PROBLEM_GROUPS' keys) and the bank's
    reason of a failed card (``card_failure``)."""

    def __init__(self, queue: WorkQueue, group: str):
        self.queue = queue
        self.group = group

    def count(self) -> int:
        return self.queue.count(self.group)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[Person]:
        if not isinstance(index, slice):
            raise TypeError("a queue is read a page at a time")
        bottom, top = index.start or 0, index.stop
        rows: list[Person] = []
        start = 0
        for place in self.queue.places:
            size = self.queue.place_count(place, self.group)
            end = start + size
            if end > bottom and (top is None or start < top):
                offset = max(0, bottom - start)
                limit = None if top is None else top - max(start, bottom)
                persons = (
                    self.queue.place_persons(place, self.group)
                    .select_related("township", "village", "classification")
                    .order_by(*WALKING_ORDER)
                )
                rows.extend(persons[offset : None if limit is None else offset + limit])
            if top is not None and end >= top:
                break
            start = end
        # The bank's reasons for the page's persons only: in the query, the reason of each
        # person skipped over to reach a late page was looked up too.
        failures: dict[int, str] = {}
        for person_id, reason in (
            Card.objects.filter(person_id__in=[p.pk for p in rows], status=CardStatus.FAILED)
            .order_by("person_id", "-created_at", "-id")
            .values_list("person_id", "failure_reason")
        ):
            failures.setdefault(person_id, reason)
        for person in rows:
            problems = person_problems(person, today=self.queue.today)
            person.missing = list(dict.fromkeys(p.field for p in problems))
            person.card_failure = failures.get(person.pk)
        return rows


def work_queue_next(*, user, after: Person) -> Person | None:
    """The next person to verify after ``after``, in queue order, wrapping round."""
    return WorkQueue(user=user).next_after(after)


def verification_progress(*, user) -> list[dict]:
    """Per township and village in scope: to verify, ready, deceased, unreachable by reason,
    from the progress counters (the persons the comparison sends to verification)."""
    townships = {t.pk: t for t in Township.objects.all()}
    villages = dict(Village.objects.values_list("pk", "name"))
    reasons = [f"unreachable_{reason}" for reason in UnreachableReason.values]
    rows = []
    for (township_id, village_id), figures in counted(user=user).items():
        if not figures.get("work_in_scope"):
            continue
        township = townships[township_id]
        rows.append(
            {
                "township__code": township.code,
                "township__name": township.name,
                "village_id": village_id or None,
                "village__name": villages.get(village_id),
                "in_scope": figures["work_in_scope"],
                "ready": figures.get("ready", 0),
                **{
                    key: figures.get(f"work_{key}", 0)
                    for key in ("pending", "deceased", "unreachable", *reasons)
                },
            }
        )
    return sorted(rows, key=lambda r: (r["township__code"], natural_key(r["village__name"] or "")))


# ---- 采集冲突 ---------------------------------------------------------------------------


@dataclass
class ConflictLine:
    conflict: CollectionConflict
    label: str
    system_value: str
    incoming_value: str
    chosen: str = ""


@dataclass
class ConflictGroup:
    person: Person
    lines: list[ConflictLine]


def _pending() -> QuerySet[CollectionConflict]:
    return CollectionConflict.objects.filter(resolution=CollectionConflict.Resolution.PENDING)


def conflict_persons(*, user, township_code: str = "") -> QuerySet[Person]:
    """People in the user's scope with 12333 values waiting for a choice (the dead excluded)."""
    persons = (
        Person.objects.for_user(user)
        .filter(Exists(_pending().filter(person=OuterRef("pk"))))
        .exclude(vital_status=VitalStatus.DECEASED)
        .select_related("township", "village")
    )
    if township_code:
        persons = persons.filter(township__code=township_code)
    return persons


def conflict_person_get(*, user, pk: int) -> Person:
    """A living person in scope; the dead have no collection left to settle."""
    return get_object_or_404(
        Person.objects.for_user(user)
        .exclude(vital_status=VitalStatus.DECEASED)
        .select_related("township", "village"),
        pk=pk,
    )


def conflict_groups(
    *, user, persons: Iterable[Person], chosen: Mapping[int, str] | None = None
) -> list[ConflictGroup]:
    """Per person, the pending conflicts as lines of 字段 / 系统值 / 12333值.

    The system value shown is today's, not the one seen at import: someone may have
    changed it since. Phones are masked for roles that may only read them (supervisors).
    """
    persons = list(persons)
    chosen = chosen or {}
    mask = not may(user, "roster.resolve_conflicts")
    conflicts = (
        CollectionConflict.objects.for_user(user)
        .filter(
            person__in=[p.pk for p in persons], resolution=CollectionConflict.Resolution.PENDING
        )
        .select_related("source_list")
        .order_by("person_id", "field", "pk")
    )
    lines: dict[int, list[ConflictLine]] = {}
    by_pk = {p.pk: p for p in persons}
    for conflict in conflicts:
        person = by_pk[conflict.person_id]
        system_value = field_text(person, conflict.field)
        incoming = conflict.incoming_value
        if mask and conflict.field == "phone":
            system_value, incoming = mask_phone(system_value), mask_phone(incoming)
        lines.setdefault(person.pk, []).append(
            ConflictLine(
                conflict=conflict,
                label=field_label(conflict.field),
                system_value=system_value,
                incoming_value=incoming,
                chosen=chosen.get(conflict.pk, ""),
            )
        )
    return [ConflictGroup(person=p, lines=lines[p.pk]) for p in persons if p.pk in lines]
