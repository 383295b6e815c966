from django.urls import path

from . import (
    batch_views,
    card_views,
    handover_views,
    ledger_views,
    proxy_views,
    risk_views,
    sign_off_views,
    stock_views,
)

app_name = "issuance"

urlpatterns = [
    path("stock-cards/", stock_views.stock_cards, name="stock-cards"),
    path("stock-cards/<int:pk>/", stock_views.stock_card, name="stock-card"),
    path(
        "stock-cards/<int:pk>/attempts/", stock_views.stock_card_attempt, name="stock-card-attempt"
    ),
    path("stock-cards/<int:pk>/issue/", stock_views.stock_card_issue, name="stock-card-issue"),
    path(
        "stock-cards/<int:pk>/recover/", stock_views.stock_card_recover, name="stock-card-recover"
    ),
    path(
        "stock-cards/mark-dormant/",
        stock_views.stock_cards_mark_dormant,
        name="stock-cards-mark-dormant",
    ),
    path("stock-cards/cancellations/", stock_views.cancellation_list, name="cancellation-list"),
    path(
        "stock-cards/cancellations/<int:pk>/carry-out/",
        stock_views.cancellation_carry_out,
        name="cancellation-carry-out",
    ),
    path("recoveries/", stock_views.recovery_list, name="recovery-list"),
    path("recoveries/export/", stock_views.recovery_export, name="recovery-export"),
    path(
        "recoveries/mark-entered/",
        stock_views.recovery_mark_entered,
        name="recovery-mark-entered",
    ),
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
    path("proxies/", proxy_views.proxy_list, name="proxy-list"),
    path("proxies/new/", proxy_views.proxy_register, name="proxy-register"),
    path("proxies/cadres/", proxy_views.cadre_list, name="cadre-list"),
    path("proxies/<int:pk>/", proxy_views.proxy_detail, name="proxy-detail"),
    path("proxies/<int:pk>/document/", proxy_views.proxy_document, name="proxy-document"),
    path("proxies/<int:pk>/approve/", proxy_views.proxy_approve, name="proxy-approve"),
    path("proxies/<int:pk>/revoke/", proxy_views.proxy_revoke, name="proxy-revoke"),
    path("proxies/<int:pk>/issue/", proxy_views.proxy_issue, name="proxy-issue"),
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
    path("issue/cards/<int:pk>/", card_views.card_detail, name="card-detail"),
    path("issue/cards/<int:pk>/issue/", card_views.card_issue, name="card-issue"),
    path("sign-off/", sign_off_views.sign_off_list, name="sign-off-list"),
    path("sign-off/new/", sign_off_views.sign_off_create, name="sign-off-create"),
    path("sign-off/<int:pk>/", sign_off_views.sign_off_detail, name="sign-off-detail"),
    path("sign-off/<int:pk>/pdf/", sign_off_views.sign_off_pdf, name="sign-off-pdf"),
    path("sign-off/<int:pk>/record/", sign_off_views.sign_off_record, name="sign-off-record"),
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
    path("ledger/", ledger_views.ledger, name="ledger"),
]
