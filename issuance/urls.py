from django.urls import path

from . import batch_views, handover_views, views

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
    path("handovers/", handover_views.handover_list, name="handover-list"),
    path("handovers/new/", handover_views.handover_create, name="handover-create"),
    path("handovers/<int:pk>/", handover_views.handover_detail, name="handover-detail"),
    path("handovers/<int:pk>/sheet.pdf", handover_views.handover_pdf, name="handover-pdf"),
    path("handovers/<int:pk>/receive/", handover_views.handover_receive, name="handover-receive"),
    path(
        "handovers/<int:pk>/receive-late/",
        handover_views.handover_receive_late,
        name="handover-receive-late",
    ),
    path(
        "handovers/<int:pk>/signed-sheet/",
        handover_views.handover_attach_sheet,
        name="handover-attach-sheet",
    ),
    path(
        "handovers/<int:pk>/signed-sheet/file/",
        handover_views.handover_sheet_file,
        name="handover-sheet-file",
    ),
]
