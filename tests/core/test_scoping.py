"""One scoping method for every model that holds personal data."""

import pytest

from activation.models import ElectronicCardSigning
from dayao_sscard.models import AuditEvent, User
from dayao_sscard.roles import Role
from issuance.models import BranchTownship, Card, LedgerEntry
from issuance.services import card_create
from roster.models import Person
from tests.factories import BankBranchFactory, BankFactory, UserFactory


@pytest.fixture
def cards(county_admin, branch_a, branch_b, person_a, person_a2, person_b):
    return {
        p.pk: card_create(person=p, bank=branch.bank, acting_user=county_admin)
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
    # The branch answers for its bank's cards of the townships it serves (A, not B).
    assert persons_seen(banker_a) == {person_a.pk, person_a2.pk}


@pytest.mark.django_db
def test_to_many_paths_do_not_repeat_rows(cards, county_admin, banker_a, person_a):
    ElectronicCardSigning.objects.create(
        person=person_a, signed_at="2026-01-01T00:00:00+08:00", recorded_by=county_admin
    )
    assert ElectronicCardSigning.objects.for_user(banker_a).count() == 1
    assert Person.objects.for_user(banker_a).count() == 2


@pytest.mark.django_db
class TestTheBranchThatAnswersForACard:
    """A card of bank B for a person of township T belongs to B's branch serving T."""

    @pytest.fixture
    def other_bank_card(self, county_admin, person_a):
        return card_create(
            person=person_a,
            bank=BankFactory(name="中国农业银行", short_name="农行"),
            acting_user=county_admin,
        )

    def test_another_banks_branch_in_the_same_township_sees_nothing(
        self, other_bank_card, township_a
    ):
        rival = BankBranchFactory(
            bank=BankFactory(name="中国邮政储蓄银行", short_name="邮储"), name="金碧营业所"
        )
        clerk = UserFactory(role=Role.BANK_STAFF, township=None, bank_branch=rival)
        assert not Card.objects.for_user(clerk).exists()
        assert not Person.objects.for_user(clerk).exists()

    def test_a_branch_set_up_after_the_card_answers_for_it(
        self, other_bank_card, township_a, township_b, person_a
    ):
        branch = BankBranchFactory(
            bank=other_bank_card.bank,
            name="大姚支行",
            township=township_b,
            serves=[township_a, township_b],
        )
        clerk = UserFactory(role=Role.BANK_STAFF, township=None, bank_branch=branch)
        assert list(Card.objects.for_user(clerk)) == [other_bank_card]
        assert list(Person.objects.for_user(clerk)) == [person_a]
        assert LedgerEntry.objects.for_user(clerk).count() == 1

    def test_a_branch_serving_no_township_sees_nothing(self, other_bank_card):
        branch = BankBranchFactory(bank=other_bank_card.bank, name="县城支行", serves=[])
        clerk = UserFactory(role=Role.BANK_STAFF, township=None, bank_branch=branch)
        assert not Card.objects.for_user(clerk).exists()

    def test_one_branch_of_a_bank_per_township(self, branch_a, township_a):
        from django.db import IntegrityError, transaction

        second = BankBranchFactory(bank=branch_a.bank, name="金碧二部", serves=[])
        with pytest.raises(IntegrityError), transaction.atomic():
            BranchTownship.objects.create(branch=second, township=township_a, bank=branch_a.bank)


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
