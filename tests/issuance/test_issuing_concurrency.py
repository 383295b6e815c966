"""Two clicks at once on 发放 or on a sign-off sheet's results: the work is done once."""

import pytest
from django.utils import timezone

from issuance import issuing
from issuance.models import Card, LedgerEntry, LedgerEvent, SignOffSheet
from tests.activation.test_counter_concurrency import CLICKS, as_a_request, at_once

from .issuing import stock_card, village_with_cards


@pytest.mark.django_db(transaction=True)
def test_issue_clicked_at_once_issues_once(
    county_admin, clerk_a, branch_a, person_a, ledger_flushable
):
    card = stock_card(person=person_a, branch=branch_a, user=county_admin, number="M20000009")
    issued, refused = at_once(
        lambda: issuing.card_issue(
            card=Card.objects.select_related("person").get(pk=card.pk),
            acting_user=as_a_request(clerk_a),
            method="window",
            place="金碧镇社保中心",
            signee="张桂芬",
            identity_checked=True,
        )
    )
    assert len(issued) == 1 and len(refused) == CLICKS - 1
    assert all(isinstance(e, issuing.AlreadyIssued) for e in refused)
    assert LedgerEntry.objects.filter(event=LedgerEvent.ISSUED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_days_results_submitted_at_once_are_recorded_once(
    county_admin, collector_a, branch_a, village_a, ledger_flushable
):
    village_with_cards(village_a, branch_a, county_admin, ["张一", "李二", "王三"])
    sheet = issuing.sign_off_sheet_create(
        acting_user=collector_a, village=village_a, day=timezone.localdate(), place="居委会"
    )
    rows = list(sheet.rows.order_by("position").values_list("pk", flat=True))
    recorded, refused = at_once(
        lambda: issuing.sign_off_sheet_record(
            sheet=SignOffSheet.objects.get(pk=sheet.pk),
            acting_user=as_a_request(collector_a),
            results={pk: issuing.RowResult(signed=True) for pk in rows[:2]},
            identity_checked=True,
        )
    )
    assert len(recorded) == 1 and len(refused) == CLICKS - 1
    assert all(isinstance(e, issuing.AlreadyRecorded) for e in refused)
    assert LedgerEntry.objects.filter(event=LedgerEvent.ISSUED).count() == 2
