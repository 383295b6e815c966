from django.urls import path

from . import conflict_views, views

app_name = "roster"

urlpatterns = [
    path("persons/", views.person_list, name="person-list"),
    path("persons/export/", views.person_export, name="person-export"),
    path("persons/<int:pk>/", views.person_detail, name="person-detail"),
    path("persons/<int:pk>/edit/", views.person_edit, name="person-edit"),
    path("persons/<int:pk>/reveal-id/", views.person_reveal_id, name="person-reveal-id"),
    path("persons/<int:pk>/verify/", views.person_verify, name="person-verify"),
    path("persons/<int:pk>/photo/<str:size>/", views.person_photo, name="person-photo"),
    path(
        "persons/<int:pk>/kept-photo/<str:token>/",
        views.person_kept_photo,
        name="person-kept-photo",
    ),
    path("persons/<int:pk>/deceased/", views.person_mark_deceased, name="person-mark-deceased"),
    path(
        "persons/<int:pk>/deceased/undo/", views.person_undo_deceased, name="person-undo-deceased"
    ),
    path("queue/", views.work_queue, name="work-queue"),
    path("progress/", views.verification_progress, name="progress"),
    path("imports/new/", views.list_import_create, name="import-create"),
    path("imports/<int:pk>/confirm/", views.list_import_confirm, name="import-confirm"),
    path("conflicts/", conflict_views.conflict_list, name="conflicts"),
    path("conflicts/<int:pk>/", conflict_views.conflict_person, name="conflict-person"),
    path("comparison/", views.comparison, name="comparison"),
    path("comparison/changes/", views.comparison_changes, name="comparison-changes"),
    path(
        "comparison/disagreements/",
        views.comparison_disagreements,
        name="comparison-disagreements",
    ),
    path("subsidies/", views.subsidy_comparison, name="subsidy-comparison"),
]
