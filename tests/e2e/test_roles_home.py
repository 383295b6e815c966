"""Each role signs in and lands on its own home page."""

import pytest
from playwright.sync_api import expect

from dayao_sscard.roles import Role

from .conftest import login

HOMES = [
    # persona fixture, exact home title, role label in the header
    ("county_admin", "全县工作总览（县人社局管理员）", Role.COUNTY_ADMIN.label),
    ("supervisor", "全县进度督导（只读）", Role.COUNTY_SUPERVISOR.label),
    ("clerk_a", "金碧镇社保卡工作台", Role.TOWNSHIP_STAFF.label),
    ("collector_a", "大河社区信息采集", Role.VILLAGE_COLLECTOR.label),
    ("banker_a", "农信社金碧信用社柜面工作台", Role.BANK_STAFF.label),
]


@pytest.mark.parametrize(("persona", "title", "role_label"), HOMES, ids=[h[0] for h in HOMES])
def test_each_role_sees_its_home(live_server, request, page, persona, title, role_label):
    user = request.getfixturevalue(persona)

    login(page, live_server, user)

    expect(page.get_by_test_id("home-title")).to_have_text(title)
    header = page.locator("header.top")
    expect(header.get_by_test_id("current-user")).to_have_text(user.username)
    expect(header.locator(".who")).to_contain_text(role_label)


def test_only_county_admin_has_the_reference_data_menu(
    live_server, county_admin, supervisor, new_page
):
    admin_page = login(new_page(), live_server, county_admin)
    expect(admin_page.locator("header.top nav")).to_contain_text("基础数据")

    supervisor_page = login(new_page(), live_server, supervisor)
    nav = supervisor_page.locator("header.top nav")
    expect(nav).to_contain_text("人员查询")
    expect(nav).not_to_contain_text("基础数据")


def test_wrong_password_is_refused(live_server, clerk_a, page):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", clerk_a.username)
    page.fill("#id_password", "not-the-password")
    page.get_by_role("button", name="登录").click()

    expect(page.locator(".errorlist")).to_contain_text("用户名或密码不正确")
    expect(page.get_by_test_id("home-title")).to_have_count(0)


def test_logout_returns_to_login_page(live_server, clerk_a, page):
    login(page, live_server, clerk_a)

    page.get_by_role("button", name="退出").click()

    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    expect(page.locator("#id_username")).to_be_visible()
    expect(page.get_by_test_id("current-user")).to_have_count(0)
    # The session really ended: home sends us back to the login form.
    page.goto(f"{live_server.url}/")
    expect(page.locator("#id_password")).to_be_visible()
