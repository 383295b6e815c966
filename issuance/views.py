from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dayao_sscard.params import query_without_page
from dayao_sscard.permissions import action_required

from . import selectors


@action_required("issuance.view_stock_cards")
def stock_cards(request: HttpRequest) -> HttpResponse:
    """Stock cards made long ago and dormant cards, per bank, to verify with the banks."""
    bank = request.GET.get("bank", "")
    cards = selectors.stock_and_dormant_cards(user=request.user, bank_id=bank)
    page = Paginator(cards, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "issuance/stock_cards.html",
        {
            "page": page,
            "banks": selectors.stock_and_dormant_by_bank(user=request.user),
            "bank": bank,
            "stock_age_days": selectors.STOCK_AGE_DAYS,
            "query": query_without_page(request.GET),
        },
    )
