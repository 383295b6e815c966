"""Browser tests: Chromium driven through Playwright against pytest-django's live server."""

import os
import threading
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
    """Sign in through the login form and wait for the role's home page; a county
    administrator also types the phone's code (enrolled beforehand if need be)."""
    from dayao_sscard import two_factor
    from tests.two_factor import enrolled_device, next_code

    device = enrolled_device(user) if two_factor.required_for(user) else None
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    page.get_by_role("button", name="登录").click()
    if device is not None:
        page.get_by_test_id("login-verify-form").wait_for()
        page.fill("#id_code", next_code(device))
        page.get_by_role("button", name="登录").click()
    page.get_by_test_id("home-title").wait_for()
    return page


def menu(page):
    """The main menu; on a phone it first opens from the header's 菜单 button."""
    button = page.get_by_test_id("menu-button")
    if button.is_visible() and button.get_attribute("aria-expanded") != "true":
        button.click()
    return page.locator("header.top nav")


class WorkerGate:
    """Lets a test hold queued tasks back, e.g. to look at a job page before its task runs."""

    def __init__(self, timeout: float):
        self._open = threading.Event()
        self._open.set()
        self._timeout = timeout

    def hold(self) -> None:
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def wait(self, **_signal_kwargs) -> None:
        # Runs in the worker thread (task_prerun) before each task. Never blocks for good:
        # a test that forgets to release only loses time, it cannot hang the worker.
        self._open.wait(self._timeout)


@pytest.fixture
def live_worker(settings, live_server):
    """A real Celery worker, in a thread of this process, for the duration of one test.

    The root conftest runs tasks eagerly (inside the request that queues them), so a job
    page is finished before it is ever shown. With this fixture the request only queues
    the task on an in-memory broker and the worker thread runs it, as in production; the
    page then follows the job through /jobs/<id>/status/ like a user's browser does.

    The worker thread opens its own database connection and sees what the live server
    committed: the test database is a real one on PostgreSQL, a file on SQLite (settings'
    TEST NAME; a shared-cache in-memory database would be seen by every connection of the
    process as well). Celery's Django fix-up closes the worker's connection after each
    task, so the database can be flushed and dropped afterwards.

    Yields a ``WorkerGate``: ``hold()`` keeps queued tasks waiting until ``release()``.
    The Celery app's configuration and broker pools are restored afterwards.
    """
    from celery import signals
    from celery.contrib.testing.worker import start_worker

    from dayao_sscard.celery import app

    overrides = {
        "task_always_eager": False,
        "broker_url": "memory://",
        "broker_transport_options": {},  # settings hold the file-system broker's folders
    }
    missing = object()
    saved = {key: app.conf.changes.get(key, missing) for key in overrides}

    def keep_logging_as_is(**_kwargs):
        """With a receiver for setup_logging, Celery leaves logging (pytest's too) alone."""

    def forget_broker_pools():
        # Even an eager task takes a producer from a pool; the app caches the pool of the
        # broker it first used. Forget it (without closing it: kombu keeps the pools in a
        # process-wide registry by broker, and the eager tests reuse the one they had) so
        # the app looks the pool up again for the broker configured now.
        app._pool = None
        app.amqp._producer_pool = None

    gate = WorkerGate(timeout=60)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.update(overrides)
    forget_broker_pools()
    signals.setup_logging.connect(keep_logging_as_is, weak=False)
    signals.task_prerun.connect(gate.wait, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            yield gate
            gate.release()
    finally:
        gate.release()
        signals.task_prerun.disconnect(gate.wait)
        signals.setup_logging.disconnect(keep_logging_as_is)
        for key, value in saved.items():
            if value is missing:
                app.conf.changes.pop(key, None)
            else:
                app.conf.changes[key] = value
        forget_broker_pools()
