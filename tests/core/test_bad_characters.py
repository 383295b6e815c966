"""Control characters in a request (%00 and the like) get a Chinese 400, never a 500."""

import pytest
from django.urls import reverse

from dayao_sscard.models import AuditEvent

LIST_FILTERS = [
    ("roster:person-list", {"q": "\x00"}),
    ("roster:person-list", {"township": "532326101\x00"}),
    ("roster:work-queue", {"village": "\x00", "group": "1组"}),
    ("roster:conflicts", {"township": "\x00"}),
    ("roster:comparison", {"township": "\x00"}),
    ("roster:comparison-changes", {"page": "\x00"}),
    ("issuance:stock-cards", {"bank": "\x00"}),
    ("job-list", {"page": "\x00"}),
    ("audit-list", {"action": "\x00", "user": "admin"}),
    ("audit-list", {"user\x00": "admin"}),
    ("roster:person-list", {"q": "张\x1b三"}),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "params"), LIST_FILTERS)
def test_list_filters_answer_400_in_chinese(client, county_admin, name, params):
    client.force_login(county_admin)
    response = client.get(reverse(name), params)
    assert response.status_code == 400
    assert "无法识别的字符" in response.content.decode()


@pytest.mark.django_db
def test_a_form_post_with_a_nul_changes_nothing(client, clerk_a, person_a):
    client.force_login(clerk_a)
    url = reverse("roster:person-edit", args=[person_a.pk])
    data = {"phone": "", "address": "新住址\x00", "occupation": "", "version": person_a.version}
    response = client.post(url, data)
    assert response.status_code == 400
    person_a.refresh_from_db()
    assert "新住址" not in person_a.address
    assert not AuditEvent.objects.filter(action="roster.person.updated").exists()


@pytest.mark.django_db
def test_a_nul_in_the_path_is_refused_too(client, clerk_a, person_a):
    client.force_login(clerk_a)
    url = reverse("roster:person-photo", args=[person_a.pk, "thumb"]).replace("thumb", "%00")
    assert client.get(url).status_code == 400


@pytest.mark.django_db
def test_anonymous_gets_the_400_too(client):
    response = client.get(reverse("login"), {"next": "/\x00"})
    assert response.status_code == 400


@pytest.mark.django_db
def test_ordinary_text_tabs_and_line_breaks_pass(client, county_admin):
    client.force_login(county_admin)
    response = client.get(reverse("roster:person-list"), {"q": "张三\t大河社区\r\n"})
    assert response.status_code == 200
