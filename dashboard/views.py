from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dayao_sscard.permissions import action_required, may
from dayao_sscard.selectors import job_list
from issuance.handover_selectors import handover_incoming_count

from . import selectors


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each role's own home page (工作台), with the figures of its scope."""
    user = request.user
    campaign = selectors.campaign_active()
    context = {
        "campaign": campaign,
        "stages": selectors.campaign_stages(campaign),
        "township_rows": selectors.class_counts_by_township(user=user),
        "card_counts": selectors.card_status_counts(user=user),
        "cadre_held": selectors.cards_held_by_cadres(user=user),
        "recent_jobs": job_list(user=user),
        "handovers_waiting": handover_incoming_count(user=user)
        if may(user, "issuance.receive_handover")
        else 0,
    }
    return render(request, f"dashboard/{user.role}.html", context)


@action_required("dashboard.view_cadre_held_cards")
def cadre_held(request: HttpRequest) -> HttpResponse:
    """The whole list behind the home page's ten: every card sitting with an office."""
    cards = selectors.cards_held_by_cadres(user=request.user)
    page = Paginator(cards, 50).get_page(request.GET.get("page"))
    return render(request, "dashboard/cadre_held.html", {"page": page})
