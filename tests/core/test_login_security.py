"""Login and sessions (issue 12): lockout and unlock, session rotation and timeouts, the
county administrators' second factor, password rules, no password reset without mail."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from dayao_sscard.lockout import username_is_locked
from dayao_sscard.models import AuditEvent, User
from dayao_sscard.roles import Role
from tests.factories import UserFactory
from tests.two_factor import enrolled_device, next_code

LOGIN = reverse("login")
VERIFY = reverse("login-verify")
ENROL = reverse("login-enrol")
HOME = reverse("home")
PASSWORD = "pw-for-tests-1"


def sign_in(client, username, password=PASSWORD, address="10.1.1.1", **extra):
    return client.post(
        LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address, **extra
    )


def signed_in_as(client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def fail(client, username, times, address="10.1.1.1"):
    for _ in range(times):
        response = sign_in(client, username, "wrong-Password-1", address)
        assert signed_in_as(client) is None
    return response


@pytest.fixture
def clerk(township_a):
    return UserFactory(username="clerk_a", role=Role.TOWNSHIP_STAFF, township=township_a)


@pytest.mark.django_db
class TestLockout:
    def test_ten_wrong_passwords_lock_the_account_and_the_right_one_is_refused(self, client, clerk):
        response = fail(client, "clerk_a", 9)
        assert response.status_code == 200
        assert "连续10次错误将锁定账号" in response.content.decode()
        response = fail(client, "clerk_a", 1)
        assert response.status_code == 429

        response = sign_in(client, "clerk_a")
        assert response.status_code == 429
        assert signed_in_as(client) is None
        text = response.content.decode()
        assert "该账号因连续10次登录失败已被锁定，正确的密码也暂时无法登录。" in text
        assert "请30分钟后再试，或联系县人社局管理员解锁。" in text
        assert username_is_locked("clerk_a")

    def test_nine_wrong_then_the_right_one_signs_in_and_the_count_starts_again(self, client, clerk):
        fail(client, "clerk_a", 9)
        assert sign_in(client, "clerk_a").status_code == 302
        assert signed_in_as(client) == clerk
        client.logout()
        fail(client, "clerk_a", 9)
        assert sign_in(client, "clerk_a").status_code == 302

    def test_the_count_follows_the_username_across_addresses(self, client, clerk):
        fail(client, "clerk_a", 5, address="10.1.1.1")
        fail(client, "clerk_a", 5, address="10.2.2.2")
        assert sign_in(client, "clerk_a", address="10.3.3.3").status_code == 429

    def test_an_unknown_username_is_locked_alike(self, client, clerk):
        """The answer does not tell which usernames exist."""
        fail(client, "nobody", 10)
        response = sign_in(client, "nobody")
        assert response.status_code == 429
        assert "该账号因连续10次登录失败已被锁定" in response.content.decode()

    def test_an_address_failing_on_many_usernames_is_locked(self, client, clerk, settings):
        settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 12
        for n in range(12):
            fail(client, f"guess{n}", 1, address="10.9.9.9")
        response = sign_in(client, "clerk_a", address="10.9.9.9")
        assert response.status_code == 429
        assert "您所在网络的登录失败次数过多，已暂停从此处登录。" in response.content.decode()
        assert sign_in(client, "clerk_a", address="10.1.1.1").status_code == 302

    def test_signing_in_as_oneself_does_not_restart_a_colleagues_count(
        self, client, clerk, township_a
    ):
        UserFactory(username="insider", role=Role.TOWNSHIP_STAFF, township=township_a)
        fail(client, "clerk_a", 9, address="10.5.5.5")
        assert sign_in(client, "insider", address="10.5.5.5").status_code == 302
        client.logout()
        fail(client, "clerk_a", 1, address="10.5.5.5")
        assert sign_in(client, "clerk_a", address="10.5.5.5").status_code == 429

    def test_the_lock_expires(self, client, clerk, time_machine):
        time_machine.move_to(datetime.datetime(2026, 11, 30, 9, 0, tzinfo=datetime.UTC))
        fail(client, "clerk_a", 10)
        assert sign_in(client, "clerk_a").status_code == 429
        time_machine.shift(datetime.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES + 1))
        assert sign_in(client, "clerk_a").status_code == 302

    def test_without_expiry_only_an_administrator_unlocks(self, client, clerk, settings):
        settings.AXES_COOLOFF_TIME = None
        settings.LOGIN_LOCKOUT_MINUTES = 0
        fail(client, "clerk_a", 10)
        response = sign_in(client, "clerk_a")
        assert response.status_code == 429
        assert "请联系县人社局管理员解锁。" in response.content.decode()
        assert "分钟后再试" not in response.content.decode()

    def test_an_administrator_unlocks_in_the_admin_and_it_is_audited(
        self, client, clerk, county_admin
    ):
        fail(client, "clerk_a", 10)
        admin_client = type(client)()
        admin_client.force_login(county_admin)
        changelist = reverse("admin:dayao_sscard_user_changelist")
        assert "已锁定" in admin_client.get(changelist).content.decode()
        response = admin_client.post(
            changelist, {"action": "unlock_login", "_selected_action": [clerk.pk]}
        )
        assert response.status_code == 302
        assert not username_is_locked("clerk_a")
        assert sign_in(client, "clerk_a").status_code == 302
        event = AuditEvent.objects.get(action="accounts.user.unlocked")
        assert (event.actor, event.object_id, event.note) == (
            county_admin,
            str(clerk.pk),
            "清除登录失败记录10次",
        )

    def test_the_unlock_command_by_username_and_by_address(self, client, clerk, capsys):
        fail(client, "clerk_a", 10)
        call_command("login_unlock", "clerk_a")
        assert "已解除 clerk_a 的登录锁定（清除登录失败记录 10 次）。" in capsys.readouterr().out
        assert sign_in(client, "clerk_a").status_code == 302
        assert AuditEvent.objects.get(action="accounts.user.unlocked").actor is None

        client.logout()
        fail(client, "someone", 3, address="10.7.7.7")
        call_command("login_unlock", address="10.7.7.7")
        assert not AccessAttempt.objects.filter(ip_address="10.7.7.7").exists()
        event = AuditEvent.objects.get(action="accounts.login.unlocked")
        assert event.object_repr == "登录地址 10.7.7.7"

    def test_the_unlock_command_needs_a_username_or_an_address(self, db):
        with pytest.raises(CommandError, match="请指定要解锁的用户名或登录地址"):
            call_command("login_unlock")

    def test_behind_a_proxy_the_forwarded_address_counts(self, client, clerk, settings):
        settings.TRUSTED_PROXY_COUNT = 1
        settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 3
        for n in range(3):
            sign_in(
                client,
                f"guess{n}",
                "wrong-Password-1",
                address="127.0.0.1",
                HTTP_X_FORWARDED_FOR="1.2.3.4, 10.8.8.8",
            )
        assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"10.8.8.8"}
        # Another client behind the same proxy still signs in.
        response = sign_in(client, "clerk_a", address="127.0.0.1", HTTP_X_FORWARDED_FOR="10.6.6.6")
        assert response.status_code == 302

    def test_on_a_unix_socket_the_proxys_address_counts(self, client, clerk):
        """gunicorn behind nginx on a unix socket has no connection address."""
        sign_in(client, "guess", "wrong-Password-1", address="", HTTP_X_FORWARDED_FOR="10.4.4.4")
        assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["10.4.4.4"]


@pytest.mark.django_db
class TestSessions:
    def test_login_gives_a_new_session_key(self, client, clerk):
        before = client.session
        before["visited"] = True
        before.save()
        client.cookies[settings.SESSION_COOKIE_NAME] = before.session_key
        assert sign_in(client, "clerk_a").status_code == 302
        after = client.cookies[settings.SESSION_COOKIE_NAME].value
        assert after != before.session_key
        assert not Session.objects.filter(session_key=before.session_key).exists()

    def test_the_session_cookie_ends_with_the_browser(self, client, clerk):
        response = sign_in(client, "clerk_a")
        cookie = response.cookies[settings.SESSION_COOKIE_NAME]
        assert cookie["max-age"] == "" and cookie["expires"] == ""
        assert cookie["httponly"]

    def test_thirty_idle_minutes_sign_out(self, client, clerk, time_machine):
        time_machine.move_to(datetime.datetime(2026, 11, 30, 9, 0, tzinfo=datetime.UTC))
        sign_in(client, "clerk_a")
        time_machine.shift(datetime.timedelta(minutes=29))
        assert client.get(HOME).status_code == 200
        time_machine.shift(datetime.timedelta(minutes=29))
        assert client.get(HOME).status_code == 200
        time_machine.shift(datetime.timedelta(minutes=31))
        response = client.get(HOME, follow=True)
        assert response.redirect_chain[-1][0].startswith(LOGIN)
        assert "您已30分钟没有操作，为保护居民信息已自动退出，请重新登录。" in (
            response.content.decode()
        )
        assert signed_in_as(client) is None

    def test_the_idle_time_is_configurable(self, client, clerk, time_machine, settings):
        settings.SESSION_IDLE_MINUTES = 5
        time_machine.move_to(datetime.datetime(2026, 11, 30, 9, 0, tzinfo=datetime.UTC))
        sign_in(client, "clerk_a")
        time_machine.shift(datetime.timedelta(minutes=6))
        assert client.get(HOME).status_code == 302

    def test_twelve_hours_after_login_sign_out_however_busy(self, client, clerk, time_machine):
        time_machine.move_to(datetime.datetime(2026, 11, 30, 1, 0, tzinfo=datetime.UTC))
        sign_in(client, "clerk_a")
        for _ in range(12 * 3 - 1):
            time_machine.shift(datetime.timedelta(minutes=20))
            assert client.get(HOME).status_code == 200
        time_machine.shift(datetime.timedelta(minutes=21))
        response = client.get(HOME, follow=True)
        assert "本次登录已超过12小时，为保护居民信息已自动退出，请重新登录。" in (
            response.content.decode()
        )

    def test_the_api_answers_401_after_the_idle_time(self, client, clerk, time_machine):
        time_machine.move_to(datetime.datetime(2026, 11, 30, 9, 0, tzinfo=datetime.UTC))
        sign_in(client, "clerk_a")
        time_machine.shift(datetime.timedelta(minutes=31))
        response = client.get(reverse("api:card-detail", args=["A00000001"]))
        assert response.status_code == 401

    def test_a_forced_login_keeps_working(self, client, clerk):
        """The tests' own force_login goes through the same start of a session."""
        client.force_login(clerk)
        assert client.get(HOME).status_code == 200
        assert client.get(HOME).status_code == 200


@pytest.fixture
def admin_user(db):
    return UserFactory(
        username="county_boss",
        role=Role.COUNTY_ADMIN,
        township=None,
        is_staff=True,
        is_superuser=True,
    )


@pytest.mark.django_db
class TestSecondFactor:
    def test_a_clerk_has_no_second_step(self, client, clerk):
        assert sign_in(client, "clerk_a")["Location"] == HOME

    def test_an_administrator_without_a_device_enrols_at_first_login(self, client, admin_user):
        response = sign_in(client, "county_boss")
        assert response["Location"] == ENROL
        assert signed_in_as(client) is None
        page = client.get(ENROL)
        text = page.content.decode()
        assert "绑定手机验证器" in text and 'src="data:image/svg+xml' in text
        device = TOTPDevice.objects.get(user=admin_user, confirmed=False)
        assert page.context["secret"].replace(" ", "") in device.config_url
        # Reloading shows the same key.
        client.get(ENROL)
        assert TOTPDevice.objects.filter(user=admin_user).count() == 1

        response = client.post(ENROL, {"code": next_code(device)})
        assert response["Location"] == HOME
        assert signed_in_as(client) == admin_user
        device.refresh_from_db()
        assert device.confirmed
        event = AuditEvent.objects.get(action="accounts.user.otp_enrolled")
        assert event.actor == admin_user

    def test_an_enrolled_administrator_needs_the_code(self, client, admin_user):
        device = enrolled_device(admin_user)
        before = client.session.session_key
        response = sign_in(client, "county_boss")
        assert response["Location"] == VERIFY
        assert signed_in_as(client) is None
        assert client.get(HOME).status_code == 302
        assert client.get(ENROL)["Location"] == VERIFY

        response = client.post(VERIFY, {"code": "000000"})
        assert response.status_code == 200
        assert "验证码不正确或已使用过" in response.content.decode()
        assert signed_in_as(client) is None
        assert AccessAttempt.objects.get(username="county_boss").failures_since_start == 1

        device.refresh_from_db()
        device.throttling_failure_count = 0
        device.save()
        password_step = client.cookies[settings.SESSION_COOKIE_NAME].value
        response = client.post(VERIFY, {"code": next_code(device)})
        assert response["Location"] == HOME
        assert signed_in_as(client) == admin_user
        assert client.cookies[settings.SESSION_COOKIE_NAME].value not in (before, password_step)
        assert not AccessAttempt.objects.filter(username="county_boss").exists()

    def test_a_code_is_taken_once(self, client, admin_user):
        device = enrolled_device(admin_user)
        code = next_code(device)
        sign_in(client, "county_boss")
        client.post(VERIFY, {"code": code})
        client.logout()
        sign_in(client, "county_boss")
        response = client.post(VERIFY, {"code": code})
        assert response.status_code == 200
        assert signed_in_as(client) is None

    def test_ten_wrong_codes_lock_the_account(self, client, admin_user, settings):
        settings.OTP_TOTP_THROTTLE_FACTOR = 0
        device = enrolled_device(admin_user)
        sign_in(client, "county_boss")
        for _ in range(9):
            assert client.post(VERIFY, {"code": "000000"}).status_code == 200
        assert client.post(VERIFY, {"code": "000000"}).status_code == 429
        response = client.post(VERIFY, {"code": next_code(device)})
        assert response.status_code == 429
        assert "该账号因连续10次登录失败已被锁定" in response.content.decode()
        assert signed_in_as(client) is None
        assert sign_in(client, "county_boss").status_code == 429

    def test_wrong_codes_in_quick_succession_wait(self, client, admin_user, time_machine):
        # The clock stands still: the second code comes within the second's wait, however
        # slow the machine.
        time_machine.move_to(datetime.datetime(2026, 11, 30, 9, 0, tzinfo=datetime.UTC), tick=False)
        device = enrolled_device(admin_user)
        sign_in(client, "county_boss")
        client.post(VERIFY, {"code": "000000"})
        response = client.post(VERIFY, {"code": next_code(device)})
        assert "请等待几秒后再输入新的验证码" in response.content.decode()
        assert signed_in_as(client) is None

    def test_the_code_step_expires(self, client, admin_user, time_machine):
        device = enrolled_device(admin_user)
        time_machine.move_to(datetime.datetime(2026, 11, 30, 9, 0, tzinfo=datetime.UTC))
        sign_in(client, "county_boss")
        time_machine.shift(datetime.timedelta(minutes=settings.LOGIN_SECOND_STEP_MINUTES + 1))
        response = client.post(VERIFY, {"code": next_code(device)}, follow=True)
        assert response.redirect_chain[-1][0] == LOGIN
        assert "登录已超时，请重新输入用户名和密码。" in response.content.decode()
        assert signed_in_as(client) is None

    def test_another_administrator_resets_a_lost_phone(self, client, admin_user, county_admin):
        enrolled_device(admin_user)
        other = type(client)()
        other.force_login(county_admin)
        changelist = reverse("admin:dayao_sscard_user_changelist")
        assert "已绑定验证器" in other.get(changelist).content.decode()
        other.post(
            changelist, {"action": "reset_second_factor", "_selected_action": [admin_user.pk]}
        )
        assert not TOTPDevice.objects.filter(user=admin_user).exists()
        event = AuditEvent.objects.get(action="accounts.user.otp_reset")
        assert (event.actor, event.object_id) == (county_admin, str(admin_user.pk))
        assert sign_in(client, "county_boss")["Location"] == ENROL

    def test_the_reset_command(self, admin_user, capsys):
        enrolled_device(admin_user)
        call_command("otp_reset", "county_boss")
        assert "已删除 county_boss 的手机验证器 1 个" in capsys.readouterr().out
        assert not TOTPDevice.objects.filter(user=admin_user).exists()
        assert AuditEvent.objects.get(action="accounts.user.otp_reset").actor is None
        with pytest.raises(CommandError, match="没有用户名为 nobody 的账号"):
            call_command("otp_reset", "nobody")

    def test_the_next_page_is_kept_through_the_code(self, client, admin_user):
        device = enrolled_device(admin_user)
        audit = reverse("audit-list")
        client.post(
            LOGIN,
            {"username": "county_boss", "password": PASSWORD, "next": audit},
            REMOTE_ADDR="10.1.1.1",
        )
        assert client.post(VERIFY, {"code": next_code(device)})["Location"] == audit


@pytest.mark.django_db
class TestPasswordRules:
    def test_create_staff_refuses_a_simple_password_in_chinese(self, township_a):
        with pytest.raises(
            CommandError, match="密码须包含大写字母、小写字母、数字、汉字、符号中的至少 3 种"
        ):
            call_command(
                "create_staff",
                "newclerk",
                "--password",
                "abcdefgh12",
                "--role",
                "county_supervisor",
            )
        assert not User.objects.filter(username="newclerk").exists()

    def test_createsuperuser_without_input_checks_the_password(self, db, monkeypatch):
        monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "12345678")
        with pytest.raises(
            CommandError, match="密码须包含大写字母、小写字母、数字、汉字、符号中的至少 3 种"
        ):
            call_command("createsuperuser", "--noinput", "--username", "root", "--email", "")
        monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "Root-pass-2026")
        call_command("createsuperuser", "--noinput", "--username", "root", "--email", "")
        assert User.objects.get(username="root").role == Role.COUNTY_ADMIN

    def test_the_admin_refuses_a_simple_password(self, client, county_admin, clerk):
        client.force_login(county_admin)
        url = reverse("admin:auth_user_password_change", args=[clerk.pk])
        response = client.post(
            url,
            {"password1": "abcdefghij", "password2": "abcdefghij", "usable_password": "true"},
        )
        assert response.status_code == 200
        assert (
            "密码须包含大写字母、小写字母、数字、汉字、符号中的至少 3 种"
            in response.content.decode()
        )

    def test_the_password_change_page_refuses_a_simple_password(self, client, clerk):
        client.force_login(clerk)
        response = client.post(
            reverse("password_change"),
            {
                "old_password": PASSWORD,
                "new_password1": "ABCDEFGH12",
                "new_password2": "ABCDEFGH12",
            },
        )
        assert response.status_code == 200
        assert "密码须包含大写字母、小写字母、数字、汉字、符号中的至少 3 种（现在只有2种）" in (
            response.content.decode()
        )

    @pytest.mark.parametrize(
        "password",
        ["Abcdefg-", "abc-12345", "ABC-12345", "Abc12-xyz", "甲乙丙丁Ab12", "山茶花开-2026"],
    )
    def test_three_kinds_pass(self, password):
        from django.contrib.auth.password_validation import validate_password

        validate_password(password)


@pytest.mark.django_db
class TestPasswordReset:
    def test_no_reset_pages_without_a_mail_server(self, client, clerk):
        assert client.get("/accounts/password_reset/").status_code == 404
        assert "忘记密码" not in client.get(LOGIN).content.decode()

    def test_with_a_mail_server_the_reset_mails_a_link(self, client, clerk, settings, mailoutbox):
        settings.EMAIL_HOST = "mail.example.org"
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        clerk.email = "clerk@example.org"
        clerk.save()
        assert "忘记密码" in client.get(LOGIN).content.decode()
        response = client.post("/accounts/password_reset/", {"email": "clerk@example.org"})
        assert response.status_code == 302
        assert len(mailoutbox) == 1
