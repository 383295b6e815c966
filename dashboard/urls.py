from django.urls import path

from . import views

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
