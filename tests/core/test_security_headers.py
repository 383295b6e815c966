"""Headers and deployment settings (issue 12): what every response carries, what HTTPS=1
turns on, ``check --deploy`` with the documented production environment, ALLOWED_HOSTS."""

import os
import re
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from dayao_sscard.models import Job

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"


def assert_private(response):
    assert (
        response["Cache-Control"] == "private, no-store"
        or "no-store" in (response["Cache-Control"])
    )
    policy = response["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "style-src 'self';" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
class TestHeaders:
    def test_a_person_page(self, client, clerk_a, person_a):
        client.force_login(clerk_a)
        response = client.get(reverse("roster:person-detail", args=[person_a.pk]))
        assert response.status_code == 200
        assert_private(response)
        assert response["Cache-Control"] == "private, no-store"

    def test_an_export(self, client, clerk_a, person_a, django_capture_on_commit_callbacks):
        client.force_login(clerk_a)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("roster:person-export"))
        job = Job.objects.get()
        response = client.get(reverse("job-result", args=[job.pk]))
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment")
        assert_private(response)

    def test_the_api(self, client, banker_a):
        client.force_login(banker_a)
        response = client.get(reverse("api:card-detail", args=["A00000001"]))
        assert response.status_code == 404
        assert_private(response)

    def test_the_login_page(self, client, db):
        assert_private(client.get(reverse("login")))

    def test_static_files_keep_their_caching(self, client, db):
        response = client.get("/static/css/app.css")
        assert response.status_code == 200
        assert "no-store" not in response.get("Cache-Control", "")
        assert "Content-Security-Policy" not in response


def _templates():
    return [
        path
        for path in TEMPLATES.rglob("*.html")
        # Printed by WeasyPrint into PDFs, never shown by a browser.
        if "pdf" not in path.parts and path.name != "ledger_pdf.html"
    ]


@pytest.mark.parametrize("path", _templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_hold_no_inline_script_handler_or_style(path):
    """What the Content-Security-Policy would refuse: the browser test sees the pages a
    persona opens, this sees every template."""
    text = path.read_text()
    for tag in re.findall(r"<script\b[^>]*>", text):
        assert "src=" in tag, f"inline script: {tag}"
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", text), "inline event handler"
    assert not re.search(r"<[^>]*\sstyle\s*=", text), "style attribute"
    assert "<style" not in text, "style element"
    assert "javascript:" not in text


def _run(command: list[str], **env) -> subprocess.CompletedProcess:
    """A fresh Python with only the given environment on top of PATH (no DEBUG, no
    ALLOWED_HOSTS from the caller), its data folder under a temporary directory."""
    base = {
        key: os.environ[key]
        for key in ("PATH", "HOME", "LANG", "DATABASE_URL", "DAYAO_DATA_DIR")
        if key in os.environ
    }
    return subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _secret_key() -> str:
    alphabet = string.ascii_letters + string.digits + string.punctuation.replace("'", "")
    return "".join(secrets.choice(alphabet) for _ in range(50))


def test_check_deploy_passes_with_the_documented_production_environment(tmp_path):
    """Pinned: DEBUG=0 SECRET_KEY=<50 random characters> ALLOWED_HOSTS=sscard.example.org
    HTTPS=1 python manage.py check --deploy exits 0 and prints no warning."""
    result = _run(
        ["manage.py", "check", "--deploy"],
        DEBUG="0",
        SECRET_KEY=_secret_key(),
        ALLOWED_HOSTS="sscard.example.org",
        HTTPS="1",
        DAYAO_DATA_DIR=str(tmp_path),
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNING" not in output and "?:" not in output, output
    assert "System check identified no issues" in output


def test_without_https_check_deploy_names_what_is_missing(tmp_path):
    """The check above can fail: without HTTPS=1 the same environment is warned about."""
    result = _run(
        ["manage.py", "check", "--deploy"],
        DEBUG="0",
        SECRET_KEY=_secret_key(),
        ALLOWED_HOSTS="sscard.example.org",
        DAYAO_DATA_DIR=str(tmp_path),
    )
    output = result.stdout + result.stderr
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in output


SHOW = (
    "from django.conf import settings as s; "
    "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
    "s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER)"
)


@pytest.mark.parametrize(
    ("https", "expected"),
    [
        ("1", "True True True 31536000 ('HTTP_X_FORWARDED_PROTO', 'https')"),
        ("", "False False False 0 None"),
    ],
)
def test_https_alone_turns_on_secure_cookies_hsts_and_the_redirect(tmp_path, https, expected):
    result = _run(
        ["-c", f"import django; django.setup(); {SHOW}"],
        DJANGO_SETTINGS_MODULE="dayao_sscard.settings",
        HTTPS=https,
        DAYAO_DATA_DIR=str(tmp_path),
    )
    assert result.stdout.strip() == expected, result.stderr


def test_the_web_server_refuses_to_start_without_allowed_hosts(tmp_path):
    result = _run(["-c", "import dayao_sscard.wsgi"], DEBUG="0", DAYAO_DATA_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "ALLOWED_HOSTS 未设置" in result.stderr
    started = _run(
        ["-c", "import dayao_sscard.wsgi"],
        DEBUG="0",
        ALLOWED_HOSTS="sscard.example.org",
        DAYAO_DATA_DIR=str(tmp_path),
    )
    assert started.returncode == 0, started.stderr


def test_management_commands_run_without_allowed_hosts(tmp_path):
    """Only serving needs the names: an administrator's command works without them."""
    result = _run(["manage.py", "check"], DEBUG="0", DAYAO_DATA_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
