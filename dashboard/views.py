from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import SimpleLazyObject

from dayao_sscard.permissions import action_required, may
from dayao_sscard.replica import reads_from_replica
from dayao_sscard.selectors import job_list
from issuance.handover_selectors import handover_incoming_count

from . import selectors, supervision


@login_required
@reads_from_replica
def home(request: HttpRequest) -> HttpResponse:
    """Each role's own home page (工作台), with the figures of its scope.

    Each block is counted when the role's template first reads it, not before: a bank
    clerk's page has no township table, a collector's no card tiles.
    """
    user = request.user
    campaign = selectors.campaign_active()
    risks = SimpleLazyObject(lambda: selectors.custody_risk_figures(user=user))
    context = {
        "campaign": campaign,
        "stages": selectors.campaign_stages(campaign),
        "township_rows": SimpleLazyObject(lambda: selectors.class_counts_by_township(user=user)),
        "card_counts": SimpleLazyObject(lambda: selectors.card_status_counts(user=user)),
        **{key: SimpleLazyObject(lambda key=key: risks.get(key)) for key in selectors.RISK_FIGURES},
        "recent_jobs": job_list(user=user),
        "handovers_waiting": SimpleLazyObject(
            lambda: (
                handover_incoming_count(user=user) if may(user, "issuance.receive_handover") else 0
            )
        ),
    }
    return render(request, f"dashboard/{user.role}.html", context)


@action_required("issuance.view_custody_risks")
def cadre_held(request: HttpRequest) -> HttpResponse:
    """The old address of the list behind the home page's ten: now the custody risks."""
    return redirect("issuance:risk-cards")


@action_required("dashboard.view_supervision")
@reads_from_replica
def supervision_home(request: HttpRequest) -> HttpResponse:
    """进度督导: the county's townships for county roles; the user's own township (its
    villages, or a collector's village) for everyone else, at the same address."""
    user = request.user
    if user.is_county_wide:
        context = supervision.county_dashboard(user=user)
        return render(request, "dashboard/supervision.html", context)
    if user.township is None:
        raise Http404("该账号未设置所属乡镇。")
    return _township_page(request, user.township)


@action_required("dashboard.view_supervision")
@reads_from_replica
def supervision_township(request: HttpRequest, code: str) -> HttpResponse:
    """One township's villages; a township the user does not reach answers 404."""
    township = supervision.dashboard_township(user=request.user, code=code)
    return _township_page(request, township)


def _township_page(request: HttpRequest, township) -> HttpResponse:
    context = supervision.township_dashboard(user=request.user, township=township)
    return render(request, "dashboard/supervision.html", context)
