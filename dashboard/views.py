from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dayao_sscard.selectors import job_list

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
        "cadre_held": selectors.cards_held_by_cadres(user=user)[:10],
        "recent_jobs": job_list(user=user)[:5],
    }
    return render(request, f"dashboard/{user.role}.html", context)
