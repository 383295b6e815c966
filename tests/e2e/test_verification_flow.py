"""Verification work in the browser: the collector's queue on a phone, photos, deceased
persons, the supervisor's read-only view, scope and concurrent edits."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from roster.models import Person, VerificationStatus, VitalStatus
from tests.factories import PersonFactory
from tests.roster.photos import photo_bytes

from .conftest import login, menu

PHONE = {"width": 375, "height": 740}
NO_HORIZONTAL_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth + 1"
PHOTO_LOADED = "img => img.complete && img.naturalWidth > 0"
# The browser tests run on the real clock: an ID card valid for ten more years, whatever today is.
VALID_UNTIL = datetime.date(datetime.date.today().year + 10, 4, 1)


def phone_page(new_page):
    return new_page(viewport=PHONE, is_mobile=True, has_touch=True)


def verify_url(live_server, person):
    return f"{live_server.url}/roster/persons/{person.pk}/verify/"


def detail_url(live_server, person):
    return f"{live_server.url}/roster/persons/{person.pk}/"


def assert_no_horizontal_scroll(page):
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth, location.pathname]"
    )
    assert page.evaluate(NO_HORIZONTAL_SCROLL), f"horizontal scroll at 375 px: {widths}"


def write_photo(tmp_path, name="photo.jpg", **kwargs):
    path = tmp_path / name
    path.write_bytes(photo_bytes(**kwargs))
    return path


def nav(page):
    return menu(page)


@pytest.fixture
def queue_a(village_a, village_a2):
    """Two persons of 大河社区 to verify (in queue order: 1组 before 2组), one of 龙街村委会."""
    first = PersonFactory(
        township=village_a.township,
        village=village_a,
        group_name="1组",
        name="陈丽华",
        card_class="no_card_info",
        occupation="",
        phone="",
    )
    second = PersonFactory(
        township=village_a.township,
        village=village_a,
        group_name="2组",
        name="杜国强",
        card_class="no_card_info",
    )
    other = PersonFactory(
        township=village_a2.township,
        village=village_a2,
        name="罗志华",
        card_class="no_card_info",
    )
    return first, second, other


@pytest.fixture
def pending_a(village_a):
    """One person of 大河社区 still to verify: no validity dates, no photo."""
    return PersonFactory(
        township=village_a.township, village=village_a, name="王秀英", card_class="no_card_info"
    )


def test_collector_verifies_the_queue_on_a_phone(
    live_server, collector_a, queue_a, new_page, tmp_path
):
    first, second, other = queue_a
    page = phone_page(new_page)
    login(page, live_server, collector_a)

    # On a phone the menu opens from the header's button; its links must be clickable.
    nav(page).get_by_role("link", name="核查队列").click()

    expect(page).to_have_url(f"{live_server.url}/roster/queue/")
    expect(page.get_by_role("heading", level=1)).to_have_text("信息核查队列")
    table = page.get_by_test_id("queue-table")
    expect(table.locator("tbody tr", has_text=first.name)).to_have_count(1)
    expect(table.locator("tbody tr", has_text=second.name)).to_have_count(1)
    expect(table).not_to_contain_text(other.name)
    expect(table).not_to_contain_text("龙街村委会")
    assert_no_horizontal_scroll(page)

    page.get_by_role("link", name="从第一位开始核查").click()

    expect(page).to_have_url(verify_url(live_server, first))
    expect(page.get_by_role("heading", level=1)).to_contain_text(first.name)
    problems = page.get_by_test_id("problems")
    expect(problems).to_contain_text("缺少职业")
    expect(problems).to_contain_text("缺少照片")
    assert_no_horizontal_scroll(page)

    form = page.get_by_test_id("verify-form")
    form.get_by_label("职业").fill("农民")
    form.get_by_label("证件有效期起").fill("2016-04-01")
    form.get_by_label("证件有效期止").fill(VALID_UNTIL.isoformat())
    form.get_by_label("联系电话").fill("13987651234")
    form.locator("input[type=file][name=photo_upload]").set_input_files(write_photo(tmp_path))
    assert_no_horizontal_scroll(page)

    page.get_by_role("button", name="保存并核查下一位").click()

    expect(page).to_have_url(verify_url(live_server, second))
    expect(page.get_by_role("heading", level=1)).to_contain_text(second.name)
    expect(page.locator(".messages li.success")).to_contain_text(f"已保存 {first.name}（待制卡）")
    assert_no_horizontal_scroll(page)

    first.refresh_from_db()
    assert first.verification_status == VerificationStatus.READY
    assert (first.occupation, first.phone) == ("农民", "13987651234")
    assert first.id_valid_from == datetime.date(2016, 4, 1)
    assert first.id_valid_until == VALID_UNTIL
    assert first.photo and first.photo_thumbnail
    assert first.verified_by == collector_a

    with page.expect_response(re.compile(r"/photo/thumb/$")) as thumb_response:
        page.goto(detail_url(live_server, first))
    assert thumb_response.value.status == 200, "the thumbnail of the saved photo is not served"
    expect(page.get_by_role("heading", level=1)).to_contain_text(first.name)
    thumb = page.get_by_role("img", name="照片")
    expect(thumb).to_be_visible()
    page.wait_for_function(PHOTO_LOADED, arg=thumb.element_handle())
    assert thumb.evaluate("img => img.naturalWidth") > 0
    assert_no_horizontal_scroll(page)


def test_landscape_photo_is_refused_and_nothing_is_saved(
    live_server, clerk_a, pending_a, page, tmp_path
):
    before = Person.objects.get(pk=pending_a.pk)
    login(page, live_server, clerk_a)
    page.goto(verify_url(live_server, pending_a))

    form = page.get_by_test_id("verify-form")
    form.get_by_label("职业").fill("个体工商户")
    form.get_by_label("证件有效期起").fill("2016-04-01")
    form.get_by_label("证件有效期止").fill(VALID_UNTIL.isoformat())
    landscape = write_photo(tmp_path, "landscape.jpg", width=800, height=600)
    form.locator("input[type=file][name=photo_upload]").set_input_files(landscape)
    page.get_by_role("button", name="仅保存").click()

    photo_error = page.locator(".errorlist", has_text="竖版证件照")
    expect(photo_error).to_be_visible()
    expect(photo_error).to_contain_text("800×600")
    expect(page.locator(".messages li.success")).to_have_count(0)
    expect(page.get_by_text("暂无照片")).to_be_visible()

    after = Person.objects.get(pk=pending_a.pk)
    assert after.version == before.version
    assert after.occupation == before.occupation == "农民"
    assert after.id_valid_from is None and after.id_valid_until is None
    assert not after.photo and not after.photo_thumbnail
    assert after.verification_status == VerificationStatus.PENDING
    assert after.verified_at is None


def test_clerk_records_and_undoes_a_death(live_server, clerk_a, pending_a, page):
    death_date = datetime.date.today() - datetime.timedelta(days=30)
    login(page, live_server, clerk_a)
    page.goto(detail_url(live_server, pending_a))
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(pending_a.name)
    expect(heading.locator(".badge.deceased")).to_have_count(0)

    page.locator("details summary", has_text="登记死亡").click()
    page.get_by_label("死亡日期").fill(death_date.isoformat())
    page.get_by_label("信息来源").fill("村委会报告")
    page.get_by_role("button", name="确认登记死亡").click()

    expect(heading.locator(".badge.deceased")).to_have_text("已死亡")
    expect(page.locator(".messages li.success")).to_contain_text(f"已登记 {pending_a.name} 死亡")
    expect(page.get_by_role("link", name="核查/采集信息")).to_have_count(0)
    pending_a.refresh_from_db()
    assert pending_a.vital_status == VitalStatus.DECEASED
    assert (pending_a.death_date, pending_a.death_source) == (death_date, "村委会报告")

    nav(page).get_by_role("link", name="核查队列").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("信息核查队列")
    expect(page.get_by_test_id("queue-table")).to_contain_text("没有待核查的人员")
    expect(page.get_by_test_id("queue-table")).not_to_contain_text(pending_a.name)

    page.goto(detail_url(live_server, pending_a))
    page.locator("details summary", has_text="撤销死亡登记").click()
    undo_form = page.locator("form[action$='/deceased/undo/']")
    reason = undo_form.get_by_label("撤销原因")
    undo_form.get_by_role("button", name="撤销死亡登记").click()

    # The browser refuses to submit without a reason: same page, nothing changed.
    assert reason.evaluate("el => el.validity.valueMissing")
    assert reason.evaluate("el => el.validationMessage") != ""
    expect(page).to_have_url(detail_url(live_server, pending_a))
    expect(heading.locator(".badge.deceased")).to_have_text("已死亡")
    pending_a.refresh_from_db()
    assert pending_a.vital_status == VitalStatus.DECEASED

    reason.fill("误报，本人健在，已电话核实")
    undo_form.get_by_role("button", name="撤销死亡登记").click()

    expect(page.locator(".messages li.success")).to_contain_text("已撤销死亡登记")
    expect(heading).to_contain_text(pending_a.name)
    expect(heading.locator(".badge.deceased")).to_have_count(0)
    expect(page.get_by_role("link", name="核查/采集信息")).to_be_visible()
    pending_a.refresh_from_db()
    assert pending_a.vital_status == VitalStatus.ALIVE
    assert pending_a.death_date is None


def test_supervisor_sees_progress_but_cannot_verify(
    live_server, supervisor, pending_a, village_b, page
):
    PersonFactory(
        township=village_b.township, village=village_b, name="杨春梅", card_class="card_failed"
    )
    login(page, live_server, supervisor)

    expect(nav(page).get_by_role("link", name="核查队列")).to_have_count(0)
    nav(page).get_by_role("link", name="核查进度").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("信息核查进度")
    table = page.get_by_test_id("progress-table")
    jinbi = table.locator("tbody tr", has=page.locator("td", has_text=re.compile("^金碧镇$")))
    shiyang = table.locator("tbody tr", has=page.locator("td", has_text=re.compile("^石羊镇$")))
    expect(jinbi).to_have_count(1)
    expect(jinbi).to_contain_text("大河社区")
    expect(shiyang).to_have_count(1)
    expect(shiyang).to_contain_text("石羊社区")
    expect(table.locator("tbody tr", has_text="合计")).to_have_count(1)

    response = page.goto(verify_url(live_server, pending_a))

    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("无权访问")
    expect(page.get_by_test_id("verify-form")).to_have_count(0)


def test_collector_cannot_open_a_person_of_another_village(live_server, collector_a, queue_a, page):
    other = queue_a[2]
    login(page, live_server, collector_a)

    response = page.goto(verify_url(live_server, other))

    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("未找到")
    expect(page.locator("main")).to_contain_text("不在您的管辖范围内")
    expect(page.locator("main")).not_to_contain_text(other.name)


def test_concurrent_edit_keeps_the_second_editors_input(
    live_server, collector_a, clerk_a, pending_a, new_page
):
    collector = login(phone_page(new_page), live_server, collector_a)
    clerk = login(new_page(), live_server, clerk_a)
    collector.goto(verify_url(live_server, pending_a))
    clerk.goto(verify_url(live_server, pending_a))

    collector_form = collector.get_by_test_id("verify-form")
    collector_form.get_by_label("职业").fill("务农")
    collector.get_by_role("button", name="仅保存").click()
    expect(collector.locator(".messages li.success")).to_contain_text(f"已保存 {pending_a.name}")

    clerk_form = clerk.get_by_test_id("verify-form")
    clerk_form.get_by_label("职业").fill("个体工商户")
    with clerk.expect_response(lambda r: r.request.method == "POST") as posted:
        clerk.get_by_role("button", name="仅保存").click()

    assert posted.value.status == 409
    expect(clerk.locator(".messages li.error")).to_contain_text("已被他人修改")
    expect(clerk_form.get_by_label("职业")).to_have_value("个体工商户")
    pending_a.refresh_from_db()
    assert pending_a.occupation == "务农"
    assert pending_a.verified_by == collector_a

    # Having seen the conflict, the clerk can save their version on purpose.
    clerk.get_by_role("button", name="仅保存").click()
    expect(clerk.locator(".messages li.success")).to_contain_text(f"已保存 {pending_a.name}")
    expect(clerk_form.get_by_label("职业")).to_have_value("个体工商户")
    pending_a.refresh_from_db()
    assert pending_a.occupation == "个体工商户"
    assert pending_a.verified_by == clerk_a
