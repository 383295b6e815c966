from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from . import views

urlpatterns = [
    path("", include("dashboard.urls")),
    # No password reset by e-mail: staff have no e-mail here; the county administrator
    # sets a forgotten password (admin or ``changepassword``).
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
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
