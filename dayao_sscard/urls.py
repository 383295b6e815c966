from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from . import views

urlpatterns = [
    path("", include("dashboard.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("jobs/", views.job_list, name="job-list"),
    path("jobs/<int:pk>/", views.job_detail, name="job-detail"),
    path("jobs/<int:pk>/status/", views.job_status, name="job-status"),
    path("jobs/<int:pk>/result/", views.job_result, name="job-result"),
    path("audit/", views.audit_list, name="audit-list"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", RedirectView.as_view(url=static("favicon.ico"), permanent=True)),
    path("roster/", include("roster.urls")),
    path("issuance/", include("issuance.urls")),
    path("api/", include("roster.api_urls")),
    path("admin/", admin.site.urls),
]
