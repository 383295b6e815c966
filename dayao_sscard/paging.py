"""Pages of a list whose total is already known, or counted with the page."""

from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet, Window
from django.utils.functional import cached_property


class CountedPaginator(Paginator):
    """Pages of rows whose number a counter already holds (``roster.progress``, the kept
    custody-risk counts): the list is not counted again on every page."""

    def __init__(self, object_list, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self.known = count

    @cached_property
    def count(self) -> int:
        return self.known


def page_counted_along(queryset: QuerySet, per_page: int, number, *, count=None) -> Page:
    """``Paginator(queryset, per_page).get_page(number)`` with the list joined once, not
    twice: the page's ids are picked with the total riding on them (``COUNT(*) OVER ()``,
    over narrow rows: the ids and the sort keys), then their rows are read by id. For a
    list no counter knows whose rows are found by a costly join. Given its ``count`` (a
    counter's), the ids are picked without the window."""
    try:
        number = max(int(number), 1)
    except (TypeError, ValueError):
        number = 1
    bottom = (number - 1) * per_page
    if count is None:
        counted = queryset.annotate(window_total=Window(Count("pk")))
        picked = list(counted.values_list("pk", "window_total")[bottom : bottom + per_page])
    else:
        ids = queryset.values_list("pk", flat=True)[bottom : bottom + per_page]
        picked = [(pk, count) for pk in ids]
    if not picked:  # none, or past the end: the last page, as get_page does
        if count is None:
            count = queryset.count() if number > 1 else 0
        return CountedPaginator(queryset, per_page, count=count).get_page(number)
    rows = rows_of(queryset, [pk for pk, _ in picked])
    paginator = CountedPaginator(queryset, per_page, count=picked[0][1])
    return paginator._get_page(rows, number, paginator)


def rows_of(queryset: QuerySet, ids: list) -> list:
    """The rows of ``queryset`` with these ids, in the ids' order: a page picked as narrow
    ids (the sort reads the sort keys, not every column of thousands of rows), then read."""
    by_pk = {row.pk: row for row in queryset.filter(pk__in=ids)}
    return [by_pk[pk] for pk in ids if pk in by_pk]
