"""Review of the progress figures (issue 11): write paths that change what a figure reads,
and the figures' conditions against the witnesses (``roster.witnesses``)."""

import pytest

from issuance.batches import batch_result_import
from issuance.services import card_make_instant
from roster.models import ListKind, SourceList
from roster.progress import figures_drift
from tests.factories import put_on_list
from tests.issuance.batchdata import RESULT_XLSX, fixture_persons, make_batch, ready_person


def a_complete_card_export() -> SourceList:
    """A card-system export imported before today's writes, as in production every day."""
    return SourceList.objects.create(
        kind=ListKind.CARD_EXPORT, source="卡务系统导出", file_name="导出.xlsx", file_sha256="x"
    )


@pytest.mark.django_db
class TestACardMadeAfterTheLatestExport:
    """A card made after the latest export is simply not exported yet: no disagreement. Its
    making is known from the PRODUCED ledger entry, written after the card's own row."""

    def test_an_instant_card(self, village_a, banker_a):
        a_complete_card_export()
        person = ready_person(village_a)
        put_on_list(person)

        card_make_instant(person=person, card_number="M20261201", acting_user=banker_a)

        assert figures_drift() == {}

    def test_a_batch_result(self, village_a, clerk_a):
        a_complete_card_export()
        persons = fixture_persons(village_a)
        put_on_list(*persons)
        batch = make_batch(clerk_a, persons, send=True)

        batch_result_import(
            batch=batch, acting_user=clerk_a, path=RESULT_XLSX, original_name=RESULT_XLSX.name
        )

        assert figures_drift() == {}

