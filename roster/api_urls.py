"""The person endpoint of the JSON API (mounted under /api/ in the "api" namespace)."""

from django.urls import path

from . import api

urlpatterns = [
    path("persons/<str:id_number>/", api.person_by_id_number, name="person-detail"),
]
