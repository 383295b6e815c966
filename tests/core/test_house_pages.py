"""Small things a user meets: a refused page logs one line, the icon, the admin's door."""

import logging

import pytest
from django.urls import reverse


@pytest.fixture
def request_log():
    """What the django.request logger passes on, through the filters settings gave it."""
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Keep()
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


@pytest.mark.django_db
class TestForbiddenIsQuiet:
    def test_a_403_logs_one_line_without_a_traceback(self, client, clerk_a, request_log):
        client.force_login(clerk_a)
        assert client.get(reverse("audit-list")).status_code == 403
        [record] = [r for r in request_log if getattr(r, "status_code", None) == 403]
        assert record.levelno == logging.WARNING
        assert record.getMessage() == "Forbidden (Permission denied): /audit/"
        assert record.exc_info is None
        assert "Traceback" not in logging.Formatter().format(record)

    def test_a_500_keeps_its_traceback(self, request_log):
        logger = logging.getLogger("django.request")
        try:
            raise ValueError("boom")
        except ValueError:
            logger.error("Internal Server Error: /x/", exc_info=True, extra={"status_code": 500})
        [record] = request_log
        assert record.exc_info is not None


@pytest.mark.django_db
def test_the_favicon_is_served(client):
    response = client.get("/favicon.ico", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[0][0].endswith("favicon.ico")
    body = b"".join(response.streaming_content)
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO file


@pytest.mark.django_db
class TestAdminDoor:
    @pytest.mark.parametrize("persona", ["supervisor", "clerk_a", "collector_a", "banker_a"])
    def test_staff_without_admin_rights_get_the_apps_403(self, client, request, persona):
        client.force_login(request.getfixturevalue(persona))
        for path in ("/admin/", "/admin/roster/village/", "/admin/login/?next=/admin/"):
            response = client.get(path)
            assert response.status_code == 403, path
            html = response.content.decode()
            assert "无权访问" in html and "基础数据管理仅限县人社局管理员使用" in html
            assert 'name="password"' not in html

    def test_anonymous_goes_to_the_apps_own_login(self, client):
        response = client.get("/admin/", follow=True)
        assert response.redirect_chain[-1][0].startswith(reverse("login"))
        assert "next=%2Fadmin%2F" in response.redirect_chain[-1][0]

    def test_the_county_admin_gets_in(self, client, county_admin):
        client.force_login(county_admin)
        response = client.get("/admin/")
        assert response.status_code == 200
        assert "基础数据管理" in response.content.decode()

    def test_a_staff_flag_does_not_open_it_to_another_role(self, client, supervisor):
        supervisor.is_staff = True
        supervisor.save()
        client.force_login(supervisor)
        assert client.get("/admin/").status_code == 403
        assert 'href="/admin/"' not in client.get(reverse("home")).content.decode()

    @pytest.mark.parametrize("is_staff", [True, False])
    def test_the_menu_offers_it_exactly_when_it_opens(self, client, county_admin, is_staff):
        county_admin.is_staff = county_admin.is_superuser = is_staff
        county_admin.save()
        client.force_login(county_admin)
        opens = client.get("/admin/").status_code == 200
        offered = 'href="/admin/"' in client.get(reverse("home")).content.decode()
        assert opens == offered == is_staff

    def test_the_admin_holds_reference_data_only(self, client, county_admin):
        """The audit log and jobs have their own pages in words; groups have no use."""
        client.force_login(county_admin)
        html = client.get("/admin/").content.decode()
        for name in ("操作日志", "后台任务", "组"):
            assert f">{name}</a>" not in html, name
        for path in (
            "/admin/dayao_sscard/auditevent/",
            "/admin/dayao_sscard/job/",
            "/admin/auth/group/",
        ):
            assert client.get(path).status_code == 404, path

    def test_a_users_page_shows_role_and_scope_not_django_permissions(self, client, county_admin):
        client.force_login(county_admin)
        html = client.get(f"/admin/dayao_sscard/user/{county_admin.pk}/change/").content.decode()
        assert 'name="role"' in html and 'name="township"' in html
        assert 'name="groups"' not in html and 'name="user_permissions"' not in html


@pytest.mark.django_db
def test_the_header_names_a_role_once(client, county_admin):
    """A user named after the role (the demo's 县人社局管理员) reads it once, not twice."""
    county_admin.display_name = "县人社局管理员"
    county_admin.save()
    client.force_login(county_admin)
    html = client.get(reverse("home")).content.decode()
    who = html[html.index('class="who"') :]
    who = who[: who.index("</div>")]
    assert who.count("县人社局管理员") == 1 and "大姚县" in who


@pytest.mark.django_db
class TestOwnPassword:
    def test_the_header_leads_to_a_password_page_in_the_apps_own_layout(self, client, clerk_a):
        client.force_login(clerk_a)
        home = client.get(reverse("home")).content.decode()
        assert f'href="{reverse("password_change")}"' in home
        page = client.get(reverse("password_change")).content.decode()
        assert "修改密码" in page and 'data-testid="password-change-form"' in page
        assert "Django" not in page

    def test_a_clerk_changes_it_and_the_rules_apply(self, client, clerk_a):
        client.force_login(clerk_a)
        url = reverse("password_change")
        weak = {"old_password": "pw-for-tests-1", "new_password1": "12345678"}
        refused = client.post(url, {**weak, "new_password2": "12345678"})
        assert refused.status_code == 200 and "密码只包含数字" in refused.content.decode()
        good = "山茶花开-2026"
        done = client.post(
            url, {"old_password": "pw-for-tests-1", "new_password1": good, "new_password2": good}
        )
        assert done.status_code == 302
        assert "密码已修改" in client.get(done.url).content.decode()
        clerk_a.refresh_from_db()
        assert clerk_a.check_password(good)

    def test_there_is_no_reset_by_email(self, client):
        """Staff have no e-mail here; the county administrator sets a forgotten password."""
        assert client.get("/accounts/password_reset/").status_code == 404
