"""Home pages: durations in Chinese, totals under tables, and what a short list leaves out."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from issuance.models import Card, CardStatus, CustodyKind
from tests.factories import BankFactory, PersonFactory, put_on_list

HOME = reverse("home")
CADRE_HELD = reverse("cadre-held")
RISK_CARDS = reverse("issuance:risk-cards")


def held_cards(village, count, *, days=125):
    """Cards sitting at the township office since ``days`` ago, oldest first."""
    bank = BankFactory()
    since = timezone.now() - datetime.timedelta(days=days)
    cards = []
    for n in range(count):
        person = PersonFactory(township=village.township, village=village, name=f"持卡人{n:02d}")
        cards.append(
            Card.objects.create(
                person=person,
                bank=bank,
                status=CardStatus.IN_STOCK,
                custody_kind=CustodyKind.TOWNSHIP,
                custodian="杨海龙",
                custody_since=since + datetime.timedelta(minutes=n),
            )
        )
    return cards


@pytest.mark.django_db
class TestCustodyRisks:
    """The home page's custody risks read the risk pages' own selector (issuance.risks)."""

    def test_the_home_page_says_how_long_in_months(self, client, clerk_a, village_a):
        held_cards(village_a, 1)
        client.force_login(clerk_a)
        html = client.get(HOME).content.decode()
        assert "已保管4个月" in html
        assert "4月" not in html.replace("4个月", "")

    def test_the_home_page_shows_ten_and_says_how_many_more(self, client, clerk_a, village_a):
        held_cards(village_a, 13)
        client.force_login(clerk_a)
        html = client.get(HOME).content.decode()
        assert html.count('<td data-label="持卡人">') == 10
        assert "另有 3 张未列出（共 13 张）" in html
        assert f'<a href="{RISK_CARDS}">查看全部</a>' in html

    def test_the_township_count_opens_its_names(self, client, clerk_a, village_a):
        held_cards(village_a, 3)
        client.force_login(clerk_a)
        html = client.get(HOME).content.decode()
        code = village_a.township.code
        link = f'<a href="{RISK_CARDS}?township={code}" data-testid="risk-total-{code}">3</a>'
        assert link in html
        listed = client.get(f"{RISK_CARDS}?township={code}")
        assert listed.context["page"].paginator.count == 3

    def test_cards_held_less_than_n_days_are_not_counted(self, client, clerk_a, village_a):
        held_cards(village_a, 2, days=20)
        client.force_login(clerk_a)
        assert "没有代管风险卡" in client.get(HOME).content.decode()

    def test_ten_or_fewer_need_no_note(self, client, clerk_a, village_a):
        held_cards(village_a, 10)
        client.force_login(clerk_a)
        assert 'data-testid="more"' not in client.get(HOME).content.decode()

    def test_a_collector_sees_the_village(self, client, collector_a, village_a):
        held_cards(village_a, 2)
        client.force_login(collector_a)
        html = client.get(HOME).content.decode()
        assert "代管风险（保管超过 30 天）" in html
        assert html.count('<td data-label="持卡人">') == 2

    def test_a_clerk_of_another_township_sees_none_of_them(self, client, clerk_b, village_a):
        held_cards(village_a, 3)
        client.force_login(clerk_b)
        assert "没有代管风险卡" in client.get(HOME).content.decode()

    def test_bank_staff_have_no_risk_tiles(self, client, banker_a, village_a):
        held_cards(village_a, 3)
        client.force_login(banker_a)
        assert "代管风险" not in client.get(HOME).content.decode()

    def test_the_old_address_opens_the_risk_list(self, client, supervisor):
        client.force_login(supervisor)
        response = client.get(CADRE_HELD)
        assert (response.status_code, response["Location"]) == (302, RISK_CARDS)

    @pytest.mark.parametrize("persona", ["banker_a"])
    def test_bank_staff_may_not(self, client, request, persona):
        client.force_login(request.getfixturevalue(persona))
        assert client.get(CADRE_HELD).status_code == 403

    def test_anonymous_goes_to_login(self, client):
        assert client.get(CADRE_HELD).status_code == 302


@pytest.mark.django_db
def test_the_township_table_has_a_total_row(client, supervisor, person_a, person_b):
    put_on_list(person_a, person_b)
    client.force_login(supervisor)
    html = client.get(HOME).content.decode()
    total = html[html.index('data-testid="total-row"') :]
    assert '<td data-label="名单人数" class="num">2</td>' in total[: total.index("</tr>")]


@pytest.mark.django_db
def test_the_card_tiles_have_a_total(client, clerk_a, village_a):
    held_cards(village_a, 2)
    client.force_login(clerk_a)
    html = client.get(HOME).content.decode()
    tile = html[html.index('data-testid="cards-total"') :]
    assert '<div class="n">2</div><div class="label">合计</div>' in tile


@pytest.mark.django_db
def test_recent_jobs_say_how_many_more(client, county_admin):
    from dayao_sscard.models import Job, JobKind

    for n in range(7):
        Job.objects.create(kind=JobKind.EXPORT, title=f"导出{n}", started_by=county_admin)
    client.force_login(county_admin)
    html = client.get(HOME).content.decode()
    assert "另有 2 个未列出（共 7 个）" in html
    assert f'<a href="{reverse("job-list")}">查看全部</a>' in html
