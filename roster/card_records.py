"""What the card-system records say, in SQL: the words of an export and each person's
current card.

Shared by the match (``roster.imports.matching``), which ranks a person's records into a
class, and the card ledger (``issuance.opening``), which opens the card a person's
current 制卡成功 record names: both read "current" the same way.
"""

from .models import VitalStatus

SUCCESS = ("制卡成功",)
IN_PRODUCTION = ("制卡中", "已申领")
FAILED = ("制卡失败",)
CANCELLED = "注销"

# Among a person's records of one rank, the current one: the latest 制卡日期, a record
# without a date after any dated one, then the later row of the file.
CURRENT_FIRST = "made_on DESC NULLS LAST, row_number DESC"
# What the current 制卡成功 record says of its card.
MADE_CARD_COLUMNS = "card_number, bank_name, production_type, made_on"
# The temporary table of persons with a made card and that card, for the ledger to open:
# person_id, township_id, the MADE_CARD_COLUMNS, deceased.
MADE_CARDS_TABLE = "opening_current"


def quoted(words: tuple[str, ...]) -> str:
    """The constant status words as SQL literals (they hold no quote)."""
    return ", ".join(f"'{word}'" for word in words)


def effective_records(
    snapshot_ids: list[int], *, of_id_numbers: str = "", with_cancelled: bool = False
) -> tuple[str, list]:
    """A FROM clause (with its WHERE) of the live records the comparison reads, and params.

    With partial exports after the complete one, each ID number's records come from the
    newest export that names it. ``of_id_numbers``, a query, limits it to those numbers.
    A record whose 卡状态 is 注销 is not live; ``with_cancelled`` keeps those too (the
    reconciliation asks what the export says of every card, cancelled ones included).
    """
    only = f"AND id_number IN ({of_id_numbers})" if of_id_numbers else ""
    status = "1 = 1" if with_cancelled else "card_status <> %s"
    status_params = [] if with_cancelled else [CANCELLED]
    if len(snapshot_ids) == 1:
        records = f"roster_cardsystemrecord WHERE snapshot_id = %s AND card_status <> %s {only}"
        if with_cancelled:
            records = f"roster_cardsystemrecord WHERE snapshot_id = %s {only}"
        return records, [snapshot_ids[0], *status_params]
    listed = ", ".join(["%s"] * len(snapshot_ids))
    records = (
        "(SELECT r.* FROM roster_cardsystemrecord r JOIN ("
        "  SELECT id_number, MAX(snapshot_id) AS newest FROM roster_cardsystemrecord "
        f"  WHERE snapshot_id IN ({listed}) {only} GROUP BY id_number"
        f") n ON n.id_number = r.id_number AND n.newest = r.snapshot_id) e WHERE {status}"
    )
    return records, [*snapshot_ids, *status_params]


def made_cards_from_ranks(
    cursor, *, only_snapshot_id: int | None = None, persons_from: int = 0
) -> None:
    """MADE_CARDS_TABLE from the match's ranks (``match_rank``, which it drops): the same
    pass that classed the persons 已制卡 names their cards.

    ``only_snapshot_id``: only persons that export names (a partial export);
    ``persons_from``: only persons from that key on (those a list added).
    """
    where = ["r.rank = 3"]
    params: list = []
    if only_snapshot_id is not None:
        where.append(
            "r.id_number IN (SELECT id_number FROM roster_cardsystemrecord WHERE snapshot_id = %s)"
        )
        params.append(only_snapshot_id)
    if persons_from:
        where.append("p.id >= %s")
        params.append(persons_from)
    _made_cards_table(cursor, "match_rank r", " AND ".join(where), params)
    cursor.execute("DROP TABLE match_rank")


def made_cards_from_records(cursor, snapshot_ids: list[int], *, persons_from: int = 0) -> None:
    """MADE_CARDS_TABLE read from the exports' records, without a match before it."""
    of_id_numbers = ""
    where = "TRUE"
    if persons_from:
        # An integer, so written into the statement: its place among the params differs
        # between the one-export and the several-exports query.
        of_id_numbers = f"SELECT id_number FROM roster_person WHERE id >= {int(persons_from)}"
        where = f"p.id >= {int(persons_from)}"
    current, params = current_made_cards(snapshot_ids, of_id_numbers=of_id_numbers)
    _made_cards_table(cursor, f"({current}) r", where, params)


def _made_cards_table(cursor, source: str, where: str, params: list) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {MADE_CARDS_TABLE}")
    columns = ", ".join(f"r.{column}" for column in MADE_CARD_COLUMNS.split(", "))
    cursor.execute(
        f"CREATE TEMPORARY TABLE {MADE_CARDS_TABLE} AS SELECT p.id AS person_id, "
        f"p.township_id, {columns}, p.vital_status = '{VitalStatus.DECEASED}' AS deceased "
        f"FROM {source} JOIN roster_person p ON p.id_number = r.id_number WHERE {where}",
        params,
    )


def current_made_cards(snapshot_ids: list[int], *, of_id_numbers: str = "") -> tuple[str, list]:
    """A query of each ID number's current 制卡成功 record among the live ones: columns
    id_number, card_number, bank_name, production_type, made_on.

    A person has one exactly when the match classes them 已制卡 (a live 制卡成功 record
    ranks above every other status).
    """
    records, params = effective_records(snapshot_ids, of_id_numbers=of_id_numbers)
    sql = (
        f"SELECT id_number, {MADE_CARD_COLUMNS} FROM ("
        f"  SELECT id_number, {MADE_CARD_COLUMNS}, "
        f"  ROW_NUMBER() OVER (PARTITION BY id_number ORDER BY {CURRENT_FIRST}) AS place "
        f"  FROM {records} AND production_status IN ({quoted(SUCCESS)})"
        ") current WHERE place = 1"
    )
    return sql, params
