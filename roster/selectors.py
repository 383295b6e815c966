"""Reads of people and places, always through the user's scope."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from itertools import chain

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404

from dayao_sscard.models import AuditEvent
from dayao_sscard.permissions import may
from issuance.models import LedgerEntry

from .id_numbers import mask_phone, try_normalize_id_number
from .imports.collection import field_label, field_text
from .imports.matching import latest_snapshot
from .models import (
    CardClass,
    ClassificationChange,
    CollectionConflict,
    InvalidListRow,
    ListEntry,
    ListKind,
    Person,
    SourceList,
    Township,
    UnreachableReason,
    VerificationStatus,
    Village,
    VitalStatus,
)
from .verification import PROBLEM_GROUPS, person_problems


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


def person_list(*, user, filters: PersonFilters = PersonFilters()) -> QuerySet[Person]:
    """The user's persons matching the filters; filters by list membership (poverty,
    disability, subsidies) only for roles that may see it, else they are ignored."""
    if not may(user, "roster.view_person_categories"):
        filters = replace(filters, category="", on_list="", project="")
    persons = Person.objects.for_user(user).search(filters.query)
    if filters.township:
        persons = persons.filter(township__code=filters.township)
    if filters.village.isdigit():
        persons = persons.filter(village_id=int(filters.village))
    if filters.card_class in CardClass.values:
        persons = persons.filter(classification__card_class=filters.card_class)
    elif filters.card_class == "unclassified":
        persons = persons.filter(classification__isnull=True)
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
        persons = persons.exclude(classification__card_class=CardClass.CARD_MADE)
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


def person_history(*, person: Person) -> list:
    """The person's audit events and their cards' ledger entries, newest first."""
    audit = AuditEvent.objects.filter(object_type="roster.person", object_id=str(person.pk))
    ledger = LedgerEntry.objects.filter(card__person=person).select_related("card", "recorded_by")
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


def village_choices(*, user, township_code: str = "") -> QuerySet[Village]:
    if user.village_id:
        return Village.objects.filter(pk=user.village_id)
    villages = Village.objects.select_related("township")
    if not user.is_county_wide:
        if not user.township_id:
            return Village.objects.none()
        villages = villages.filter(township_id=user.township_id)
    if township_code:
        villages = villages.filter(township__code=township_code)
    return villages


def class_counts_by_township(*, user) -> list[dict]:
    """Per township in scope: persons, and how many fall in each comparison class."""
    persons = Person.objects.for_user(user)
    aggregates = {
        "total": Count("id"),
        "deceased": Count("id", filter=Q(vital_status=VitalStatus.DECEASED)),
        **{c.value: Count("id", filter=Q(classification__card_class=c.value)) for c in CardClass},
    }
    rows = {
        row["township"]: row for row in persons.values("township").annotate(**aggregates).order_by()
    }
    result = []
    for township in township_choices(user=user) if user.is_county_wide else _own_townships(user):
        counts = rows.get(township.pk, {})
        result.append({"township": township, **{k: counts.get(k, 0) for k in aggregates}})
    return result


def _own_townships(user) -> list[Township]:
    ids = Person.objects.for_user(user).values_list("township", flat=True).distinct().order_by()
    return list(Township.objects.filter(pk__in=list(ids)))


def source_lists(*, user, kind: str = "") -> QuerySet[SourceList]:
    """Imported files: all for county roles, a clerk's own uploads otherwise."""
    lists = SourceList.objects.select_related("imported_by")
    if not user.is_county_wide:
        lists = lists.filter(imported_by=user)
    return lists.filter(kind=kind) if kind else lists


def invalid_rows(*, user, source_list: SourceList | None = None) -> QuerySet[InvalidListRow]:
    rows = InvalidListRow.objects.for_user(user).select_related("source_list", "township")
    return rows.filter(source_list=source_list) if source_list else rows


def classification_changes(*, user) -> QuerySet[ClassificationChange]:
    """What the latest export changed for people classified before it."""
    snapshot = latest_snapshot()
    if snapshot is None:
        return ClassificationChange.objects.none()
    return (
        ClassificationChange.objects.for_user(user)
        .filter(snapshot=snapshot)
        .exclude(previous_class="")
        .select_related("person", "person__township", "person__village")
    )


def village_class_counts(*, user, township_code: str) -> list[dict]:
    """Per village of one township: listed persons in each class (the township's work list)."""
    listed = Exists(
        ListEntry.objects.filter(person=OuterRef("pk"), source_list__kind=ListKind.UNISSUED)
    )
    persons = (
        Person.objects.for_user(user)
        .filter(township__code=township_code)
        .filter(listed)
        .values("village_id", "village__name")
        .annotate(
            listed=Count("id"),
            **{
                c.value: Count("id", filter=Q(classification__card_class=c.value))
                for c in CardClass
            },
        )
        .order_by("village__name")
    )
    return list(persons)


def subsidy_projects() -> list[str]:
    return list(
        SourceList.objects.filter(kind=ListKind.SUBSIDY)
        .values_list("source", flat=True)
        .distinct()
        .order_by("source")
    )


def work_queue(*, user, village: str = "") -> QuerySet[Person]:
    """People in scope who still need verification: no card record or a failed one, alive."""
    persons = (
        Person.objects.for_user(user)
        .filter(
            classification__card_class__in=[CardClass.NO_CARD_INFO, CardClass.CARD_FAILED],
            verification_status=VerificationStatus.PENDING,
        )
        .exclude(vital_status=VitalStatus.DECEASED)
    )
    if village.isdigit():
        persons = persons.filter(village_id=int(village))
    return persons.select_related("township", "village", "classification").order_by(
        "township__code", "village__name", "group_name", "name", "id"
    )


def work_queue_groups(persons) -> tuple[dict[str, list[Person]], dict[str, int]]:
    """Each person under the first thing missing for them, and how many per group."""
    groups: dict[str, list[Person]] = {key: [] for key in PROBLEM_GROUPS}
    for person in persons:
        fields = {problem.field for problem in person_problems(person)}
        key = next((group for group in PROBLEM_GROUPS if group in fields), "photo")
        groups.setdefault(key, []).append(person)
    counts = {key: len(members) for key, members in groups.items() if members}
    return groups, counts


def work_queue_next(*, user, after: Person) -> Person | None:
    """The next person to verify after ``after``, in queue order, wrapping round."""
    ids = list(work_queue(user=user).values_list("id", flat=True))
    if not ids:
        return None
    candidates = [pk for pk in ids if pk != after.pk]
    if not candidates:
        return None
    position = ids.index(after.pk) if after.pk in ids else -1
    following = [pk for pk in ids[position + 1 :] if pk != after.pk] if position >= 0 else []
    return Person.objects.get(pk=(following or candidates)[0])


def verification_progress(*, user) -> list[dict]:
    """Per township and village in scope: to verify, ready, deceased, unreachable by reason."""
    in_work = Q(classification__card_class__in=[CardClass.NO_CARD_INFO, CardClass.CARD_FAILED])
    alive = ~Q(vital_status=VitalStatus.DECEASED)
    aggregates = {
        "in_scope": Count("id", filter=in_work),
        "pending": Count(
            "id", filter=in_work & alive & Q(verification_status=VerificationStatus.PENDING)
        ),
        "ready": Count(
            "id", filter=in_work & alive & Q(verification_status=VerificationStatus.READY)
        ),
        "deceased": Count("id", filter=in_work & ~alive),
        "unreachable": Count(
            "id", filter=in_work & alive & Q(verification_status=VerificationStatus.UNREACHABLE)
        ),
        **{
            f"unreachable_{reason.value}": Count(
                "id",
                filter=in_work
                & alive
                & Q(
                    verification_status=VerificationStatus.UNREACHABLE,
                    unreachable_reason=reason.value,
                ),
            )
            for reason in UnreachableReason
        },
    }
    return list(
        Person.objects.for_user(user)
        .values("township__code", "township__name", "village_id", "village__name")
        .annotate(**aggregates)
        .filter(in_scope__gt=0)
        .order_by("township__code", "village__name")
    )


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
