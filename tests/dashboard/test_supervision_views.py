"""进度督导: /dashboard/ and a township's page, who may open them, and that every number is
the figure of ``roster.progress`` and a link to exactly the persons behind it."""

import datetime
import re
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.urls import reverse

from dashboard.supervision import TABLE_KEYS
from dayao_sscard.models import Job
from issuance.models import Card, CardStatus
from roster.progress import figures_snapshot, progress_by_township, progress_by_village
from roster.selectors import subsidy_readiness
from tests.dashboard.supervisiondata import (
    SUBSIDY,
    TOWNSHIP_A,
    TOWNSHIP_B,
    build_county,
    read_table,
)
from tests.factories import CampaignFactory

# In the 发放 stage (制卡 ended 7月10日, 发放 ends 8月20日): 22 of its 41 days gone, so
# 53.7% of the persons who should hold a card should have it in hand by now.
TODAY = datetime.datetime(2026, 8, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
HOME = reverse("supervision")


def township_url(code: str) -> str:
    return reverse("supervision-township", args=[code])


@pytest.fixture
def county(db, time_machine):
    time_machine.move_to(TODAY, tick=False)
    CampaignFactory()
    world = build_county()
    # Township B: two of its three persons have their card in hand, ahead of the pace.
    Card.objects.create(
        person=world["in_b"][1], bank=world["bank"], status=CardStatus.ACTIVATED, card_number="M2B"
    )
    return world


def _html(client, user, url) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
class TestWhoMayOpen:
    def test_a_supervisor_sees_every_township(self, client, supervisor, county):
        rows = read_table(_html(client, supervisor, HOME), "figures-table")
        assert len(rows) == 12 + 1  # the county's twelve townships and the total
        assert TOWNSHIP_A in rows and TOWNSHIP_B in rows

    def test_the_county_admin_too(self, client, county_admin, county):
        assert "全县进度督导" in _html(client, county_admin, HOME)

    def test_a_township_clerk_sees_the_villages_of_the_own_township_at_the_same_address(
        self, client, clerk_a, county
    ):
        html = _html(client, clerk_a, HOME)
        assert "金碧镇进度督导" in html
        rows = read_table(html, "figures-table")
        villages = {county["dahe"].pk, county["xincun"].pk}
        assert set(rows) == {str(pk) for pk in villages} | {"0", "total"}
        assert "石羊" not in html

    def test_a_township_clerk_opens_the_own_township_but_not_another(self, client, clerk_a, county):
        client.force_login(clerk_a)
        assert client.get(township_url(TOWNSHIP_A)).status_code == 200
        assert client.get(township_url(TOWNSHIP_B)).status_code == 404

    def test_a_village_collector_sees_only_the_own_village(self, client, collector_a, county):
        html = _html(client, collector_a, HOME)
        rows = read_table(html, "figures-table")
        assert set(rows) == {str(county["dahe"].pk), "total"}
        assert "新村" not in html
        client.force_login(collector_a)
        assert client.get(township_url(TOWNSHIP_B)).status_code == 404

    def test_a_collectors_page_is_named_after_the_own_village(self, client, collector_a, county):
        """A collector's figures are one village's: headed 金碧镇 and summed as 金碧镇合计 they
        read as the whole township's (seen on the demo: 金碧镇合计 141 of the township's 1227)."""
        village = county["dahe"]
        html = _html(client, collector_a, HOME)

        title = re.search(r'data-testid="supervision-title">(.*?)</h1>', html).group(1)
        total = read_table(html, "figures-table")["total"]

        assert village.name in title
        assert village.name in total["text"]
        assert f"{village.township.name}合计" not in html

    def test_a_supervisor_opens_any_township_and_an_unknown_code_is_not_found(
        self, client, supervisor, county
    ):
        html = _html(client, supervisor, township_url(TOWNSHIP_B))
        assert set(read_table(html, "figures-table")) == {str(county["shiyang"].pk), "total"}
        assert client.get(township_url("999999999")).status_code == 404

    def test_bank_staff_may_not(self, client, banker_a, county):
        client.force_login(banker_a)
        assert client.get(HOME).status_code == 403
        assert client.get(township_url(TOWNSHIP_A)).status_code == 403

    def test_anonymous_goes_to_login(self, client, county):
        assert client.get(HOME).status_code == 302

    @pytest.mark.parametrize(
        ("persona", "listed"),
        [("supervisor", True), ("clerk_a", True), ("collector_a", True), ("banker_a", False)],
    )
    def test_the_menu_lists_it_for_those_who_may(self, client, request, persona, listed, county):
        client.force_login(request.getfixturevalue(persona))
        body = client.get(reverse("home")).content.decode()
        assert (f'href="{HOME}"' in body) is listed


@pytest.mark.django_db
class TestFigures:
    def test_the_county_table_shows_exactly_the_progress_figures(self, client, supervisor, county):
        rows = read_table(_html(client, supervisor, HOME), "figures-table")
        expected = progress_by_township(user=supervisor)
        for township in expected["townships"]:
            shown = rows[township["code"]]["cells"]
            assert {k: shown[k]["count"] for k in TABLE_KEYS} == {
                k: township[k] for k in TABLE_KEYS
            }, township["name"]
        assert {k: rows["total"]["cells"][k]["count"] for k in TABLE_KEYS} == {
            k: expected["total"][k] for k in TABLE_KEYS
        }
        # Not a table of zeros: the data reach the page.
        assert rows[TOWNSHIP_A]["cells"]["listed"]["count"] == 7
        assert rows[TOWNSHIP_A]["cells"]["issued"]["count"] == 2

    def test_the_township_table_shows_exactly_the_village_figures(self, client, clerk_a, county):
        rows = read_table(_html(client, clerk_a, HOME), "figures-table")
        expected = progress_by_village(user=clerk_a, township=clerk_a.township)
        for village in expected["villages"]:
            shown = rows[str(village["village_id"])]["cells"]
            assert {k: shown[k]["count"] for k in TABLE_KEYS} == {k: village[k] for k in TABLE_KEYS}
        assert rows["total"]["cells"]["listed"]["count"] == expected["total"]["listed"] == 7

    def test_shares_are_of_the_persons_who_should_hold_a_card(self, client, supervisor, county):
        a = read_table(_html(client, supervisor, HOME), "figures-table")[TOWNSHIP_A]["cells"]
        # Six of township A's seven listed persons are alive: two hold their card.
        assert a["should_hold"]["count"] == 6
        assert "33.3%" in a["issued"]["text"]
        # The deceased: one of the seven listed.
        assert "14.3%" in a["deceased"]["text"]

    def test_a_township_behind_the_pace_is_marked_in_words_and_colour(
        self, client, supervisor, county
    ):
        html = _html(client, supervisor, HOME)
        figures = read_table(html, "figures-table")
        standing = read_table(html, "standing-table")
        assert "behind" in figures[TOWNSHIP_A]["class"] and "滞后" in figures[TOWNSHIP_A]["text"]
        assert "behind" not in figures[TOWNSHIP_B]["class"]
        assert "滞后" not in figures[TOWNSHIP_B]["text"]
        assert "滞后" in standing[TOWNSHIP_A]["text"] and "正常" in standing[TOWNSHIP_B]["text"]
        # 53.7% of six is 3.22: township A, with two cards in hand, is two persons short.
        assert "53.7%" in standing[TOWNSHIP_A]["text"]
        assert "发放" in html and "2026-08-20" in html and "还剩 19 天" in html

    def test_without_a_campaign_the_page_says_so(self, client, supervisor, county):
        from dayao_sscard.models import Campaign

        Campaign.objects.update(is_active=False)
        html = _html(client, supervisor, HOME)
        assert "尚未设置进行中的工作方案" in html
        assert read_table(html, "figures-table")[TOWNSHIP_A]["cells"]["listed"]["count"] == 7


@pytest.mark.django_db
class TestSinceYesterday:
    def test_without_a_snapshot_the_page_says_so(self, client, supervisor, county):
        html = _html(client, supervisor, HOME)
        assert "尚无昨日的快照" in html
        assert 'class="change' not in html

    def test_each_figure_shows_its_change_since_yesterdays_snapshot(
        self, client, supervisor, county
    ):
        figures_snapshot(day=TODAY.date() - datetime.timedelta(days=1))
        waiting = county["dahe"].persons.filter(cards__isnull=True).first()
        Card.objects.create(
            person=waiting, bank=county["bank"], status=CardStatus.ISSUED, card_number="M3"
        )
        html = _html(client, supervisor, HOME)
        assert "较昨日快照的变化" in html
        a = read_table(html, "figures-table")[TOWNSHIP_A]["cells"]
        assert "+1" in a["issued"]["text"] and "+1" in a["made"]["text"]
        assert "±0" in a["listed"]["text"] and "±0" in a["activated"]["text"]
        village = read_table(_html(client, supervisor, township_url(TOWNSHIP_A)), "figures-table")
        assert "+1" in village[str(county["dahe"].pk)]["cells"]["issued"]["text"]
        assert "±0" in village[str(county["xincun"].pk)]["cells"]["issued"]["text"]


def _counts_behind_links(client, rows: dict) -> list[tuple[str, str, int, int]]:
    """(place, figure, the number shown, the persons its link lists) for every number."""
    found = []
    for place, row in rows.items():
        for key, cell in row["cells"].items():
            listed = client.get(cell["url"]).context["page"].paginator.count
            found.append((place, key, cell["count"], listed))
    return found


@pytest.mark.django_db
class TestLinks:
    def test_every_county_number_opens_a_list_of_as_many_persons(self, client, supervisor, county):
        rows = read_table(_html(client, supervisor, HOME), "figures-table")
        rows = {p: rows[p] for p in (TOWNSHIP_A, TOWNSHIP_B, "total")}
        found = _counts_behind_links(client, rows)
        assert len(found) == 3 * len(TABLE_KEYS)
        assert [f for f in found if f[2] != f[3]] == []

    def test_every_village_number_opens_a_list_of_as_many_persons(self, client, clerk_a, county):
        rows = read_table(_html(client, clerk_a, HOME), "figures-table")
        found = _counts_behind_links(client, rows)
        assert len(found) == 4 * len(TABLE_KEYS)  # two villages, no village, the total
        assert [f for f in found if f[2] != f[3]] == []

    def test_a_collectors_numbers_open_the_own_village(self, client, collector_a, county):
        rows = read_table(_html(client, collector_a, HOME), "figures-table")
        assert [f for f in _counts_behind_links(client, rows) if f[2] != f[3]] == []

    def test_the_list_names_the_figure_in_chinese(self, client, supervisor, county):
        cell = read_table(_html(client, supervisor, HOME), "figures-table")[TOWNSHIP_A]["cells"]
        body = client.get(cell["activated"]["url"]).content.decode()
        assert '人员查询 · <span data-testid="figure-label">已激活</span>' in body
        assert "统计口径：社保卡金融功能已面签激活的人员" in body

    def test_the_export_of_a_number_holds_exactly_its_persons(
        self, client, clerk_a, county, django_capture_on_commit_callbacks
    ):
        rows = read_table(_html(client, clerk_a, HOME), "figures-table")
        cell = rows[str(county["dahe"].pk)]["cells"]["issued"]
        listed = client.get(cell["url"]).context["page"]
        query = dict(pair.split("=", 1) for pair in cell["url"].split("?", 1)[1].split("&"))
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("roster:person-export"), query)
        assert response.status_code == 302
        job = Job.objects.get()
        assert "已发放" in job.result_name and "大河社区" in job.result_name
        with job.result_file.open("rb") as handle:
            sheet = openpyxl.load_workbook(handle, read_only=True).active
            names = [row[4] for row in sheet.iter_rows(min_row=2, values_only=True)]
        assert sorted(names) == sorted(p.name for p in listed) and len(names) == cell["count"] == 2

    def test_an_unknown_figure_lists_nobody_and_says_why(self, client, supervisor, county):
        client.force_login(supervisor)
        response = client.get(reverse("roster:person-list"), {"figure": "nonsense"})
        assert response.status_code == 200
        body = response.content.decode()
        assert "没有名为“nonsense”的进度数字" in body
        assert response.context["page"].paginator.count == 0
        assert "导出当前结果为 Excel" not in body

    def test_an_export_of_an_unknown_figure_is_refused_back_to_the_list(
        self, client, supervisor, county
    ):
        client.force_login(supervisor)
        response = client.post(
            reverse("roster:person-export"), {"figure": "nonsense", "township": TOWNSHIP_A}
        )
        assert response.status_code == 302
        assert response.url.startswith(reverse("roster:person-list"))
        assert "figure=nonsense" in response.url and f"township={TOWNSHIP_A}" in response.url
        assert not Job.objects.exists()

    def test_township_links_lead_to_the_township_page(self, client, supervisor, county):
        html = _html(client, supervisor, HOME)
        assert f'href="{township_url(TOWNSHIP_A)}"' in html


@pytest.mark.django_db
class TestCustodyAndSubsidies:
    def test_subsidy_readiness_counts_the_projects_recipients_in_scope(
        self, supervisor, clerk_b, county
    ):
        assert subsidy_readiness(user=supervisor) == [
            {
                "project": SUBSIDY,
                "recipients": 3,
                "issued": 3,
                "activated": 1,
                "activated_share": 33.3,
            }
        ]
        assert subsidy_readiness(user=clerk_b)[0]["recipients"] == 1

    def test_the_subsidy_numbers_open_their_persons(self, client, supervisor, county):
        client.force_login(supervisor)
        html = _html(client, supervisor, HOME)
        assert SUBSIDY in html
        context = client.get(HOME).context
        row = context["subsidies"][0]
        for key in ("recipients", "issued", "activated"):
            listed = client.get(row[f"{key}_url"]).context["page"].paginator.count
            assert listed == row[key], key

    def test_the_custody_risks_link_to_the_risk_pages(self, client, supervisor, county):
        html = _html(client, supervisor, HOME)
        assert f"{reverse('issuance:risk-cards')}?township={TOWNSHIP_A}" in html
        assert f"{reverse('issuance:proxy-list')}?state=expiring&amp;township={TOWNSHIP_A}" in html

    def test_a_township_page_shows_its_own_risks_only(self, client, clerk_a, county):
        client.force_login(clerk_a)
        custody = client.get(HOME).context["custody"]
        assert [row["name"] for row in custody["rows"]] == ["金碧镇"]


@pytest.mark.django_db
class TestCharts:
    def test_the_charts_data_travel_as_json_and_echarts_loads_only_here(
        self, client, supervisor, county
    ):
        html = _html(client, supervisor, HOME)
        assert '<script id="dashboard-data" type="application/json">' in html
        assert "vendor/echarts/echarts.min.js" in html and "js/dashboard.js" in html
        charts = client.get(HOME).context["charts"]
        assert [f["value"] for f in charts["funnel"]][:1] == [10]
        assert charts["trend"]["dates"][-1] == "8月1日"
        assert [s["name"] for s in charts["standing"]][:2] == ["金碧镇", "石羊镇"]
        assert "echarts" not in client.get(reverse("home")).content.decode()

    def test_no_inline_script(self, client, supervisor, county):
        html = _html(client, supervisor, HOME)
        scripts = html.split("<script")[1:]
        assert all(' src="' in s.split(">")[0] or "application/json" in s for s in scripts)


@pytest.mark.django_db
class TestAfterTheServicesWrite:
    def test_an_issuance_and_an_activation_show_at_once_and_match_a_count_from_scratch(
        self, client, supervisor, county_admin, clerk_a, banker_a, branch_a, person_a
    ):
        from activation.services import card_activate_at_counter
        from issuance.issuing import card_issue
        from roster.models import Person
        from roster.progress import count_figures, figures_rebuild
        from tests.factories import put_on_list
        from tests.issuance.issuing import stock_card

        put_on_list(person_a)
        figures_rebuild()  # the list was written in bulk, as an import writes it
        card = stock_card(person=person_a, branch=branch_a, user=county_admin, number="M20000009")
        card_issue(
            card=card,
            acting_user=clerk_a,
            method="window",
            place="金碧镇社保中心",
            signee=person_a.name,
            identity_checked=True,
        )
        card_activate_at_counter(
            card=card, acting_user=banker_a, face_to_face=True, identity_checked=True
        )

        rows = read_table(_html(client, supervisor, HOME), "figures-table")
        shown = {k: c["count"] for k, c in rows[TOWNSHIP_A]["cells"].items()}
        from_scratch = count_figures(Person.objects.filter(township__code=TOWNSHIP_A))
        counted = {k: sum(f.get(k, 0) for f in from_scratch.values()) for k in TABLE_KEYS}
        assert shown == counted
        assert (shown["made"], shown["issued"], shown["activated"]) == (1, 1, 1)
        found = _counts_behind_links(client, {TOWNSHIP_A: rows[TOWNSHIP_A]})
        assert [f for f in found if f[2] != f[3]] == []
