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


def page_counted_along(queryset: QuerySet, per_page: int, number) -> Page:
    """``Paginator(queryset, per_page).get_page(number)`` in one statement instead of two:
    the total rides on the page's rows (``COUNT(*) OVER ()``). A list no counter knows,
    whose rows are found by a costly join, is then joined once per view, not twice."""
    try:
        number = max(int(number), 1)
    except (TypeError, ValueError):
        number = 1
    bottom = (number - 1) * per_page
    rows = list(queryset.annotate(window_total=Window(Count("pk")))[bottom : bottom + per_page])
    if not rows:  # none, or past the end: the last page, as get_page does
        count = queryset.count() if number > 1 else 0
        return CountedPaginator(queryset, per_page, count=count).get_page(number)
    paginator = CountedPaginator(queryset, per_page, count=rows[0].window_total)
    return paginator._get_page(rows, number, paginator)
