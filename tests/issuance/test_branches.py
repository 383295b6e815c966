"""Which townships a branch serves is set in the admin; one branch of a bank per township."""

import pytest
from django.urls import reverse

from dayao_sscard.models import AuditEvent
from issuance.models import BankBranch, BranchTownship


def branch_form(bank, name, *townships, total=None):
    data = {
        "bank": bank.pk,
        "name": name,
        "address": "",
        "served-TOTAL_FORMS": str(total or len(townships)),
        "served-INITIAL_FORMS": "0",
        "served-MIN_NUM_FORMS": "0",
        "served-MAX_NUM_FORMS": "1000",
    }
    for i, township in enumerate(townships):
        data[f"served-{i}-township"] = township.pk
    return data


@pytest.mark.django_db
class TestServedTownshipsInTheAdmin:
    url = staticmethod(lambda: reverse("admin:issuance_bankbranch_add"))

    def test_a_branch_is_set_up_serving_two_townships(
        self, client, county_admin, township_a, township_b
    ):
        from tests.factories import BankFactory

        bank = BankFactory(name="中国农业银行", short_name="农行")
        client.force_login(county_admin)
        response = client.post(self.url(), branch_form(bank, "大姚支行", township_a, township_b))
        assert response.status_code == 302, response.content.decode()[:2000]
        branch = BankBranch.objects.get(name="大姚支行")
        assert set(branch.townships.all()) == {township_a, township_b}
        assert set(BranchTownship.objects.values_list("bank_id", flat=True)) == {bank.pk}
        assert AuditEvent.objects.filter(action="issuance.branchtownship.created").count() == 2

    def test_a_township_already_served_by_the_bank_is_refused(
        self, client, county_admin, branch_a, township_a
    ):
        client.force_login(county_admin)
        response = client.post(self.url(), branch_form(branch_a.bank, "金碧二部", township_a))
        assert response.status_code == 200
        assert "一个乡镇只能由同一银行的一个网点负责" in response.content.decode()
        assert not BankBranch.objects.filter(name="金碧二部").exists()

    def test_only_the_county_administrator(self, client, clerk_a, township_a, branch_a):
        client.force_login(clerk_a)
        response = client.post(self.url(), branch_form(branch_a.bank, "x", township_a))
        assert response.status_code in (302, 403)
        assert not BankBranch.objects.filter(name="x").exists()
