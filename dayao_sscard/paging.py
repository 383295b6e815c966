"""Pages of a list whose total is already known."""

from django.core.paginator import Paginator
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
