"""Pages of the custody risks (代管风险) and the reconciliation with the card system (对账)."""

import io
from urllib.parse import quote

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from dayao_sscard.paging import CountedPaginator
from dayao_sscard.params import query_without_page
from dayao_sscard.permissions import action_required
from roster.models import Township
from roster.selectors import comparison_basis

from . import reconciliation as recon
from . import risks
from .risk_exports import custody_risks_export, reconciliation_export

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filters(request: HttpRequest) -> tuple[str, str]:
    """The township and risk kind asked for; a township outside the user's scope is not
    found, rather than shown as a township with no risk."""
    township = request.GET.get("township", "").strip()
    own = request.user.township
    if township and own is not None and township != own.code:
        raise Http404("该乡镇不在您的管辖范围内。")
    return township, request.GET.get("kind", "").strip()


def _download(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quoted(name)}"
    # Names and masked ID numbers of residents: no browser or proxy cache keeps a copy.
    response["Cache-Control"] = "private, no-store"
    return response


def _quoted(name: str) -> str:
    return quote(name)


@action_required("issuance.view_custody_risks")
def risk_overview(request: HttpRequest) -> HttpResponse:
    """Per township: the risky cards by kind and the names holding several others' cards."""
    rows = risks.custody_risk_counts(user=request.user)
    return render(
        request,
        "issuance/risks.html",
        {
            "rows": rows,
            "totals": risks.custody_risk_totals(rows),
            "days": risks.risk_days(),
            "kinds": risks.RiskKind.choices(),
        },
    )


@action_required("issuance.view_custody_risks")
def risk_cards(request: HttpRequest) -> HttpResponse:
    """The risky cards behind a count: one township, one kind, or all in scope."""
    township, kind = _filters(request)
    cards = risks.custody_risk_cards(user=request.user, township_code=township, kind=kind)
    count = risks.custody_risk_count(user=request.user, township_code=township, kind=kind)
    page = CountedPaginator(cards, 50, count=count).get_page(request.GET.get("page"))
    return render(
        request,
        "issuance/risk_cards.html",
        {
            "page": page,
            "days": risks.risk_days(),
            "township": _township_name(township),
            "township_code": township,
            "kind": kind,
            "kind_label": risks.risk_label(kind),
            "kind_advice": risks.risk_advice(kind),
            "query": query_without_page(request.GET),
        },
    )


@action_required("issuance.view_custody_risks")
def risk_holders(request: HttpRequest) -> HttpResponse:
    """Names that received the cards of several other holders, with those cards."""
    township, _ = _filters(request)
    holders = risks.persons_holding_several(user=request.user, township_code=township)
    return render(
        request,
        "issuance/risk_holders.html",
        {
            "holders": holders,
            "township": _township_name(township),
            "township_code": township,
        },
    )


@action_required("issuance.view_custody_risks")
@require_GET
def risk_export(request: HttpRequest) -> HttpResponse:
    township, kind = _filters(request)
    stream = io.BytesIO()
    custody_risks_export(user=request.user, stream=stream, township_code=township, kind=kind)
    label = _township_name(township) or "全部"
    name = f"代管风险_{label}_{timezone.localtime():%Y%m%d_%H%M}.xlsx"
    return _download(stream.getvalue(), name)


@action_required("issuance.view_reconciliation")
def reconciliation(request: HttpRequest) -> HttpResponse:
    """Every card the card-system export and our ledger disagree about, with advice."""
    township, kind = _filters(request)
    counts = recon.reconciliation_counts(user=request.user)
    rows = recon.reconciliation_rows(user=request.user, kind=kind, township=township)
    paginator = Paginator(rows, 50)
    # The counts just read say how many rows there are: no second count of them.
    paginator.count = recon.reconciliation_shown(counts, kind=kind, township=township)
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = recon.reconciliation_as_items(page.object_list)
    return render(
        request,
        "issuance/reconciliation.html",
        {
            "counts": counts,
            "reconciled": recon.reconciliation_basis(),
            "page": page,
            "kind": kind,
            "kind_label": recon.Kind.LABELS.get(kind, ""),
            "kind_advice": recon.Kind.ADVICE.get(kind, ""),
            "township_code": township,
            "township": recon.NOT_ON_ROSTER if township == "none" else _township_name(township),
            "basis": comparison_basis(),
            "query": query_without_page(request.GET),
        },
    )


@action_required("issuance.view_reconciliation")
@require_GET
def reconciliation_download(request: HttpRequest) -> HttpResponse:
    township, kind = _filters(request)
    stream = io.BytesIO()
    reconciliation_export(user=request.user, stream=stream, township_code=township, kind=kind)
    name = f"卡务对账_{timezone.localtime():%Y%m%d_%H%M}.xlsx"
    return _download(stream.getvalue(), name)


def _township_name(code: str) -> str:
    if not code:
        return ""
    return Township.objects.filter(code=code).values_list("name", flat=True).first() or ""
