from django.urls import path

from . import views

app_name = "activation"

urlpatterns = [
    path("", views.counter, name="counter"),
    path("persons/<int:pk>/", views.counter_person, name="counter-person"),
    path("persons/<int:pk>/photo/", views.counter_photo, name="counter-photo"),
    path(
        "persons/<int:pk>/instant-card/",
        views.counter_instant_card,
        name="counter-instant-card",
    ),
    path("persons/<int:pk>/issue/", views.counter_issue, name="counter-issue"),
    path("persons/<int:pk>/activate/", views.counter_activate, name="counter-activate"),
    path("persons/<int:pk>/ecard/", views.counter_ecard, name="counter-ecard"),
    path("branch/waiting/", views.branch_waiting, name="branch-waiting"),
    path("branch/not-activated/", views.branch_not_activated, name="branch-not-activated"),
    path("branch/today/", views.branch_today, name="branch-today"),
]
