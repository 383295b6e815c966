"""Reads of people and places, always through the user's scope."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from itertools import chain

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404

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

from .figures import FIGURE_KEYS, persons_meeting, subsidy_key
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
from .progress import counted, share
from .verification import PROBLEM_GROUPS, person_problems
from .witnesses import (
    DISAGREEMENT,
    DISAGREEMENT_ADVICE,
    DISAGREEMENT_LABEL,
    UNCLASSIFIED,
    card_class_q,
    cards_the_export_should_know,
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
    """Set ``person_list``'s card flags on a page of ``person_list_rows``, by two queries
    over its persons. In the list's query PostgreSQL answers the second flag with one hash
    of every made card of the county (0.95 s of page 1 at a million persons)."""
    ids = [person.pk for person in persons]
    made = set(
        Card.objects.filter(person_id__in=ids, status__in=CARD_MADE_STATUSES).values_list(
            "person_id", flat=True
        )
    )
    known = set(
        cards_the_export_should_know().filter(person_id__in=ids).values_list("person_id", flat=True)
    )
    for person in persons:
        person.card_made_here = person.pk in made
        person.card_export_should_know = person.pk in known
    return persons


def person_list_rows(*, user, filters: PersonFilters = PersonFilters()) -> QuerySet[Person]:
    """The user's persons matching the filters; filters by list membership (poverty,
    disability, subsidies) only for roles that may see it, else they are ignored."""
    if not may(user, "roster.view_person_categories"):
        filters = replace(filters, category="", on_list="", project="")
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
    villages = Village.objects.select_related("township")
    if user.village_id:
        villages = villages.filter(pk=user.village_id)
    elif not user.is_county_wide:
        if not user.township_id:
            return []
        villages = villages.filter(township_id=user.township_id)
    if township_code:
        villages = villages.filter(township__code=township_code)
    return sorted(villages, key=lambda v: (v.township.code, natural_key(v.name)))


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
    totals: dict[str, int] = {}
    for (township_id, _village_id), figures in counted(user=user).items():
        if township is not None and township_id != township.pk:
            continue
        for key, n in figures.items():
            if key.startswith("subsidy_"):
                totals[key] = totals.get(key, 0) + n
    rows = []
    for project in subsidy_projects():
        counts = {
            name: totals.get(subsidy_key(f"subsidy_{name}", project), 0)
            for name in ("recipients", "issued", "activated")
        }
        rows.append(
            {
                "project": project,
                **counts,
                "activated_share": share(counts["activated"], counts["recipients"]),
            }
        )
    return rows


def work_queue(*, user, village: str = "") -> QuerySet[Person]:
    """People in scope who still need verification: no card record or a failed one, alive."""
    persons = (
        Person.objects.for_user(user)
        .filter(needs_card_q(), verification_status=VerificationStatus.PENDING)
        .exclude(vital_status=VitalStatus.DECEASED)
    )
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


def work_queue_groups(persons) -> tuple[list[Person], dict[str, list[Person]]]:
    """Everyone in queue order, and under each missing element everyone it is missing for.

    A person missing two elements is listed under both: each group is the list a
    collector takes along to fix that one element. ``person.missing`` names them.
    """
    ordered = sorted(persons, key=_queue_position)
    groups: dict[str, list[Person]] = {key: [] for key in PROBLEM_GROUPS}
    for person in ordered:
        person.missing = list(dict.fromkeys(p.field for p in person_problems(person)))
        for key in person.missing:
            groups.setdefault(key, []).append(person)
    return ordered, {key: members for key, members in groups.items() if members}


def _queue_position(person: Person) -> tuple:
    village = person.village.name if person.village_id else ""
    return _walking_order(person.township.code, village, person.group_name, person.name, person.pk)


def _walking_order(township_code, village_name, group_name, name, pk) -> tuple:
    """Township, village, group (2组 before 10组), name: the order a collector walks."""
    return (township_code, natural_key(village_name), natural_key(group_name), name, pk)


def work_queue_next(*, user, after: Person) -> Person | None:
    """The next person to verify after ``after``, in queue order, wrapping round."""
    rows = work_queue(user=user).values_list(
        "township__code", "village__name", "group_name", "name", "id"
    )
    ids = [row[-1] for row in sorted(rows, key=lambda row: _walking_order(*row))]
    if not ids:
        return None
    candidates = [pk for pk in ids if pk != after.pk]
    if not candidates:
        return None
    position = ids.index(after.pk) if after.pk in ids else -1
    following = [pk for pk in ids[position + 1 :] if pk != after.pk] if position >= 0 else []
    return Person.objects.get(pk=(following or candidates)[0])


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
