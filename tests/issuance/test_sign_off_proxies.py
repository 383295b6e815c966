"""代领 on a 集中发放 day: the holder's valid approvals offered on the record page and
printed on the sheet, and a row marked 代领 but not ticked refused rather than dropped."""

import datetime
import subprocess

import pytest
from django.urls import reverse
from django.utils import timezone

from issuance import selectors
from issuance.models import Card, CardStatus, CustodyKind, LedgerEntry, LedgerEvent, SignOffSheet
from issuance.proxies import proxy_approval_revoke
from tests.factories import make_id_number

from .issuing import village_with_cards
from .proxydata import GUARDIAN_ID, approved, in_group, register

OTHER_ID = make_id_number(birth=datetime.date(1988, 8, 8))


@pytest.fixture
def cards(county_admin, branch_a, village_a):
    return {
        c.person.name: c
        for c in village_with_cards(village_a, branch_a, county_admin, ["张一", "李二", "王三"])
    }


@pytest.fixture
def approval(cards, clerk_a, county_admin):
    """李二's son 张小明 (GUARDIAN_ID) keeps her card."""
    return approved(in_group(cards["李二"].person), clerk_a, county_admin)


@pytest.fixture
def sheet(client, collector_a, village_a, cards):
    client.force_login(collector_a)
    data = {"village": village_a.pk, "day": f"{timezone.localdate():%Y-%m-%d}", "place": "居委会"}
    client.post(reverse("issuance:sign-off-create"), data)
    return SignOffSheet.objects.get()


def rows_of(sheet) -> dict[str, int]:
    return dict(sheet.rows.values_list("card__person__name", "pk"))


def record(client, sheet, **fields):
    data = {
        "identity_checked": "on",
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
    }
    return client.post(reverse("issuance:sign-off-record", args=[sheet.pk]), {**data, **fields})


@pytest.mark.django_db
class TestApprovalsOffered:
    def test_only_approvals_valid_on_the_day_in_scope(
        self, cards, approval, clerk_a, county_admin, collector_a, clerk_b, sheet
    ):
        wang = in_group(cards["王三"].person)
        revoked = approved(wang, clerk_a, county_admin, custodian_id_number=OTHER_ID)
        proxy_approval_revoke(approval=revoked, acting_user=clerk_a, reason="已搬走")
        register(in_group(cards["张一"].person), clerk_a)  # registered, not approved
        offered = selectors.sign_off_approvals(user=collector_a, sheet=sheet)
        assert offered == {approval.person_id: [approval]}
        assert selectors.sign_off_approvals(user=clerk_b, sheet=sheet) == {}

    def test_the_record_page_preselects_it_without_the_full_id_number(
        self, client, approval, sheet
    ):
        html = client.get(reverse("issuance:sign-off-record", args=[sheet.pk])).content.decode()
        row = rows_of(sheet)["李二"]
        assert f'name="approval_{row}"' in html
        assert f'<option value="{approval.pk}" selected>张小明（儿子，' in html
        assert "其他代领人（手工填写）" in html
        assert GUARDIAN_ID not in html and approval.masked_custodian_id_number in html
        assert html.count('name="approval_') == 1

    def test_recorded_to_the_chosen_approvals_custodian(self, client, collector_a, approval, sheet):
        rows = rows_of(sheet)
        response = record(
            client,
            sheet,
            **{
                f"signed_{rows['张一']}": "on",
                f"signed_{rows['李二']}": "on",
                f"who_{rows['李二']}": "proxy",
                f"approval_{rows['李二']}": str(approval.pk),
            },
        )
        assert response.status_code == 302, response.content.decode()
        card = Card.objects.get(person__name="李二")
        assert (card.status, card.custody_kind, card.custodian) == (
            CardStatus.ISSUED,
            CustodyKind.PROXY,
            "张小明",
        )
        entry = LedgerEntry.objects.get(card=card, event=LedgerEvent.ISSUED)
        assert (entry.method, entry.signee, entry.recorded_by) == ("proxy", "张小明", collector_a)
        assert sheet.rows.get(pk=rows["李二"]).signee == "张小明"

    def test_a_chosen_approval_and_another_typed_proxy_are_refused(self, client, approval, sheet):
        row = rows_of(sheet)["李二"]
        response = record(
            client,
            sheet,
            **{
                f"signed_{row}": "on",
                f"who_{row}": "proxy",
                f"approval_{row}": str(approval.pk),
                f"proxy_name_{row}": "李大",
                f"proxy_id_{row}": OTHER_ID,
            },
        )
        html = response.content.decode()
        assert response.status_code == 400
        assert "已选择审批的代领人张小明，又填写了另一位代领人李大" in html
        assert not LedgerEntry.objects.filter(event=LedgerEvent.ISSUED).exists()

    def test_another_holders_approval_is_not_a_choice(
        self, client, cards, approval, clerk_a, county_admin, sheet
    ):
        other = approved(
            in_group(cards["王三"].person), clerk_a, county_admin, custodian_id_number=OTHER_ID
        )
        row = rows_of(sheet)["李二"]
        response = record(
            client,
            sheet,
            **{f"signed_{row}": "on", f"who_{row}": "proxy", f"approval_{row}": str(other.pk)},
        )
        assert response.status_code == 400
        assert "所选代管审批已不在有效审批中" in response.content.decode()
        assert not LedgerEntry.objects.filter(event=LedgerEvent.ISSUED).exists()

    def test_other_proxy_typed_in_is_still_checked_by_the_ledger(self, client, approval, sheet):
        row = rows_of(sheet)["李二"]
        response = record(
            client,
            sheet,
            **{
                f"signed_{row}": "on",
                f"who_{row}": "proxy",
                f"approval_{row}": "",
                f"proxy_name_{row}": "李大",
                f"proxy_id_{row}": OTHER_ID,
            },
        )
        html = response.content.decode()
        assert response.status_code == 400
        assert "李二（代领）" in html and "不能发放给李大" in html
        sheet.refresh_from_db()
        assert sheet.recorded_at is None

    def test_the_printed_sheet_names_the_approved_proxy(self, client, approval, sheet, tmp_path):
        pdf = client.get(reverse("issuance:sign-off-pdf", args=[sheet.pk]))
        path = tmp_path / "sheet.pdf"
        path.write_bytes(pdf.content)
        text = subprocess.run(
            ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "经批准代领" in text and "张小明" in text and GUARDIAN_ID not in text


@pytest.mark.django_db
def test_a_proxy_row_not_ticked_is_refused_not_dropped(client, cards, sheet):
    rows = rows_of(sheet)
    response = record(
        client,
        sheet,
        **{
            f"signed_{rows['张一']}": "on",
            f"who_{rows['李二']}": "proxy",
            f"proxy_name_{rows['李二']}": "张小明",
            f"proxy_id_{rows['李二']}": GUARDIAN_ID,
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "第2行 李二：选择了代领，但未勾选“已签收”" in html
    assert not LedgerEntry.objects.filter(event=LedgerEvent.ISSUED).exists()
    sheet.refresh_from_db()
    assert sheet.recorded_at is None
