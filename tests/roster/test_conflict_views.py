"""The 采集冲突 page with every persona: who may resolve, who may only look, who gets 404."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from dayao_sscard.context_processors import navigation
from roster.models import CollectionConflict, ListKind, Person, SourceList

URL = reverse("roster:conflicts")


def person_url(person):
    return reverse("roster:conflict-person", args=[person.pk])


@pytest.fixture
def collection_list(county_admin):
    return SourceList.objects.create(
        kind=ListKind.COLLECTION_12333,
        source="12333采集6月",
        file_name="12333.xlsx",
        file_sha256="0" * 64,
        imported_by=county_admin,
    )


@pytest.fixture
def make_conflict(collection_list):
    def make(person, field="phone", incoming="13900001111"):
        return CollectionConflict.objects.create(
            person=person,
            source_list=collection_list,
            row_number=7,
            field=field,
            current_value=getattr(person, field),
            incoming_value=incoming,
        )

    return make


@pytest.fixture
def conflicts(make_conflict, person_a, person_a2, person_b):
    return {
        "a_phone": make_conflict(person_a),
        "a_job": make_conflict(person_a, "occupation", "教师"),
        "a2": make_conflict(person_a2, "occupation", "个体工商户"),
        "b": make_conflict(person_b, "occupation", "村医"),
    }


def names_on(response) -> set[str]:
    return {group.person.name for group in response.context["groups"]}


def post(client, person, choices=(), version=None):
    data = {f"choice_{conflict.pk}": value for conflict, value in dict(choices).items()}
    data["version"] = person.version if version is None else version
    return client.post(person_url(person), data)


@pytest.mark.django_db
class TestConflictList:
    def test_it_requires_login(self, client):
        response = client.get(URL)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))

    def test_clerk_sees_own_township_grouped_by_person(self, client, clerk_a, conflicts):
        client.force_login(clerk_a)
        response = client.get(URL)
        assert response.status_code == 200
        assert names_on(response) == {"张桂芬", "罗志华"}
        group = next(g for g in response.context["groups"] if g.person.name == "张桂芬")
        assert [(line.label, line.system_value, line.incoming_value) for line in group.lines] == [
            ("职业", "农民", "教师"),
            ("联系电话", "13887654321", "13900001111"),
        ]
        body = response.content.decode()
        assert "保留系统值" in body and "采用12333值" in body
        assert "13900001111" in body

    def test_collector_sees_only_own_village(self, client, collector_a, conflicts):
        client.force_login(collector_a)
        assert names_on(client.get(URL)) == {"张桂芬"}

    def test_supervisor_sees_the_county_with_phones_masked_and_no_choices(
        self, client, supervisor, conflicts
    ):
        client.force_login(supervisor)
        response = client.get(URL)
        assert names_on(response) == {"张桂芬", "罗志华", "杨春梅"}
        body = response.content.decode()
        assert "13900001111" not in body and "13887654321" not in body
        assert "139****1111" in body
        assert 'type="radio"' not in body

    def test_county_admin_filters_by_township(self, client, county_admin, conflicts):
        client.force_login(county_admin)
        assert names_on(client.get(URL, {"township": "532326102"})) == {"杨春梅"}

    def test_bank_staff_may_not_open_it(self, client, banker_a, conflicts):
        client.force_login(banker_a)
        assert client.get(URL).status_code == 403

    def test_resolved_and_deceased_are_not_listed(self, client, clerk_a, conflicts):
        CollectionConflict.objects.filter(person__name="罗志华").update(resolution="kept")
        Person.objects.filter(name="张桂芬").update(
            vital_status="deceased", death_date="2022-05-03"
        )
        client.force_login(clerk_a)
        response = client.get(URL)
        assert names_on(response) == set()
        assert "没有待处理的采集冲突" in response.content.decode()

    def test_nav_entry_for_those_who_resolve(self, clerk_a, collector_a, county_admin, supervisor):
        def entries(user):
            request = RequestFactory().get("/")
            request.user = user
            return navigation(request)["nav_items"]

        for user in (clerk_a, collector_a, county_admin):
            assert ("roster:conflicts", "采集冲突") in entries(user)
        assert ("roster:conflicts", "采集冲突") not in entries(supervisor)


@pytest.mark.django_db
class TestResolvingOnePerson:
    def test_clerk_takes_one_value_and_keeps_another(self, client, clerk_a, person_a, conflicts):
        client.force_login(clerk_a)
        response = post(
            client, person_a, {conflicts["a_phone"]: "taken", conflicts["a_job"]: "kept"}
        )
        assert response.status_code == 302 and response.url == URL
        person = Person.objects.get(pk=person_a.pk)
        assert (person.phone, person.occupation) == ("13900001111", "农民")
        assert person.version == person_a.version + 1
        assert set(CollectionConflict.objects.filter(person=person).values_list("resolution")) == {
            ("taken",),
            ("kept",),
        }

    def test_fields_left_unchosen_stay_pending(self, client, clerk_a, person_a, conflicts):
        client.force_login(clerk_a)
        post(client, person_a, {conflicts["a_job"]: "taken"})
        assert Person.objects.get(pk=person_a.pk).occupation == "教师"
        conflicts["a_phone"].refresh_from_db()
        assert conflicts["a_phone"].resolution == "pending"

    def test_nothing_chosen_is_explained(self, client, clerk_a, person_a, conflicts):
        client.force_login(clerk_a)
        response = post(client, person_a)
        assert response.status_code == 400
        assert "请至少为一个字段选择" in response.content.decode()

    def test_a_stale_version_shows_the_message_and_keeps_the_choices(
        self, client, clerk_a, person_a, conflicts
    ):
        Person.objects.filter(pk=person_a.pk).update(version=5, phone="13711112222")
        client.force_login(clerk_a)
        phone = conflicts["a_phone"]
        response = post(client, person_a, {phone: "taken"}, version=1)
        assert response.status_code == 409
        body = response.content.decode()
        assert "该人员信息已被他人修改，请核对最新内容后再保存。" in body
        assert f'name="choice_{phone.pk}" value="taken" checked' in body
        assert 'name="version" value="5"' in body
        assert "13711112222" in body  # today's system value, not the one seen at import
        phone.refresh_from_db()
        assert phone.resolution == "pending"
        assert Person.objects.get(pk=person_a.pk).phone == "13711112222"

    def test_supervisor_may_look_but_not_resolve(self, client, supervisor, person_a, conflicts):
        client.force_login(supervisor)
        assert client.get(person_url(person_a)).status_code == 200
        response = post(client, person_a, {conflicts["a_phone"]: "taken"})
        assert response.status_code == 403
        assert Person.objects.get(pk=person_a.pk).phone == "13887654321"

    def test_clerk_of_another_township_gets_404(self, client, clerk_b, person_a, conflicts):
        client.force_login(clerk_b)
        assert client.get(person_url(person_a)).status_code == 404
        response = post(client, person_a, {conflicts["a_phone"]: "taken"})
        assert response.status_code == 404
        conflicts["a_phone"].refresh_from_db()
        assert conflicts["a_phone"].resolution == "pending"

    def test_collector_of_another_village_gets_404(self, client, collector_a, person_a2, conflicts):
        client.force_login(collector_a)
        response = post(client, person_a2, {conflicts["a2"]: "taken"})
        assert response.status_code == 404

    def test_another_persons_conflict_cannot_ride_along(self, client, clerk_a, person_a, conflicts):
        client.force_login(clerk_a)
        response = post(client, person_a, {conflicts["b"]: "taken"})
        assert response.status_code == 400
        conflicts["b"].refresh_from_db()
        assert conflicts["b"].resolution == "pending"

    def test_collector_resolves_in_own_village(self, client, collector_a, person_a, conflicts):
        client.force_login(collector_a)
        response = post(client, person_a, {conflicts["a_job"]: "taken"})
        assert response.status_code == 302
        assert Person.objects.get(pk=person_a.pk).occupation == "教师"
