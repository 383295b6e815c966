"""Fifty counters activate one card at the same moment: exactly one activation (issue 9).

Real parallel requests: Django's threaded live server (one thread and one database
connection per request), fifty clients each signed in through the login form with a
session of its own, all released together by a barrier. Only PostgreSQL holds concurrent
writers (SQLite takes one at a time), so only it is asked.
"""

import http.cookiejar
import json
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import connection
from django.test.testcases import LiveServerThread

from activation.models import Activation
from dayao_sscard.roles import Role
from issuance.models import Card, CardStatus, CustodyKind, LedgerEntry, LedgerEvent
from tests.factories import UserFactory

ATTEMPTS = 50
NUMBER = "M30000001"
PASSWORD = "pw-for-tests-1"

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent writers need PostgreSQL (SQLite serialises them)",
)


class WideBacklogServer(ThreadedWSGIServer):
    # Django's server queues 10 connections; fifty at once would be reset, not served.
    request_queue_size = 2 * ATTEMPTS


class CounterServerThread(LiveServerThread):
    server_class = WideBacklogServer


@pytest.fixture
def counter_server(transactional_db, settings):
    """A live server of our own: pytest-django's ``live_server`` keeps Django's backlog.
    Its address is an allowed host, as Django's own live server makes it."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
    thread = CounterServerThread("127.0.0.1", static_handler=lambda handler: handler)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield f"http://127.0.0.1:{thread.port}"
    thread.terminate()


class Counter:
    """One counter system: its own cookie jar, signed in as the README says."""

    def __init__(self, base: str, username: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.username = username

    def cookie(self, name: str) -> str:
        return next(c.value for c in self.jar if c.name == name)

    def sign_in(self) -> None:
        self.opener.open(f"{self.base}/accounts/login/", timeout=60).read()
        form = urllib.parse.urlencode(
            {
                "username": self.username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": self.cookie("csrftoken"),
                "next": f"/api/cards/{NUMBER}/",
            }
        ).encode()
        with self.opener.open(f"{self.base}/accounts/login/", data=form, timeout=60) as answer:
            assert json.loads(answer.read())["card_number"] == NUMBER

    def activate(self) -> tuple[int, dict]:
        body = json.dumps({"event": "activated", "face_to_face": True, "identity_checked": True})
        request = urllib.request.Request(
            f"{self.base}/api/cards/{NUMBER}/events/",
            data=body.encode(),
            method="POST",
            headers={"Content-Type": "application/json", "X-CSRFToken": self.cookie("csrftoken")},
        )
        try:
            with self.opener.open(request, timeout=120) as answer:
                return answer.status, _body(answer.read())
        except urllib.error.HTTPError as refused:
            return refused.code, _body(refused.read())


def _body(raw: bytes) -> dict:
    """The JSON answer; anything else (a 500 page) kept short, for the failure message."""
    try:
        return json.loads(raw)
    except ValueError:
        return {"detail": raw[:200].decode(errors="replace")}


@pytest.fixture
def clerks(branch_a):
    """Two clerks of the branch: fifty sessions between them, as at a busy counter."""
    return [
        UserFactory(
            username=f"counter_{n}", role=Role.BANK_STAFF, township=None, bank_branch=branch_a
        )
        for n in range(2)
    ]


def test_fifty_simultaneous_activations_record_exactly_one(
    counter_server, branch_a, person_a, clerks
):
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_connections")
        max_connections = int(cursor.fetchone()[0])
    assert max_connections > ATTEMPTS + 10, "PostgreSQL must allow 50 concurrent requests"
    card = Card.objects.create(
        person=person_a,
        bank=branch_a.bank,
        card_number=NUMBER,
        status=CardStatus.ISSUED,
        custody_kind=CustodyKind.HOLDER,
    )
    counters = [Counter(counter_server, clerks[n % 2].username) for n in range(ATTEMPTS)]
    barrier = threading.Barrier(ATTEMPTS)
    answers: list[tuple[int, dict]] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def attempt(counter: Counter) -> None:
        try:
            counter.sign_in()
            barrier.wait(timeout=120)
            answer = counter.activate()
            with lock:
                answers.append(answer)
        except BaseException as failure:  # reported below, with the thread's own error
            barrier.abort()
            with lock:
                failures.append(failure)

    threads = [threading.Thread(target=attempt, args=(c,)) for c in counters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    assert not failures, failures[:3]
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [409] * (ATTEMPTS - 1)
    refusals = {body["detail"] for status, body in answers if status == 409}
    assert refusals == {"当前状态为“已激活”，不能办理“激活金融功能”。"}
    assert Activation.objects.filter(card=card).count() == 1
    assert LedgerEntry.objects.filter(card=card, event=LedgerEvent.ACTIVATED).count() == 1
    assert Card.objects.get(pk=card.pk).status == CardStatus.ACTIVATED
