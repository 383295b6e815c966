from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("cadre-held/", views.cadre_held, name="cadre-held"),
]
