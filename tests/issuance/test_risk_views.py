"""The pages of the custody risks and the reconciliation: who may, who may not, and what
another township's clerk sees; the Excel downloads and their audit rows."""

import io

import openpyxl
import pytest
from django.urls import reverse

from dayao_sscard.models import AuditEvent
from issuance.models import CustodyKind
from issuance.reconciliation import Kind
from tests.issuance.test_opening import export, import_export
from tests.issuance.test_risks import card_with, legacy_issue

RISKS = reverse("issuance:risks")
RISK_CARDS = reverse("issuance:risk-cards")
RISK_HOLDERS = reverse("issuance:risk-holders")
RISK_EXPORT = reverse("issuance:risk-export")
RECON = reverse("issuance:reconciliation")
RECON_EXPORT = reverse("issuance:reconciliation-export")
CCB = "中国建设银行大姚支行"


@pytest.fixture
def risks_in_a(village_a):
    """Two cards at the village office for long, both signed for by 李村长."""
    cards = [card_with(village_a, kind=CustodyKind.VILLAGE, days=90) for _ in range(2)]
    for card in cards:
        legacy_issue(card, signee="李村长", days=80)
        card.refresh_from_db()
    return cards


def rows(response) -> list[tuple]:
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets
    return [list(s.iter_rows(values_only=True)) for s in sheet]


@pytest.mark.django_db
class TestRiskPages:
    def test_the_overview_counts_per_township(self, client, supervisor, risks_in_a, village_a):
        client.force_login(supervisor)
        html = client.get(RISKS).content.decode()
        code = village_a.township.code
        assert f'href="{RISK_CARDS}?township={code}" data-testid="risk-total-{code}">2</a>' in html
        assert (
            f'href="{RISK_HOLDERS}?township={code}" data-testid="risk-several-{code}">1</a>' in html
        )
        assert '超过 <strong data-testid="risk-days">30</strong> 天' in html

    def test_the_names_behind_a_count(self, client, clerk_a, risks_in_a, village_a):
        client.force_login(clerk_a)
        html = client.get(f"{RISK_CARDS}?township={village_a.township.code}&kind=other_person")
        page = html.content.decode()
        assert page.count('<td data-label="持卡人">') == 2
        assert "李村长" in page and "持卡人以外的个人签收保管" in page
        assert risks_in_a[0].person.masked_id_number in page
        assert risks_in_a[0].person.id_number not in page

    def test_the_holders_of_several(self, client, clerk_a, risks_in_a):
        client.force_login(clerk_a)
        page = client.get(RISK_HOLDERS).content.decode()
        assert '<span data-testid="holder-name">李村长</span>' in page
        assert "涉及 2 名持卡人的 2 张卡，目前仍在其手中 2 张" in page

    def test_another_township_sees_none_of_them(self, client, clerk_b, risks_in_a, village_a):
        client.force_login(clerk_b)
        code = village_a.township.code
        assert client.get(RISK_CARDS).context["page"].paginator.count == 0
        assert client.get(RISK_HOLDERS).context["holders"] == []
        for url in (RISK_CARDS, RISK_HOLDERS, RISK_EXPORT):
            assert client.get(f"{url}?township={code}").status_code == 404
        overview = client.get(RISKS).context["rows"]
        assert [row["township"].code for row in overview] == [clerk_b.township.code]
        assert overview[0]["total"] == 0

    @pytest.mark.parametrize(
        "query", ["", "?kind=other_person", "?kind=village", "?township={code}&kind=other_person"]
    )
    def test_the_total_is_the_number_of_cards_listed(
        self, client, supervisor, risks_in_a, village_a, query, settings
    ):
        """The total comes from the kept counts, the rows from the list: they agree, and a
        card taken into risk since is in both at once (the tiles may wait a while)."""
        settings.RISK_COUNTS_MIN_SECONDS = 60
        client.force_login(supervisor)
        url = RISK_CARDS + query.format(code=village_a.township.code)
        page = client.get(url).context["page"]
        assert page.paginator.count == len(page.object_list)
        legacy_issue(card_with(village_a, kind=CustodyKind.VILLAGE, days=90), signee="王村长")
        again = client.get(url).context["page"]
        assert again.paginator.count == len(again.object_list) >= page.paginator.count

    def test_a_collector_sees_the_village(self, client, collector_a, risks_in_a):
        client.force_login(collector_a)
        assert client.get(RISK_CARDS).context["page"].paginator.count == 2

    @pytest.mark.parametrize("url", [RISKS, RISK_CARDS, RISK_HOLDERS, RISK_EXPORT])
    def test_bank_staff_may_not(self, client, banker_a, url):
        client.force_login(banker_a)
        assert client.get(url).status_code == 403

    def test_the_export_is_masked_and_audited_with_its_rows(
        self, client, clerk_a, risks_in_a, village_a
    ):
        client.force_login(clerk_a)
        code = village_a.township.code
        response = client.get(f"{RISK_EXPORT}?township={code}")
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        assert response["Cache-Control"] == "private, no-store"
        cards, holders = rows(response)
        assert len(cards) == 3 and len(holders) == 3
        assert cards[1][4] == risks_in_a[0].person.masked_id_number
        event = AuditEvent.objects.get(action="issuance.custody_risks.exported")
        assert (event.after["rows"], event.after["holder_rows"]) == (2, 2)
        assert (event.actor, event.township_id) == (clerk_a, village_a.township_id)
        assert "2 张" in event.note

    def test_the_export_of_another_township_is_empty(self, client, clerk_b, risks_in_a, village_a):
        client.force_login(clerk_b)
        cards, holders = rows(client.get(RISK_EXPORT))
        assert (len(cards), len(holders)) == (1, 1)
        assert AuditEvent.objects.get(action="issuance.custody_risks.exported").after["rows"] == 0


@pytest.fixture
def bank_disagreement(tmp_path, person_a, person_b):
    """Township A's and B's cards made at one bank, the newer export says another."""
    records = [
        (p.id_number, f"Y{n}", "制卡成功", "正常", "2020-01-01")
        for n, p in enumerate((person_a, person_b))
    ]
    import_export(export(tmp_path, *records))
    import_export(
        export(tmp_path, *[(*r, CCB) for r in records], name="2.xlsx"), coverage="complete"
    )


@pytest.mark.django_db
class TestReconciliationPages:
    def test_the_page_lists_each_with_its_advice(self, client, supervisor, bank_disagreement):
        client.force_login(supervisor)
        response = client.get(RECON)
        page = response.content.decode()
        assert response.context["counts"]["total"] == 2
        assert page.count('data-kind="bank_differs"') == 2
        assert Kind.ADVICE[Kind.BANK_DIFFERS] in page
        assert "依据全县导出" in page

    def test_filters_by_kind_and_township(self, client, supervisor, bank_disagreement, person_a):
        client.force_login(supervisor)
        code = person_a.township.code
        response = client.get(f"{RECON}?kind=bank_differs&township={code}")
        assert [item.name for item in response.context["page"]] == [person_a.name]
        assert 'data-testid="recon-kind-advice"' in response.content.decode()

    def test_another_township_sees_only_its_own(self, client, clerk_b, bank_disagreement, person_b):
        client.force_login(clerk_b)
        assert client.get(f"{RECON}?township=532326101").status_code == 404
        assert [item.name for item in client.get(RECON).context["page"]] == [person_b.name]

    @pytest.mark.parametrize("url", [RECON, RECON_EXPORT])
    def test_collectors_may_not(self, client, collector_a, url):
        client.force_login(collector_a)
        assert client.get(url).status_code == 403

    def test_the_export_is_audited_with_its_rows(self, client, clerk_a, bank_disagreement):
        client.force_login(clerk_a)
        response = client.get(RECON_EXPORT)
        assert response["Cache-Control"] == "private, no-store"
        [sheet] = rows(response)
        assert len(sheet) == 2
        assert sheet[1][1] == Kind.LABELS[Kind.BANK_DIFFERS]
        assert sheet[1][8] == Kind.ADVICE[Kind.BANK_DIFFERS]
        event = AuditEvent.objects.get(action="issuance.reconciliation.exported")
        assert event.after["rows"] == 1


@pytest.mark.django_db
def test_the_reconciliation_says_when_no_export_was_imported(client, supervisor):
    client.force_login(supervisor)
    page = client.get(RECON).content.decode()
    assert "尚未导入卡务系统导出，无法对账" in page
    # Nothing was compared, so nothing may be said to agree.
    assert "两方记录一致" not in page
    assert "没有不一致的记录" not in page


@pytest.mark.django_db
def test_the_administrator_sets_n_on_the_campaign(client, county_admin):
    from tests.factories import CampaignFactory

    campaign = CampaignFactory()
    client.force_login(county_admin)
    page = client.get(reverse("admin:dayao_sscard_campaign_change", args=[campaign.pk]))
    html = page.content.decode()
    assert "代管风险天数" in html and 'value="30"' in html
