"""The dashboards read from the replica when the installation has one; nothing else does,
and nothing is written there."""

from unittest import mock

import pytest
from django.db import connections
from django.urls import reverse

from dayao_sscard.replica import REPLICA, ReplicaRouter, reading_replica, reads_from_replica


@pytest.fixture
def replica(settings):
    """The "replica" alias, answered by the test database's own connection: the pages run
    with their reads sent to it, and ``routed`` lists where each read was sent."""
    settings.DATABASES = {**settings.DATABASES, REPLICA: {**settings.DATABASES["default"]}}
    connections.settings[REPLICA] = connections.settings["default"]
    setattr(connections._connections, REPLICA, connections["default"])
    routed = []
    choose = ReplicaRouter.db_for_read

    def db_for_read(self, model, **hints):
        routed.append(choose(self, model, **hints) or "default")
        return routed[-1] if routed[-1] == REPLICA else None

    with mock.patch.object(ReplicaRouter, "db_for_read", db_for_read):
        yield routed
    delattr(connections._connections, REPLICA)
    del connections.settings[REPLICA]


def test_without_a_replica_every_read_goes_to_the_primary():
    router = ReplicaRouter()
    assert reads_from_replica(lambda: router.db_for_read(None))() is None


def test_with_a_replica_only_reads_inside_a_dashboard_go_there(settings):
    settings.DATABASES = {**settings.DATABASES, REPLICA: {**settings.DATABASES["default"]}}
    router = ReplicaRouter()
    assert reads_from_replica(lambda: router.db_for_read(None))() == REPLICA
    assert reads_from_replica(lambda: router.db_for_write(None))() is None
    assert router.db_for_read(None) is None and not reading_replica()
    assert router.allow_migrate(REPLICA, "roster") is False
    assert router.allow_migrate("default", "roster") is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name, args, persona",
    [
        ("home", [], "county_admin"),
        ("home", [], "clerk_a"),
        ("supervision", [], "supervisor"),
        ("supervision-township", ["532326101"], "supervisor"),
    ],
)
def test_the_dashboards_answer_from_the_replica(client, request, replica, name, args, persona):
    client.force_login(request.getfixturevalue(persona))
    replica.clear()
    assert client.get(reverse(name, args=args)).status_code == 200
    # The session and the user are read from the primary, the page's figures from the replica.
    assert replica[0] == "default" and replica.count(REPLICA) > 3


@pytest.mark.django_db
def test_other_pages_read_the_primary(client, clerk_a, replica):
    client.force_login(clerk_a)
    replica.clear()
    assert client.get(reverse("roster:person-list")).status_code == 200
    assert replica and REPLICA not in replica
