"""What views read from a query string or a form.

An id: anything but one the database can hold is none. The query: carried by the
pagination links (``templates/_pagination.html``) without its page.
"""

from django.http import QueryDict

# The largest value of a BigAutoField (and of SQLite's INTEGER); larger ones fail the query.
MAX_ID = 2**63 - 1


def id_param(text: str | None) -> int | None:
    """``text`` as a row id, or None unless it is plain ASCII digits within range.

    ``str.isdigit`` also accepts ``²`` and full-width digits, which ``int`` then refuses
    or the database cannot compare: a filter given such a value filters nothing.
    """
    if not text or not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value <= MAX_ID else None


def query_without_page(query: QueryDict) -> str:
    """The query string a list's page links carry: its filters, not the page it is on."""
    kept = query.copy()
    kept.pop("page", None)
    return kept.urlencode()
