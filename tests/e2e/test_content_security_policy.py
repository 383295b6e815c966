"""The Content-Security-Policy against the application's own pages: every role opens every
page of its menu (and a person's page, the reference-data admin) with no violation, and a
county administrator signs in with a phone's code, enrolling first."""

import base64
import time

import pytest
from django.urls import reverse
from django_otp.oath import totp
from playwright.sync_api import expect

from dayao_sscard.models import AuditEvent
from roster.models import Person
from tests.dashboard.supervisiondata import build_county
from tests.factories import CampaignFactory

from .conftest import PASSWORD, login

# Playwright's init script runs before the page's own and is not subject to its policy.
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " +
    (e.sourceFile || "") + ":" + e.lineNumber + " " + (e.sample || ""));
});
"""


def watch(page) -> list[str]:
    """Violations reported by the page (the event) and by Chromium's console; JS errors."""
    found: list[str] = []
    page.add_init_script(LISTEN)
    page.on(
        "console",
        lambda m: (
            ("Content Security Policy" in m.text or m.type == "error")
            and found.append(f"console: {m.text}")
        ),
    )
    page.on("pageerror", lambda error: found.append(f"error: {error}"))
    return found


def violations_on(page, found: list[str]) -> list[str]:
    page.wait_for_load_state("load")
    reported = page.evaluate("window.__violations || []")
    return [f"{page.url}: {v}" for v in [*found, *reported]]


@pytest.fixture
def county(transactional_db):
    CampaignFactory()
    return build_county()


ROLES = ["county_admin", "supervisor", "clerk_a", "collector_a", "banker_a"]


@pytest.mark.parametrize("persona", ROLES)
def test_every_main_page_keeps_to_the_policy(live_server, new_page, request, county, persona):
    user = request.getfixturevalue(persona)
    page = new_page()
    found = watch(page)
    login(page, live_server, user)
    links = page.locator("header.top nav a")
    hrefs = [links.nth(n).get_attribute("href") for n in range(links.count())]
    assert len(hrefs) >= 3
    person = Person.objects.for_user(user).order_by("pk").first()
    if person is not None:
        hrefs.append(reverse("roster:person-detail", args=[person.pk]))
    if persona == "county_admin":
        hrefs += ["/admin/dayao_sscard/user/", f"/admin/dayao_sscard/user/{user.pk}/change/"]

    problems = []
    for href in hrefs:
        response = page.goto(f"{live_server.url}{href}")
        assert response.status == 200, href
        assert "script-src 'self'" in response.headers["content-security-policy"]
        if page.locator("[data-chart]").count():
            # The charts draw, and their tooltips (ECharts writes HTML) show on hover.
            expect(page.locator("[data-chart]").first).to_have_attribute("data-drawn", "1")
            box = page.locator("[data-chart]").first.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.wait_for_timeout(300)
        problems += violations_on(page, found)
        found.clear()
    assert problems == []


def code_from_secret(secret: str) -> str:
    key = base64.b32decode(secret.replace(" ", ""))
    return f"{totp(key):06d}"


def test_a_county_administrator_enrols_a_phone_then_signs_in_with_its_code(
    live_server, new_page, county_admin
):
    page = new_page()
    found = watch(page)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", county_admin.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()

    # First login: the QR code and the key to type, then a first code.
    expect(page.get_by_role("heading", level=1)).to_have_text("绑定手机验证器")
    expect(page.get_by_test_id("otp-qr")).to_be_visible()
    assert page.get_by_test_id("otp-qr").evaluate("img => img.naturalWidth") > 0
    secret = page.get_by_test_id("otp-secret").inner_text()
    page.fill("#id_code", "000000")
    page.get_by_role("button", name="绑定并登录").click()
    expect(page.locator(".errorlist")).to_contain_text("验证码不正确")
    time.sleep(1.1)  # django-otp waits a second after a wrong code
    page.fill("#id_code", code_from_secret(secret))
    page.get_by_role("button", name="绑定并登录").click()
    expect(page.get_by_test_id("home-title")).to_have_text("全县工作总览（县人社局管理员）")
    assert AuditEvent.objects.filter(action="accounts.user.otp_enrolled").count() == 1
    problems = violations_on(page, found)

    # Next login: the password alone opens nothing.
    page.get_by_role("button", name="退出").click()
    page.fill("#id_username", county_admin.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("输入验证码")
    page.goto(f"{live_server.url}/")
    expect(page.locator("#id_password")).to_be_visible()

    page.fill("#id_username", county_admin.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    # A code is taken once: wait for the phone's next one.
    time.sleep(30 - time.time() % 30 + 0.5)
    page.fill("#id_code", code_from_secret(secret))
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("home-title")).to_be_visible()
    problems += violations_on(page, found)
    assert problems == []
