"""Ids read from a query string or a form: anything but one the database can hold is none."""

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
