"""Login lockout on top of django-axes: per username and per address, lifted on success,
by time or by an administrator (``login_unlock`` in services.py).

axes counts every failed ``authenticate()`` (the login form, the second step's wrong
codes) in ``AccessAttempt`` rows, one per username, address and browser. The username's
rows added up lock the account after ``LOGIN_FAILURE_LIMIT`` failures; the address's rows
lock the address after ``LOGIN_FAILURE_LIMIT_PER_ADDRESS``. A correct login clears the
user's own rows only: axes' own reset would also clear the address's rows, so that an
insider signing in as themselves between guesses at a colleague's password would start
the colleague's count again.
"""

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest
from django.shortcuts import render
from django.utils import timezone

LOCKED_ACCOUNT = "该账号因连续{limit}次登录失败已被锁定，正确的密码也暂时无法登录。"
LOCKED_ADDRESS = "您所在网络的登录失败次数过多，已暂停从此处登录。"
UNLOCK_BY_TIME = "请{minutes}分钟后再试，或联系县人社局管理员解锁。"
UNLOCK_BY_ADMIN = "请联系县人社局管理员解锁。"


class LockoutHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials=None) -> int:
        """What axes compares with ``LOGIN_FAILURE_LIMIT``: the username's failures, or the
        limit itself once the address has failed ``LOGIN_FAILURE_LIMIT_PER_ADDRESS`` times."""
        by_username, by_address = (
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        limit = settings.AXES_FAILURE_LIMIT
        if by_username < limit and by_address >= settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS:
            request.address_locked_out = True
            return limit
        return by_username

    def user_logged_in(self, sender, request, user, **kwargs):
        super().user_logged_in(sender, request, user, **kwargs)
        AccessAttempt.objects.filter(username=user.get_username()).delete()


def client_address(request: HttpRequest) -> str | None:
    """The client's address: the connection's, or behind ``TRUSTED_PROXY_COUNT`` proxies
    the one the outermost trusted proxy saw (X-Forwarded-For, counted from the right: what
    stands further left the client wrote itself). Behind nginx on a unix socket there is
    no connection address, and one proxy is taken as said."""
    remote = request.META.get("REMOTE_ADDR") or None
    # No peer address: gunicorn on a unix socket, so a local proxy (nginx) sent it.
    count = settings.TRUSTED_PROXY_COUNT or (0 if remote else 1)
    if count > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= count:
            return forwarded[-count]
    return remote


def lockout_message(*, address: bool) -> str:
    minutes = settings.LOGIN_LOCKOUT_MINUTES
    reason = LOCKED_ADDRESS if address else LOCKED_ACCOUNT.format(limit=settings.AXES_FAILURE_LIMIT)
    return reason + (UNLOCK_BY_TIME.format(minutes=minutes) if minutes > 0 else UNLOCK_BY_ADMIN)


def lockout_response(request: HttpRequest, original_response=None, credentials=None):
    """The login page again, with why it refuses and until when (axes' AXES_LOCKOUT_CALLABLE)."""
    from django.contrib.auth.forms import AuthenticationForm

    message = lockout_message(address=getattr(request, "address_locked_out", False))
    username = get_client_username(request, credentials) or ""
    form = AuthenticationForm(request, initial={"username": username})
    return render(
        request,
        "registration/login.html",
        {"form": form, "locked_message": message, "next": request.POST.get("next", "")},
        status=429,
    )


def username_is_locked(username: str) -> bool:
    """Whether the username itself has reached the limit (an address lock aside)."""
    attempts = AccessAttempt.objects.filter(username=username)
    if settings.AXES_COOLOFF_TIME is not None:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME)
    failures = attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
    return failures >= settings.AXES_FAILURE_LIMIT


def locked_usernames(usernames) -> set[str]:
    """Which of ``usernames`` are locked, in one query (the admin's list)."""
    attempts = AccessAttempt.objects.filter(username__in=list(usernames))
    if settings.AXES_COOLOFF_TIME is not None:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME)
    return {
        row["username"]
        for row in attempts.values("username").annotate(n=Sum("failures_since_start"))
        if row["n"] >= settings.AXES_FAILURE_LIMIT
    }
