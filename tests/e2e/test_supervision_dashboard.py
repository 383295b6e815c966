"""进度督导 in the browser: the supervisor's county dashboard with its charts drawn, through
a township to the names behind a number; a township head's villages; a phone; print."""

import pytest
from playwright.sync_api import expect

from tests.dashboard.supervisiondata import build_county
from tests.factories import CampaignFactory

from .conftest import login, menu

PHONE = {"width": 375, "height": 800}


@pytest.fixture
def county(transactional_db):
    CampaignFactory()
    return build_county()


def watch_errors(page) -> list[str]:
    """JavaScript errors of the page: uncaught ones and those logged to the console."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    return errors


def expect_charts_drawn(page, count: int) -> None:
    charts = page.locator("[data-chart]")
    expect(charts).to_have_count(count)
    for n in range(count):
        expect(charts.nth(n)).to_have_attribute("data-drawn", "1")
        expect(charts.nth(n).locator("canvas").first).to_be_visible()


def shot(page, tmp_path, name: str) -> str:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return str(path)


def test_a_supervisor_sees_the_charts_and_clicks_through_to_the_names(
    live_server, new_page, supervisor, county, tmp_path
):
    page = new_page()
    errors = watch_errors(page)
    login(page, live_server, supervisor)
    menu(page).get_by_role("link", name="进度督导").click()

    expect(page.get_by_test_id("supervision-title")).to_have_text("全县进度督导")
    expect_charts_drawn(page, 3)
    expect(page.get_by_test_id("figures-table").locator("tbody tr")).to_have_count(13)
    shot(page, tmp_path, "county-1280")

    page.get_by_test_id("figures-table").get_by_role("link", name="金碧镇").click()
    expect(page.get_by_test_id("supervision-title")).to_have_text("金碧镇进度督导")
    expect_charts_drawn(page, 3)
    shot(page, tmp_path, "township-1280")

    dahe = page.get_by_test_id("figures-table").locator(f'tr[data-place="{county["dahe"].pk}"]')
    issued = dahe.locator('td[data-key="issued"] a')
    expect(issued).to_have_text("2")
    issued.click()

    expect(page.get_by_test_id("figure-label")).to_have_text("已发放")
    rows = page.get_by_test_id("person-table").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(page.get_by_test_id("person-table")).to_contain_text("大河社区")
    shot(page, tmp_path, "names-1280")
    assert errors == []


def test_a_township_head_sees_only_the_own_villages(
    live_server, new_page, clerk_a, county, tmp_path
):
    page = new_page()
    errors = watch_errors(page)
    login(page, live_server, clerk_a)
    menu(page).get_by_role("link", name="进度督导").click()

    expect(page.get_by_test_id("supervision-title")).to_have_text("金碧镇进度督导")
    table = page.get_by_test_id("figures-table")
    expect(table.locator("tbody tr th")).to_contain_text(
        ["大河社区", "新村", "未填村（社区）", "金碧镇合计"]
    )
    expect(page.locator("main")).not_to_contain_text("石羊")
    expect_charts_drawn(page, 3)
    shot(page, tmp_path, "township-head-1280")
    assert errors == []


def test_on_a_phone_the_charts_fit_and_the_tables_scroll_in_their_box(
    live_server, new_page, supervisor, county, tmp_path
):
    page = new_page(viewport=PHONE)
    errors = watch_errors(page)
    login(page, live_server, supervisor)
    page.goto(f"{live_server.url}/dashboard/")

    expect_charts_drawn(page, 3)
    widths = page.locator("[data-chart] canvas").evaluate_all(
        "canvases => canvases.map(c => c.getBoundingClientRect().right)"
    )
    assert widths and max(widths) <= PHONE["width"]
    # The page itself does not scroll sideways; the wide table scrolls inside its box.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    wrap = page.get_by_test_id("figures-table").locator("xpath=..")
    assert wrap.evaluate("box => box.scrollWidth > box.clientWidth")
    shot(page, tmp_path, "county-375")
    assert errors == []


def test_printed_the_charts_are_pictures_and_the_menu_is_gone(
    live_server, new_page, supervisor, county
):
    page = new_page()
    login(page, live_server, supervisor)
    page.goto(f"{live_server.url}/dashboard/")
    expect_charts_drawn(page, 3)

    page.emulate_media(media="print")

    expect(page.locator("header.top")).to_be_hidden()
    expect(page.locator("[data-chart]").first).to_be_hidden()
    images = page.locator("img.chart-image")
    expect(images).to_have_count(3)
    for n in range(3):
        expect(images.nth(n)).to_be_visible()
        assert images.nth(n).get_attribute("src").startswith("data:image/png;base64,")
    assert page.pdf(format="A4")[:4] == b"%PDF"
