"""What a collector sees on a phone: a compact header, and a photo that survives an error."""

import pytest
from playwright.sync_api import expect

from roster.models import VerificationStatus
from tests.factories import CampaignFactory, PersonFactory
from tests.roster.photos import photo_bytes

from .conftest import login, menu

PHONE = {"width": 375, "height": 740}
PHOTO_LOADED = "img => img.complete && img.naturalWidth > 0"
NO_HORIZONTAL_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth + 1"


def phone_page(new_page):
    return new_page(viewport=PHONE, is_mobile=True, has_touch=True)


@pytest.fixture
def pending_a(village_a):
    """One person of 大河社区 still to verify: no validity dates, no photo."""
    return PersonFactory(
        township=village_a.township,
        village=village_a,
        name="王秀英",
        card_class="no_card_info",
        address="云南省楚雄彝族自治州大姚县金碧镇大河社区居民委员会第十二居民小组",
    )


def test_the_phone_header_is_one_compact_bar_with_a_menu(live_server, collector_a, new_page):
    page = login(phone_page(new_page), live_server, collector_a)

    header = page.locator("header.top")
    height = header.bounding_box()["height"]
    assert height <= 56, f"the header takes {height}px of a 740px screen"
    button = page.get_by_test_id("menu-button")
    expect(button).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(page.locator("header.top nav")).to_be_hidden()
    expect(page.get_by_test_id("home-title")).to_be_in_viewport()

    button.click()

    expect(button).to_have_attribute("aria-expanded", "true")
    nav = page.locator("header.top nav")
    expect(nav).to_be_visible()
    expect(header.get_by_test_id("current-user")).to_be_visible()
    nav.get_by_role("link", name="核查队列").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("信息核查队列")
    expect(page.locator("header.top nav")).to_be_hidden()  # closed again on the next page
    assert page.evaluate(NO_HORIZONTAL_SCROLL)


def test_on_a_desktop_the_menu_is_always_there(live_server, clerk_a, page):
    login(page, live_server, clerk_a)
    expect(page.get_by_test_id("menu-button")).to_be_hidden()
    nav = page.locator("header.top nav")
    expect(nav.get_by_role("link", name="核查队列")).to_be_visible()
    expect(nav.get_by_role("link", name="首页")).to_have_attribute("aria-current", "page")


def test_the_photo_survives_a_validation_error(
    live_server, collector_a, pending_a, new_page, tmp_path
):
    page = login(phone_page(new_page), live_server, collector_a)
    menu(page).get_by_role("link", name="核查队列").click()
    page.get_by_role("link", name="从第一位开始核查").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(pending_a.name)

    form = page.get_by_test_id("verify-form")
    # The whole 33-character address shows in its box.
    address = form.get_by_label("住所地或工作单位地址")
    assert address.evaluate("el => el.scrollWidth <= el.clientWidth + 1")
    assert address.evaluate("el => el.scrollHeight <= el.clientHeight + 1")
    expect(page.get_by_test_id("element-id_validity")).to_have_class(
        "element element-id_validity missing"
    )
    expect(page.get_by_test_id("element-name")).to_have_class("element element-name ok")

    photo = tmp_path / "photo.jpg"
    photo.write_bytes(photo_bytes())
    form.locator("input[type=file][name=photo_upload]").set_input_files(photo)
    preview = page.get_by_test_id("photo-preview")
    expect(preview).to_be_visible()  # previewed in the browser before any upload
    assert preview.get_attribute("src").startswith("blob:")

    form.get_by_label("证件有效期起").fill("2016-04-01")
    form.get_by_label("证件有效期止").fill("2036-04-01")
    form.get_by_label("联系电话").fill("1398765")  # one digit short of a number
    form.get_by_role("button", name="仅保存").click()

    expect(form.locator(".errorlist")).to_contain_text("联系电话格式不正确")
    expect(page.get_by_test_id("photo-state")).to_contain_text("照片已暂存")
    preview = page.get_by_test_id("photo-preview")
    expect(preview).to_be_visible()
    assert "/kept-photo/" in preview.get_attribute("src")
    page.wait_for_function(PHOTO_LOADED, arg=preview.element_handle())
    # What was typed stays, too.
    expect(form.get_by_label("证件有效期起")).to_have_value("2016-04-01")
    pending_a.refresh_from_db()
    assert not pending_a.photo

    form.get_by_label("联系电话").fill("13987651234")
    form.get_by_role("button", name="仅保存").click()

    expect(page.locator(".messages li.success")).to_contain_text(
        f"已保存 {pending_a.name}（待制卡）"
    )
    expect(page.get_by_test_id("photo-thumb")).to_be_visible()
    pending_a.refresh_from_db()
    assert pending_a.photo and pending_a.photo_thumbnail
    assert pending_a.verification_status == VerificationStatus.READY
    assert page.evaluate(NO_HORIZONTAL_SCROLL)


def test_figures_fit_a_phone_down_to_the_total(live_server, supervisor, pending_a, new_page):
    page = login(phone_page(new_page), live_server, supervisor)
    menu(page).get_by_role("link", name="核查进度").click()

    table = page.get_by_test_id("progress-table")
    first = table.locator("tbody tr").first
    expect(first.locator('td[data-label="应核查"]')).to_have_text("1")
    box = first.locator('td[data-label="应核查"]').bounding_box()
    assert box["x"] + box["width"] <= PHONE["width"], "the figures sit off the right edge"
    total = table.get_by_test_id("total-row")
    expect(total).to_contain_text("合计")
    expect(total.locator('td[data-label="待核查"]')).to_have_text("1")
    assert page.evaluate(NO_HORIZONTAL_SCROLL)


@pytest.mark.parametrize(("persona", "viewport"), [("collector_a", PHONE), ("banker_a", None)])
def test_the_tiles_keep_their_distance_from_the_campaign_below(
    live_server, request, new_page, persona, viewport
):
    CampaignFactory()
    page = login(new_page(viewport=viewport), live_server, request.getfixturevalue(persona))
    tiles = page.locator("main .grid").last.bounding_box()
    campaign = page.locator("main .card", has_text="2026年社保卡应发尽发").bounding_box()
    gap = campaign["y"] - (tiles["y"] + tiles["height"])
    assert gap >= 12, f"the tiles and the campaign card are {gap}px apart"
