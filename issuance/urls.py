from django.urls import path

from . import batch_views, ledger_views, views

app_name = "issuance"

urlpatterns = [
    path("stock-cards/", views.stock_cards, name="stock-cards"),
    path("batches/", batch_views.batch_list, name="batch-list"),
    path("batches/new/", batch_views.batch_create, name="batch-create"),
    path("batches/<int:pk>/", batch_views.batch_detail, name="batch-detail"),
    path("batches/<int:pk>/download/", batch_views.batch_download, name="batch-download"),
    path("batches/<int:pk>/send/", batch_views.batch_send, name="batch-send"),
    path(
        "batches/<int:pk>/remove-member/",
        batch_views.batch_remove_member,
        name="batch-remove-member",
    ),
    path("batches/<int:pk>/result/", batch_views.batch_result, name="batch-result"),
    path("ledger/", ledger_views.ledger, name="ledger"),
]
