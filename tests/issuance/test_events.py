"""What a clerk enters for an event, turned into the card's custody (issuance/events.py)."""

import pytest

from issuance.events import custody_for_event
from issuance.models import CustodyKind, IssueMethod, LedgerEvent


@pytest.mark.django_db
class TestCustodyForEvent:
    @pytest.mark.parametrize(
        "persona, kind, party",
        [
            ("banker_a", CustodyKind.BANK, "农信社金碧信用社"),
            ("clerk_a", CustodyKind.TOWNSHIP, "金碧镇社保中心"),
            ("collector_a", CustodyKind.VILLAGE, "大河社区"),
            ("county_admin", CustodyKind.COUNTY, "大姚县人力资源和社会保障局"),
        ],
    )
    def test_received_goes_to_the_clerks_own_unit(self, request, persona, kind, party):
        user = request.getfixturevalue(persona)
        custody = custody_for_event(event=LedgerEvent.RECEIVED, acting_user=user)
        assert (custody.kind, custody.party, custody.responsible_person) == (
            kind,
            party,
            user.username,
        )

    def test_a_named_receiver_wins(self, clerk_a):
        custody = custody_for_event(
            event=LedgerEvent.RECOVERED,
            acting_user=clerk_a,
            custody_kind=CustodyKind.COUNTY,
            to_party="县人社局",
            responsible_person="王科长",
        )
        assert (custody.kind, custody.party, custody.responsible_person) == (
            CustodyKind.COUNTY,
            "县人社局",
            "王科长",
        )

    def test_a_handover_assumes_nothing(self, clerk_a):
        custody = custody_for_event(event=LedgerEvent.HANDED_OVER, acting_user=clerk_a)
        assert (custody.kind, custody.party, custody.responsible_person) == ("", "", "")

    def test_issued_at_the_bank_counter_by_default(self, banker_a):
        custody = custody_for_event(
            event=LedgerEvent.ISSUED, acting_user=banker_a, signee="张桂芬", identity_checked=True
        )
        assert (custody.kind, custody.party, custody.method) == (
            CustodyKind.HOLDER,
            "张桂芬",
            IssueMethod.COUNTER,
        )
        assert custody.identity_checked

    def test_a_township_issue_names_its_method(self, clerk_a):
        custody = custody_for_event(event=LedgerEvent.ISSUED, acting_user=clerk_a, signee="张桂芬")
        assert custody.method == ""

    def test_activation_leaves_the_card_where_it_is(self, banker_a):
        custody = custody_for_event(
            event=LedgerEvent.ACTIVATED,
            acting_user=banker_a,
            face_to_face=True,
            identity_checked=True,
        )
        assert custody.kind == ""
        assert custody.face_to_face and custody.identity_checked
