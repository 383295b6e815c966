from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from . import login_views, views
from .login_views import mail_configured

urlpatterns = [
    path("", include("dashboard.urls")),
    path("accounts/login/", login_views.StaffLoginView.as_view(), name="login"),
    path("accounts/login/verify/", login_views.login_verify, name="login-verify"),
    path("accounts/login/enrol/", login_views.login_enrol, name="login-enrol"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    # Password reset by e-mail only where mail is configured (EMAIL_HOST); elsewhere the
    # county administrator sets a forgotten password (admin or ``changepassword``).
    path(
        "accounts/password_reset/",
        mail_configured(auth_views.PasswordResetView.as_view()),
        name="password_reset",
    ),
    path(
        "accounts/password_reset/done/",
        mail_configured(auth_views.PasswordResetDoneView.as_view()),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        mail_configured(auth_views.PasswordResetConfirmView.as_view()),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        mail_configured(auth_views.PasswordResetCompleteView.as_view()),
        name="password_reset_complete",
    ),
    path("jobs/", views.job_list, name="job-list"),
    path("jobs/<int:pk>/", views.job_detail, name="job-detail"),
    path("jobs/<int:pk>/status/", views.job_status, name="job-status"),
    path("jobs/<int:pk>/result/", views.job_result, name="job-result"),
    path("audit/", views.audit_list, name="audit-list"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", RedirectView.as_view(url=static("favicon.ico"), permanent=True)),
    path("roster/", include("roster.urls")),
    path("issuance/", include("issuance.urls")),
    path("counter/", include("activation.urls")),
    # One "api" namespace that each app feeds with its own endpoints (dayao_sscard/api.py).
    path(
        "api/",
        include(
            ([path("", include("roster.api_urls")), path("", include("issuance.api_urls"))], "api")
        ),
    ),
    path("admin/", admin.site.urls),
]
