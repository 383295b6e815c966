from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

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
        **selectors.custody_risk_figures(user=user),
        "recent_jobs": job_list(user=user),
        "handovers_waiting": handover_incoming_count(user=user)
        if may(user, "issuance.receive_handover")
        else 0,
    }
    return render(request, f"dashboard/{user.role}.html", context)


@action_required("issuance.view_custody_risks")
def cadre_held(request: HttpRequest) -> HttpResponse:
    """The old address of the list behind the home page's ten: now the custody risks."""
    return redirect("issuance:risk-cards")
