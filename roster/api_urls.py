from django.urls import path

from . import api

app_name = "api"

urlpatterns = [
    path("persons/<str:id_number>/", api.person_by_id_number, name="person-detail"),
]
