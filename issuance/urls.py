from django.urls import path

from . import batch_views, proxy_views, views

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
    path("proxies/", proxy_views.proxy_list, name="proxy-list"),
    path("proxies/new/", proxy_views.proxy_register, name="proxy-register"),
    path("proxies/cadres/", proxy_views.cadre_list, name="cadre-list"),
    path("proxies/<int:pk>/", proxy_views.proxy_detail, name="proxy-detail"),
    path("proxies/<int:pk>/document/", proxy_views.proxy_document, name="proxy-document"),
    path("proxies/<int:pk>/approve/", proxy_views.proxy_approve, name="proxy-approve"),
    path("proxies/<int:pk>/revoke/", proxy_views.proxy_revoke, name="proxy-revoke"),
    path("proxies/<int:pk>/issue/", proxy_views.proxy_issue, name="proxy-issue"),
]
