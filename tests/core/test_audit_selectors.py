"""The audit log's reads ask the log's own permission, as its page does."""

import pytest

from dayao_sscard.audit import audit_record
from dayao_sscard.selectors import audit_actors, audit_list

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(clerk_a, person_a):
    return audit_record(actor=clerk_a, action="roster.person.updated", obj=person_a)


def test_a_reader_of_the_log_gets_its_events_and_its_actors(supervisor, clerk_a, event):
    assert list(audit_list(user=supervisor)) == [event]
    assert clerk_a in audit_actors(user=supervisor)


def test_the_township_clerk_whose_event_it_is_gets_none(clerk_a, event):
    assert not audit_list(user=clerk_a).exists()
    assert not audit_actors(user=clerk_a).exists()


def test_a_deactivated_supervisor_gets_none(supervisor, event):
    supervisor.is_active = False
    supervisor.save()
    assert not audit_list(user=supervisor).exists()
    assert not audit_actors(user=supervisor).exists()
