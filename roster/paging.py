"""Pages of a list ordered by place, read one village at a time.

The lists clerks open are ordered township (code), village (name), then the list's own
keys. Those first two keys are columns of other tables, so no index serves the order:
to show page 1 of a county's million persons the database joined and sorted all of them
(1.1 s at 300,000 persons). Here the rows are counted per (township, village) once —
the count a page needs anyway — the villages put in order in Python (a county has a few
hundred), and each page reads only the one or two villages it falls in, in the list's
own order, through the village index. An unfiltered person list need not count at all:
the village counters (``roster.progress``) hold its rows per village.
"""

import copy
from collections.abc import Iterable, Sequence
from functools import cached_property, reduce
from operator import or_

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Count, F, Q, QuerySet

from dayao_sscard.paging import rows_of

from .models import Township, Village


class PlacePaginator(Paginator):
    """A ``Paginator`` over a queryset whose ordering begins with the township's code and
    the village's name (reached through ``place``, e.g. ``"person__"`` for cards).

    Persons without a village come after their township's villages, as PostgreSQL
    sorts an empty village name. Pages hold the same rows in the same order as slicing
    the queryset would on PostgreSQL.
    """

    def __init__(
        self,
        object_list: QuerySet,
        per_page: int,
        *,
        place: str = "",
        counted: Iterable[tuple[int, int | None, int]] | None = None,
        stored_village: str = "",
        probably_few: bool = False,
    ) -> None:
        """``counted``: the rows per (township, village or None) when they are known
        without counting them (the village counters of an unfiltered list), else counted.
        ``stored_village``: a column of the row itself that always holds the village of
        ``place`` (``Card.holder_village_id``): a page within one village is read by it,
        off an index in the list's order, instead of through the join.
        ``probably_few``: the list is a search, which mostly finds a few rows: their ids
        are picked first, in the list's order, by one query that stops past ``FEW``; when
        there are no more the pages are read by id (the search runs once instead of twice
        or three times)."""
        super().__init__(object_list, per_page)
        self.place = place
        self.counted = counted
        self.stored_village = stored_village
        self.probably_few = probably_few and counted is None
        self.ordering = self._ordering()

    # A search finding more rows than this is paged by place like any long list: sorting
    # a few hundred rows picked by id costs a millisecond or two, tens of thousands do not.
    FEW = 500

    @cached_property
    def _few(self) -> list | None:
        """The ids of every row, in the list's order, when the list is a search with at most
        ``FEW`` of them; else None. One query: the search stops at ``FEW + 1`` rows, which
        are then put in order by their own place and keys, without reading them again.
        A name search's index lookup cost 4 to 15 ms at a million persons; the list counted
        by place, then read, ran it twice (three times past one page), and ordering the
        rows found by their ids read them again (5 ms for a name 370 persons bear)."""
        keys = self.ordering[2:]
        # Keys given as expressions cannot be written into the ordering SQL below: such a
        # list is paged by place.
        if not self.probably_few or not all(isinstance(key, str) for key in keys):
            return None
        ids = self._found_in_order(keys)
        return ids if len(ids) <= self.FEW else None

    def _found_in_order(self, keys: list[str]) -> list:
        """The first ``FEW + 1`` rows the search finds, unordered, then sorted as the list
        is (``_places_last``): township code, village name, then ``keys``."""
        connection = connections[self.object_list.db]
        q = connection.ops.quote_name
        columns = {
            "k_pk": F("pk"),
            "k_township": F(f"{self.place}township_id"),
            "k_village": F(f"{self.place}village_id"),
            **{f"k{i}": F(key.removeprefix("-")) for i, key in enumerate(keys)},
        }
        found = self.object_list.order_by().values(**columns)[: self.FEW + 1]
        sql, params = found.query.sql_with_params()
        order = ", ".join(
            f"found.{q(f'k{i}')}{' DESC' if key.startswith('-') else ''}"
            for i, key in enumerate(keys)
        )
        township, village = Township._meta, Village._meta
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT found.{q('k_pk')} FROM ({sql}) found "
                f"INNER JOIN {q(township.db_table)} t ON t.{q(township.pk.column)} = "
                f"found.{q('k_township')} "
                f"LEFT JOIN {q(village.db_table)} v ON v.{q(village.pk.column)} = "
                f"found.{q('k_village')} "
                f"ORDER BY t.{q('code')}, v.{q('name')} NULLS LAST"
                + (f", {order}" if order else ""),
                params,
            )
            return [row[0] for row in cursor.fetchall()]

    @cached_property
    def _counted(self) -> list[tuple[int, int | None, int]]:
        """(township id, village id or None, rows) of the non-empty places, in no order."""
        township, village = f"{self.place}township_id", f"{self.place}village_id"
        rows = self.counted
        if rows is None:
            rows = (
                self.object_list.order_by()
                .values_list(township, village)
                .annotate(rows=Count("pk"))
                .values_list(township, village, "rows")
            )
        return [row for row in rows if row[2] > 0]

    @cached_property
    def groups(self) -> list[tuple[int, int | None, int]]:
        """(township id, village id or None, rows) in list order; only non-empty ones."""
        counted = self._counted
        # Ranks from the database, so that names compare in its collation, as in the SQL.
        townships = {
            pk: rank
            for rank, pk in enumerate(
                Township.objects.order_by("code", "pk").values_list("pk", flat=True)
            )
        }
        villages = {
            pk: rank
            for rank, pk in enumerate(
                Village.objects.filter(pk__in={v for _, v, _ in counted if v is not None})
                .order_by("name", "pk")
                .values_list("pk", flat=True)
            )
        }
        return sorted(
            counted,
            key=lambda row: (townships.get(row[0], -1), row[1] is None, villages.get(row[1], -1)),
        )

    @cached_property
    def count(self) -> int:
        if self._few is not None:
            return len(self._few)
        return sum(rows for _, _, rows in self._counted)

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        return self._get_page(self._rows(bottom, top), number, self)

    def _rows(self, bottom: int, top: int) -> Sequence:
        """Rows bottom..top-1: one query over the places the page falls in (consecutive in
        the list's order, so their rows in its order are a slice of it)."""
        if self._few is not None:
            return self._few_rows(bottom, top)
        if bottom == 0 and top >= self.count:
            # The whole list on one page (most searches): read in one query, in its order,
            # without placing the villages.
            return list(self.object_list[:top])
        township, village = f"{self.place}township_id", f"{self.place}village_id"
        places: list[Q] = []
        villages: list[int | None] = []
        first = start = 0
        for township_id, village_id, size in self.groups:
            end = start + size
            if end > bottom and start < top:
                if not places:
                    first = start
                villages.append(village_id)
                places.append(
                    Q(**{township: township_id, f"{village}__isnull": True})
                    if village_id is None
                    else Q(**{village: village_id})
                )
            if end >= top:
                break
            start = end
        if not places:
            return []
        if self.stored_village and villages[0] is not None and len(places) == 1:
            places = [Q(**{self.stored_village: villages[0]})]
        rows = self.object_list.filter(reduce(or_, places))
        if len(places) == 1:
            # Within one place its two keys are the same for every row: ordering by the
            # rest lets the database take the first rows of an index instead of sorting.
            rows = rows.order_by(*self.ordering[2:])
        else:
            rows = rows.order_by(*self._places_last())
        # Picked as ids, then read: where no index gives the order (a bank clerk's persons,
        # found through their cards) the database sorts the place's ids, not all its rows'
        # columns (17,000 persons of one village: 170 ms, 30 ms as ids).
        return rows_of(
            self.object_list, list(rows.values_list("pk", flat=True)[bottom - first : top - first])
        )

    def _few_rows(self, bottom: int, top: int) -> list:
        """Rows bottom..top-1 of a search whose ids ``_few`` holds in order, read by id."""
        return rows_of(self._by_id(), self._few[bottom:top])

    def _by_id(self) -> QuerySet:
        """The list's rows without its conditions, to read rows whose ids came from it (so
        its conditions hold for them). With a search's conditions beside the ids PostgreSQL
        ran the search again: 5.7 ms to read a page of 50 persons of a common name at a
        million, 3.5 ms without. A list with annotations keeps its conditions, which the
        annotations may rely on."""
        if self.object_list.query.annotations:
            return self.object_list
        rows = self.object_list.model._base_manager.all()
        rows.query.select_related = copy.deepcopy(self.object_list.query.select_related)
        rows.query.deferred_loading = copy.deepcopy(self.object_list.query.deferred_loading)
        return rows

    def _places_last(self) -> list:
        """The list's ordering with the persons without a village after the villages, as
        the places are counted: PostgreSQL's own order, which SQLite (the embedded
        default) reverses, and a page across places is a slice of the list in this order."""
        village = F(f"{self.place}village__name").asc(nulls_last=True)
        return [self.ordering[0], village, *self.ordering[2:]]

    def _ordering(self) -> list:
        query = self.object_list.query
        ordering = list(query.order_by) or list(self.object_list.model._meta.ordering)
        if [str(key) for key in ordering[:2]] != [
            f"{self.place}township__code",
            f"{self.place}village__name",
        ]:
            raise ValueError(f"PlacePaginator needs a list ordered by place first, not {ordering}")
        return ordering
