"""Browser tests: Chromium driven through Playwright against pytest-django's live server."""

import os
from pathlib import Path

import pytest

# Playwright's sync API keeps an asyncio event loop running in the main thread for the
# whole session. Django then refuses every synchronous ORM call made from that thread
# (fixtures, factories, assertions on the DB) with SynchronousOnlyOperation. The tests
# only touch the DB between browser steps, never concurrently with the loop's own work,
# so this check is safe to switch off for the browser tests.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DEFAULT_TIMEOUT_MS = 10_000
PASSWORD = "pw-for-tests-1"
E2E_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if E2E_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM_PATH).exists():
        pytest.skip(
            f"Chromium not found at {CHROMIUM_PATH}: install it (apt-get install chromium) "
            "or point CHROMIUM_PATH at a Chromium binary to run the browser tests."
        )
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=DEFAULT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM_PATH, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_page(browser):
    """Factory: ``new_page(viewport={...})`` opens a page in a fresh context (own cookies)."""
    contexts = []

    def make(*, viewport=None, **context_args):
        context = browser.new_context(
            locale="zh-CN",
            viewport=viewport or {"width": 1280, "height": 800},
            accept_downloads=True,
            **context_args,
        )
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(DEFAULT_TIMEOUT_MS)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


def login(page, live_server, user, password=PASSWORD):
    """Sign in through the login form and wait for the role's home page."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    page.get_by_role("button", name="登录").click()
    page.get_by_test_id("home-title").wait_for()
    return page
