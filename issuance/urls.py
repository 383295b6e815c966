from django.urls import path

from . import batch_views, risk_views, views

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
    path("risks/", risk_views.risk_overview, name="risks"),
    path("risks/cards/", risk_views.risk_cards, name="risk-cards"),
    path("risks/holders/", risk_views.risk_holders, name="risk-holders"),
    path("risks/export/", risk_views.risk_export, name="risk-export"),
    path("reconciliation/", risk_views.reconciliation, name="reconciliation"),
    path(
        "reconciliation/export/",
        risk_views.reconciliation_download,
        name="reconciliation-export",
    ),
]
