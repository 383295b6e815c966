"""The card endpoints of the JSON API (mounted under /api/ in the "api" namespace)."""

from django.urls import path

from . import api

urlpatterns = [
    path("cards/<str:card_number>/", api.card_detail, name="card-detail"),
    path("cards/<str:card_number>/events/", api.card_events, name="card-events"),
]
