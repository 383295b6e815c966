import pytest
from django.urls import reverse

from issuance.services import card_create
from tests.factories import BankFactory


def url(id_number):
    return reverse("api:person-detail", args=[id_number])


@pytest.mark.django_db
class TestPersonApi:
    def test_clerk_in_scope_gets_the_person_masked(self, client, clerk_a, person_a):
        client.force_login(clerk_a)
        response = client.get(url(person_a.id_number))
        assert response.status_code == 200
        data = response.json()
        assert data["name"] == person_a.name
        assert data["id_number"] == person_a.masked_id_number
        assert data["phone"] == "138****4321"
        assert data["township"] == {"code": "532326101", "name": "金碧镇"}
        assert data["card"] is None

    def test_lowercase_and_padded_numbers_are_normalised(self, client, clerk_a, person_a):
        client.force_login(clerk_a)
        assert client.get(url(" " + person_a.id_number.lower())).status_code == 200

    def test_clerk_of_another_township_gets_404(self, client, clerk_b, person_a):
        client.force_login(clerk_b)
        response = client.get(url(person_a.id_number))
        assert response.status_code == 404
        assert "不在您的管辖范围内" in response.json()["detail"]

    def test_anonymous_gets_401_in_json(self, client, person_a):
        response = client.get(url(person_a.id_number))
        assert response.status_code == 401
        assert response.json() == {"detail": "请先登录（会话已过期或尚未登录）。"}

    def test_supervisor_may_read(self, client, supervisor, person_a):
        client.force_login(supervisor)
        assert client.get(url(person_a.id_number)).json()["name"] == person_a.name

    def test_bank_staff_see_only_holders_of_their_branch(
        self, client, banker_a, branch_a, county_admin, person_a, person_a2
    ):
        card_create(person=person_a, bank=branch_a.bank, acting_user=county_admin)
        client.force_login(banker_a)
        data = client.get(url(person_a.id_number)).json()
        assert data["card"]["status"] == "applied"
        assert client.get(url(person_a2.id_number)).status_code == 404

    def test_unknown_or_invalid_numbers_get_404(self, client, county_admin):
        client.force_login(county_admin)
        assert client.get(url("532326199001011234")).status_code == 404
        assert client.get(url("not-a-number")).status_code == 404

    def test_writes_are_not_allowed(self, client, county_admin, person_a):
        client.force_login(county_admin)
        assert client.post(url(person_a.id_number)).status_code == 405
        assert BankFactory._meta.model.objects.count() == 0
