"""One scoping method for every model that holds personal data."""

import pytest

from activation.models import ElectronicCardSigning
from dayao_sscard.models import AuditEvent, User
from issuance.models import Card, LedgerEntry
from issuance.services import card_create
from roster.models import Person


@pytest.fixture
def cards(county_admin, branch_a, branch_b, person_a, person_a2, person_b):
    return {
        p.pk: card_create(person=p, bank=branch.bank, branch=branch, acting_user=county_admin)
        for p, branch in ((person_a, branch_a), (person_a2, branch_b), (person_b, branch_b))
    }


@pytest.mark.django_db
@pytest.mark.parametrize("model", [Person, Card, LedgerEntry])
def test_each_role_reaches_exactly_its_scope(
    model,
    cards,
    county_admin,
    supervisor,
    clerk_a,
    clerk_b,
    collector_a,
    banker_a,
    person_a,
    person_a2,
    person_b,
):
    def persons_seen(user):
        rows = model.objects.for_user(user)
        if model is Person:
            return set(rows.values_list("pk", flat=True))
        if model is Card:
            return set(rows.values_list("person_id", flat=True))
        return set(rows.values_list("card__person_id", flat=True))

    everyone = {person_a.pk, person_a2.pk, person_b.pk}
    assert persons_seen(county_admin) == everyone
    assert persons_seen(supervisor) == everyone
    assert persons_seen(clerk_a) == {person_a.pk, person_a2.pk}
    assert persons_seen(clerk_b) == {person_b.pk}
    assert persons_seen(collector_a) == {person_a.pk}
    # The bank sees holders of cards at its own branch, wherever they live.
    assert persons_seen(banker_a) == {person_a.pk}


@pytest.mark.django_db
def test_to_many_paths_do_not_repeat_rows(cards, county_admin, banker_a, person_a):
    ElectronicCardSigning.objects.create(
        person=person_a, signed_at="2026-01-01T00:00:00+08:00", recorded_by=county_admin
    )
    assert ElectronicCardSigning.objects.for_user(banker_a).count() == 1
    assert Person.objects.for_user(banker_a).count() == 1


@pytest.mark.django_db
def test_anonymous_and_inactive_users_see_nothing(person_a, clerk_a):
    from django.contrib.auth.models import AnonymousUser

    assert not Person.objects.for_user(AnonymousUser()).exists()
    assert not Person.objects.for_user(None).exists()
    User.objects.filter(pk=clerk_a.pk).update(is_active=False)
    clerk_a.refresh_from_db()
    assert not Person.objects.for_user(clerk_a).exists()


@pytest.mark.django_db
def test_audit_log_is_scoped_by_township(cards, clerk_a, clerk_b, supervisor):
    assert AuditEvent.objects.for_user(supervisor).count() == AuditEvent.objects.count()
    townships = set(AuditEvent.objects.for_user(clerk_a).values_list("township", flat=True))
    assert townships == {clerk_a.township_id}
