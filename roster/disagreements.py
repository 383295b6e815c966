"""两方记录不一致: the persons the two witnesses disagree about, kept as rows.

``card_class_q(DISAGREEMENT)`` asks the rule of every person (every made card against its
ledger entries and the latest export, every comparison result): 0.3 s at 300,000 persons
and over a second at a million, on each view of the list. ``CardDisagreement`` holds the
answer instead. Every write that recounts a person's figures asks the rule again of its
persons (``roster.progress.persons_recounted``: single saves through the signals, bulk
paths through ``figures_touch``), and every whole-county recount (imports, ``match``)
asks it of the county, so the rows follow the same writes as the counters.
"""

from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import QuerySet

from dayao_sscard.bulk import CompiledForIds

from .models import CardDisagreement, Person
from .witnesses import DISAGREEMENT, card_class_q

TABLE = CardDisagreement._meta.db_table
CHUNK = 500


def disagreeing_persons():
    """The rule, asked of the county: the persons the two witnesses disagree about."""
    return Person.objects.filter(card_class_q(DISAGREEMENT))


def disagreements_refresh(person_ids: Iterable[int] | None = None) -> None:
    """Ask the rule again of these persons (None: of the county) and keep the answer.

    Runs in the writer's transaction. Rebuilding the county locks the rows' table first,
    so a clerk's change committed meanwhile is not lost (as ``figures_rebuild`` does).
    """
    with transaction.atomic(savepoint=False):
        if person_ids is None:
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(f"LOCK TABLE {TABLE} IN EXCLUSIVE MODE")
            CardDisagreement.objects.all().delete()
            _insert(*_pks(disagreeing_persons()).query.sql_with_params())
            return
        ids = sorted(set(person_ids))
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            CardDisagreement.objects.filter(person_id__in=chunk).delete()
            _insert(*_disagreeing_among(chunk))


def _pks(persons) -> QuerySet:
    return persons.order_by().values("pk")


# Asked on every save of a card or a person: compiled once per number of persons.
_disagreeing_among = CompiledForIds(lambda ids: _pks(disagreeing_persons().filter(pk__in=ids)))


def _insert(sql: str, params) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {TABLE} (person_id) {sql}", params)


def disagreements_keep(sender, person_ids: list[int] | None, **kwargs) -> None:
    """``persons_recounted``'s receiver (``roster.apps``)."""
    disagreements_refresh(person_ids)


def disagreements_drift() -> dict[str, set[int]]:
    """The persons the rows leave out and those they hold wrongly (both empty: none)."""
    kept = set(CardDisagreement.objects.values_list("person_id", flat=True))
    asked = set(disagreeing_persons().values_list("pk", flat=True))
    return {"missing": asked - kept, "extra": kept - asked}
