from django.urls import path

from . import report_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("cadre-held/", views.cadre_held, name="cadre-held"),
    path("dashboard/", views.supervision_home, name="supervision"),
    path(
        "dashboard/township/<str:code>/",
        views.supervision_township,
        name="supervision-township",
    ),
]

# 进度通报 (progress report), kept at the end of the list for easier merging.
urlpatterns += [
    path("dashboard/report/", report_views.report, name="progress-report"),
    path("dashboard/report/<int:pk>/", report_views.report_job, name="progress-report-job"),
    path(
        "dashboard/report/<int:pk>/<str:fmt>/",
        report_views.report_download,
        name="progress-report-file",
    ),
]
