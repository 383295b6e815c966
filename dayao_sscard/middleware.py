"""Requests refused before any view sees them."""

import re
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render

# C0 control characters but tab, line feed and carriage return: no form field takes
# them, and PostgreSQL refuses NUL in any text, so a ?q=%00 would fail as a 500.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# The JSON API (dayao_sscard/urls.py) answers in JSON, this refusal included.
API_PREFIX = "/api/"
BAD_CHARACTERS_MESSAGE = (
    "您提交的内容中含有无法识别的字符（如从其他系统复制时带入的空字符、控制字符），"
    "请删除后重新输入。"
)


class RefuseControlCharactersMiddleware:
    """Answer 400, in Chinese, to a path, parameter name or value holding a control character."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            _CONTROL.search(request.path)
            or _holds_control(request.GET)
            or (request.method == "POST" and _holds_control(request.POST))
        ):
            if request.path.startswith(API_PREFIX):
                return JsonResponse(
                    {"detail": BAD_CHARACTERS_MESSAGE},
                    status=400,
                    json_dumps_params={"ensure_ascii": False},
                )
            return render(request, "400.html", {"reason": BAD_CHARACTERS_MESSAGE}, status=400)
        return self.get_response(request)


def holds_control_characters(text: str) -> bool:
    """What this middleware refuses in forms, for values read from elsewhere (a JSON body)."""
    return bool(_CONTROL.search(text))


def _holds_control(data: QueryDict) -> bool:
    return any(
        _CONTROL.search(key) or any(_CONTROL.search(value) for value in values)
        for key, values in data.lists()
    )


# The pages' own scripts and styles are files under /static/ (no inline script, style or
# event handler: tests/e2e/test_content_security_policy.py opens every main page).
# Images may be data: (a chart printed as a picture, the enrolment QR code) or blob: (a
# photo previewed before upload).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
NO_STORE = "private, no-store"


class SecurityHeadersMiddleware:
    """Every response the application writes (pages, JSON, files; not /static/) carries
    the Content-Security-Policy and ``Cache-Control: no-store``: nearly every one holds
    personal data, and a browser or proxy must keep none of them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if "no-store" not in response.get("Cache-Control", ""):
            response["Cache-Control"] = NO_STORE
        return response


SESSION_STARTED = "session_started"
SESSION_SEEN = "session_seen"
# The time of the last request is written at most this often (a session write per page
# would cost a database write per request).
SEEN_RESOLUTION_SECONDS = 60
IDLE_MESSAGE = "您已{minutes}分钟没有操作，为保护居民信息已自动退出，请重新登录。"
TOO_LONG_MESSAGE = "本次登录已超过{hours}小时，为保护居民信息已自动退出，请重新登录。"


def session_start(request: HttpRequest) -> None:
    """Note when the session's login happened (the ``user_logged_in`` signal calls this)."""
    now = time.time()
    request.session[SESSION_STARTED] = now
    request.session[SESSION_SEEN] = now


class SessionTimeoutMiddleware:
    """Signs out a session idle for ``SESSION_IDLE_MINUTES`` or older than
    ``SESSION_MAX_HOURS``; the request then goes on as a visitor's (a page redirects to the
    login form and says why, the JSON API answers 401)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            self._check(request)
        return self.get_response(request)

    def _check(self, request: HttpRequest) -> None:
        session = request.session
        now = time.time()
        started = session.get(SESSION_STARTED)
        seen = session.get(SESSION_SEEN)
        if started is None or seen is None:
            session_start(request)
            return
        # A clock set back (NTP, a test's travel) counts as no time passed.
        idle = max(0.0, now - seen)
        age = max(0.0, now - started)
        if idle > settings.SESSION_IDLE_MINUTES * 60:
            message = IDLE_MESSAGE.format(minutes=settings.SESSION_IDLE_MINUTES)
        elif age > settings.SESSION_MAX_HOURS * 3600:
            message = TOO_LONG_MESSAGE.format(hours=f"{settings.SESSION_MAX_HOURS:g}")
        else:
            if idle >= SEEN_RESOLUTION_SECONDS:
                session[SESSION_SEEN] = now
            return
        logout(request)
        if not request.path.startswith(API_PREFIX):
            messages.info(request, message)
