from django.urls import path

from . import batch_views, card_views, sign_off_views, views

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
    path("issue/cards/<int:pk>/", card_views.card_detail, name="card-detail"),
    path("issue/cards/<int:pk>/issue/", card_views.card_issue, name="card-issue"),
    path("sign-off/", sign_off_views.sign_off_list, name="sign-off-list"),
    path("sign-off/new/", sign_off_views.sign_off_create, name="sign-off-create"),
    path("sign-off/<int:pk>/", sign_off_views.sign_off_detail, name="sign-off-detail"),
    path("sign-off/<int:pk>/pdf/", sign_off_views.sign_off_pdf, name="sign-off-pdf"),
    path("sign-off/<int:pk>/record/", sign_off_views.sign_off_record, name="sign-off-record"),
]
