"""Login: the password, then for a county administrator the phone's code (two_factor.py);
password reset by e-mail only where mail is configured."""

from functools import wraps

from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.signals import user_login_failed
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from . import services, two_factor
from .lockout import lockout_response

STEP_EXPIRED = "登录已超时，请重新输入用户名和密码。"
WRONG_CODE = "验证码不正确或已使用过，请输入手机验证器上当前显示的6位数字。"
TOO_FAST = "验证码错误次数较多，请等待几秒后再输入新的验证码。"


class CodeForm(forms.Form):
    code = forms.CharField(
        label="验证码",
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class StaffLoginView(auth_views.LoginView):
    """Django's login form; a county administrator's right password only opens the second step."""

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            failure_limit=settings.AXES_FAILURE_LIMIT,
            password_reset=bool(settings.EMAIL_HOST),
            **kwargs,
        )

    def form_valid(self, form):
        user = form.get_user()
        if not two_factor.required_for(user):
            return super().form_valid(form)
        two_factor.pending_start(self.request, user, self.get_success_url())
        if two_factor.confirmed_device(user) is None:
            return redirect("login-enrol")
        return redirect("login-verify")


def _second_step(view):
    """Runs ``view(request, user, backend, next_url)`` for the login waiting for its code."""

    @wraps(view)
    @sensitive_post_parameters("code")
    @never_cache
    @csrf_protect
    def wrapped(request: HttpRequest) -> HttpResponse:
        pending = two_factor.pending_login(request)
        if pending is None:
            messages.info(request, STEP_EXPIRED)
            return redirect("login")
        user, backend, next_url = pending
        credentials = {"username": user.get_username()}
        if request.method == "POST" and not AxesProxyHandler.is_allowed(request, credentials):
            two_factor.pending_clear(request)
            return lockout_response(request, credentials=credentials)
        return view(request, user, backend, next_url)

    return wrapped


def _wrong_code(request: HttpRequest, user) -> None:
    """A wrong code counts as a failed login: ten in a row lock the account (lockout.py)."""
    user_login_failed.send(
        sender=__name__, credentials={"username": user.get_username()}, request=request
    )


def _complete(request: HttpRequest, user, backend: str, next_url: str) -> HttpResponse:
    two_factor.pending_clear(request)
    auth_login(request, user, backend=backend)
    return redirect(next_url)


@_second_step
def login_verify(request: HttpRequest, user, backend: str, next_url: str) -> HttpResponse:
    device = two_factor.confirmed_device(user)
    if device is None:
        return redirect("login-enrol")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not two_factor.may_try_code(device):
            form.add_error("code", TOO_FAST)
        elif two_factor.code_is_right(device, form.cleaned_data["code"]):
            return _complete(request, user, backend, next_url)
        else:
            _wrong_code(request, user)
            form.add_error("code", WRONG_CODE)
    return render(request, "registration/login_verify.html", {"form": form, "user_name": user})


@_second_step
def login_enrol(request: HttpRequest, user, backend: str, next_url: str) -> HttpResponse:
    if two_factor.confirmed_device(user) is not None:
        return redirect("login-verify")
    device = services.otp_enrolment_device(user=user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not two_factor.may_try_code(device):
            form.add_error("code", TOO_FAST)
        elif two_factor.code_is_right(device, form.cleaned_data["code"]):
            services.otp_enrol_confirm(user=user, device=device)
            return _complete(request, user, backend, next_url)
        else:
            _wrong_code(request, user)
            form.add_error("code", WRONG_CODE)
    return render(
        request,
        "registration/login_enrol.html",
        {
            "form": form,
            "user_name": user,
            "qr": two_factor.qr_data_uri(device),
            "secret": two_factor.secret_for_typing(device),
            "issuer": settings.OTP_TOTP_ISSUER,
        },
    )


def mail_configured(view):
    """Password reset mails a link: without EMAIL_HOST its pages do not exist."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not settings.EMAIL_HOST:
            raise Http404("未配置邮件服务器，不提供找回密码；请联系县人社局管理员重设密码。")
        return view(request, *args, **kwargs)

    return wrapped
