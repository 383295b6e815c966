from django.contrib import admin
from django.urls import include, path

from . import views

admin.site.site_header = "大姚县社会保障卡应发尽发管理系统"
admin.site.site_title = "社保卡应发尽发"
admin.site.index_title = "基础数据管理"

urlpatterns = [
    path("", include("dashboard.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("jobs/", views.job_list, name="job-list"),
    path("jobs/<int:pk>/", views.job_detail, name="job-detail"),
    path("jobs/<int:pk>/status/", views.job_status, name="job-status"),
    path("jobs/<int:pk>/result/", views.job_result, name="job-result"),
    path("audit/", views.audit_list, name="audit-list"),
    path("healthz", views.healthz, name="healthz"),
    path("roster/", include("roster.urls")),
    path("issuance/", include("issuance.urls")),
    path("api/", include("roster.api_urls")),
    path("admin/", admin.site.urls),
]
