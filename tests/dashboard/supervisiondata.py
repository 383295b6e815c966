"""A small county for the supervision dashboards' tests, and a reader of their tables."""

import datetime
from html.parser import HTMLParser

from issuance.models import Card, CardStatus
from roster.models import ListKind, VitalStatus
from roster.progress import figures_rebuild
from tests.factories import BankBranchFactory, PersonFactory, VillageFactory, put_on_list, township

TOWNSHIP_A = "532326101"  # 金碧镇
TOWNSHIP_B = "532326102"  # 石羊镇
SUBSIDY = "耕地地力保护补贴"


def build_county() -> dict:
    """Township A: 大河社区 (four listed: one card issued, one activated, one in stock, one
    waiting) and 新村 (two listed, one of them deceased) and one person without a village;
    township B: three listed, one card issued. Three of them are on a subsidy list."""
    a, b = township(TOWNSHIP_A), township(TOWNSHIP_B)
    dahe = VillageFactory(township=a, name="大河社区")
    xincun = VillageFactory(township=a, name="新村")
    shiyang = VillageFactory(township=b, name="石羊社区")
    bank = BankBranchFactory(name="金碧信用社", township=a).bank
    in_dahe = [PersonFactory(township=a, village=dahe) for _ in range(4)]
    in_xincun = [PersonFactory(township=a, village=xincun) for _ in range(2)]
    unplaced = PersonFactory(township=a, village=None)
    in_b = [PersonFactory(township=b, village=shiyang) for _ in range(3)]
    put_on_list(*in_dahe, *in_xincun, unplaced, *in_b)
    put_on_list(in_dahe[0], in_dahe[1], in_b[0], kind=ListKind.SUBSIDY, source=SUBSIDY)
    for person, status, number in (
        (in_dahe[0], CardStatus.ISSUED, "M20000001"),
        (in_dahe[1], CardStatus.ACTIVATED, "M20000002"),
        (in_dahe[2], CardStatus.IN_STOCK, "M20000003"),
        (in_b[0], CardStatus.ISSUED, "M20000004"),
    ):
        Card.objects.create(person=person, bank=bank, status=status, card_number=number)
    in_xincun[1].vital_status = VitalStatus.DECEASED
    in_xincun[1].death_date = datetime.date(2026, 6, 1)
    in_xincun[1].save()
    # The lists above were written in bulk, as an import writes them: recount, as it does.
    figures_rebuild()
    return {"dahe": dahe, "xincun": xincun, "shiyang": shiyang, "bank": bank, "in_b": in_b}


def yesterday(today: datetime.date | None = None) -> datetime.date:
    return (today or datetime.date.today()) - datetime.timedelta(days=1)


class _TableReader(HTMLParser):
    """The rows of one table (by data-testid): per ``data-place`` the cells' ``data-key``
    with their first link's text and address, and each row's text."""

    def __init__(self, testid: str):
        super().__init__()
        self.testid = testid
        self.inside = False
        self.rows: dict[str, dict] = {}
        self.row: dict | None = None
        self.cell: dict | None = None
        self.in_link = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("data-testid") == self.testid:
            self.inside = True
        if not self.inside:
            return
        if tag == "tr" and "data-place" in attrs:
            self.row = {"class": attrs.get("class") or "", "cells": {}, "text": ""}
            self.rows[attrs["data-place"]] = self.row
        elif tag == "td" and self.row is not None and "data-key" in attrs:
            self.cell = {"count": "", "url": None, "text": ""}
            self.row["cells"][attrs["data-key"]] = self.cell
        elif tag == "a" and self.cell is not None and self.cell["url"] is None:
            self.cell["url"] = attrs["href"]
            self.in_link = True

    def handle_endtag(self, tag):
        if not self.inside:
            return
        if tag == "a":
            self.in_link = False
        elif tag == "td":
            self.cell = None
        elif tag == "tr":
            self.row = None
        elif tag == "table":
            self.inside = False

    def handle_data(self, data):
        if self.row is not None:
            self.row["text"] += data
        if self.cell is not None:
            self.cell["text"] += data
            if self.in_link:
                self.cell["count"] += data


def read_table(html: str, testid: str) -> dict[str, dict]:
    """``{place: {"class", "text", "cells": {key: {"count": int, "url", "text"}}}}``."""
    reader = _TableReader(testid)
    reader.feed(html)
    for row in reader.rows.values():
        for cell in row["cells"].values():
            cell["count"] = int(cell["count"].strip())
    return reader.rows
