import pytest
from django.urls import reverse

from dayao_sscard.audit import audit_record_many, snapshot
from dayao_sscard.models import AuditEvent
from roster.models import CardClass, ListKind, Person
from tests.factories import CampaignFactory, classify, put_on_list


@pytest.fixture
def campaign(db):
    return CampaignFactory()


@pytest.mark.django_db
class TestHome:
    @pytest.mark.parametrize(
        ("persona", "title"),
        [
            ("county_admin", "全县工作总览"),
            ("supervisor", "全县进度督导"),
            ("clerk_a", "金碧镇社保卡工作台"),
            ("collector_a", "大河社区信息采集"),
            ("banker_a", "金碧信用社柜面工作台"),
        ],
    )
    def test_each_role_has_its_home(self, client, request, persona, title, campaign, person_a):
        client.force_login(request.getfixturevalue(persona))
        body = client.get(reverse("home")).content.decode()
        assert title in body
        assert "数据比对" in body

    def test_township_clerk_sees_only_own_township_row(self, client, clerk_a, person_a, person_b):
        put_on_list(person_a, person_b)
        client.force_login(clerk_a)
        rows = client.get(reverse("home")).context["township_rows"]
        assert [(r["township"].code, r["listed"]) for r in rows] == [("532326101", 1)]

    def test_county_sees_all_twelve_townships(self, client, supervisor, person_a, person_b):
        put_on_list(person_a, person_b)
        client.force_login(supervisor)
        rows = client.get(reverse("home")).context["township_rows"]
        assert len(rows) == 12
        assert sum(r["listed"] for r in rows) == 2

    def test_the_table_shows_the_comparisons_figures_for_the_same_persons(
        self, client, supervisor, person_a, person_a2
    ):
        """Someone named only on a subsidy list is no listed person on either page."""
        put_on_list(person_a)
        put_on_list(person_a2, kind=ListKind.SUBSIDY, source="耕地地力保护补贴")
        classify(person_a, CardClass.CARD_MADE)
        classify(person_a2, CardClass.CARD_MADE)
        client.force_login(supervisor)
        home = client.get(reverse("home")).context["township_rows"][0]
        comparison = client.get(reverse("roster:comparison")).context["report"]["townships"][0]
        keys = ("listed", "card_made", "no_card_info", "disagreement", "deceased")
        assert {k: home[k] for k in keys} == {k: comparison[k] for k in keys}
        assert (home["listed"], home["card_made"]) == (1, 1)
        listed_made = client.get(
            reverse("roster:person-list"),
            {"township": "532326101", "on_list": "unissued", "card_class": "card_made"},
        )
        assert listed_made.context["page"].paginator.count == home["card_made"]

    def test_anonymous_goes_to_login(self, client):
        assert client.get(reverse("home")).status_code == 302


@pytest.mark.django_db
class TestAuditLog:
    url = reverse("audit-list")

    def test_county_admin_and_supervisor_may_read(self, client, county_admin, supervisor, person_a):
        audit_record_many(
            actor=county_admin,
            action="roster.person.bulk_test",
            changes=[(person_a, {"phone": "1"}, {"phone": "2"})],
        )
        for user in (county_admin, supervisor):
            client.force_login(user)
            response = client.get(self.url, {"action": "roster.person"})
            assert response.status_code == 200
            assert [e.action for e in response.context["page"]] == ["roster.person.bulk_test"]

    def test_township_staff_may_not(self, client, clerk_a):
        client.force_login(clerk_a)
        assert client.get(self.url).status_code == 403

    def test_bank_staff_may_not(self, client, banker_a):
        client.force_login(banker_a)
        assert client.get(self.url).status_code == 403


@pytest.mark.django_db
def test_bulk_audit_writes_one_row_per_object(county_admin, person_a, person_a2, person_b):
    persons = list(Person.objects.all())
    changes = [(p, snapshot(p, ["phone"]), {"phone": "13900000000"}) for p in persons]
    assert audit_record_many(actor=county_admin, action="roster.person.bulk", changes=changes) == 3
    events = AuditEvent.objects.filter(action="roster.person.bulk")
    assert {e.object_id for e in events} == {str(p.pk) for p in persons}
    assert all(e.after == {"phone": "13900000000"} for e in events)


@pytest.mark.django_db
def test_admin_is_only_for_county_admin(client, county_admin, clerk_a):
    client.force_login(clerk_a)
    assert client.get("/admin/").status_code == 403
    client.force_login(county_admin)
    body = client.get("/admin/").content.decode()
    assert "基础数据管理" in body and "乡镇" in body


@pytest.mark.django_db
def test_admin_edits_of_reference_data_are_audited(client, county_admin, village_a):
    client.force_login(county_admin)
    url = reverse("admin:roster_village_change", args=[village_a.pk])
    response = client.post(
        url, {"township": village_a.township_id, "name": "大河社区", "code": "532326101001"}
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="roster.village.updated")
    assert event.after == {"code": "532326101001"}


def test_static_assets_are_served_by_the_app(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
