"""代管（代领）审批 pages: the list, registering, the detail with its document, approving,
revoking, issuing the holder's card to the approved proxy; the county's cadre list."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from dayao_sscard.audit import audit_record
from dayao_sscard.params import id_param, query_without_page
from dayao_sscard.permissions import action_required, may
from roster.models import Person
from roster.selectors import person_get, township_choices

from . import proxies, proxy_selectors
from .forms import ProxyIssueForm, ProxyRegisterForm, ProxyRevokeForm
from .proxy_selectors import PROXY_STATES
from .services import card_issue_to_proxy

DOCUMENT_TYPES = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png"}


@action_required("issuance.view_proxy_approvals")
def proxy_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    states = dict(PROXY_STATES)
    state = request.GET.get("state", "valid")
    state = state if state in states or state == "all" else "valid"
    township_code = request.GET.get("township", "") if user.is_county_wide else ""
    query = request.GET.get("q", "").strip()
    approvals = proxy_selectors.proxy_approvals(
        user=user, state="" if state == "all" else state, township_code=township_code, query=query
    )
    page = Paginator(approvals, 50).get_page(request.GET.get("page"))
    counts = proxy_selectors.proxy_state_counts(user=user, township_code=township_code)
    return render(
        request,
        "issuance/proxy_list.html",
        {
            "page": page,
            "state": state,
            "tabs": [(code, label, counts[code]) for code, label in PROXY_STATES],
            "townships": township_choices(user=user) if user.is_county_wide else None,
            "township_code": township_code,
            "q": query,
            "query": query_without_page(request.GET),
            "today": timezone.localdate(),
        },
    )


@action_required("issuance.register_proxy_approval")
def proxy_register(request: HttpRequest) -> HttpResponse:
    """Register an approval for the person the page names (?person=) or an ID number."""
    user = request.user
    holder = None
    if pk := id_param(request.GET.get("person", "")):
        holder = person_get(user=user, pk=pk)
    form = ProxyRegisterForm(
        request.POST or None, request.FILES or None, holder=holder, initial=_initial(holder)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        person = holder or _holder_by_id_number(user, data["holder_id_number"], form)
        if person is not None:
            try:
                approval = proxies.proxy_approval_register(
                    person=person,
                    acting_user=user,
                    ground=data["ground"],
                    requested_by_name=data["requested_by_name"],
                    request_reason=data["request_reason"],
                    document=data["document"],
                    document_name=form.document_name,
                    custodian_name=data["custodian_name"],
                    custodian_id_number=data["custodian_id_number"],
                    custodian_relationship=data["custodian_relationship"],
                    custodian_is_cadre=data["custodian_is_cadre"],
                    cadre_reason=data["cadre_reason"],
                    valid_from=data["valid_from"],
                    valid_until=data["valid_until"],
                )
            except ValidationError as refused:
                form.add_error(None, "；".join(refused.messages))
            else:
                messages.success(
                    request,
                    f"已登记{person.name}由{approval.custodian_name}代管的审批，"
                    "请由另一名乡镇社保中心工作人员或县人社局审批。",
                )
                return redirect("issuance:proxy-detail", pk=approval.pk)
    if form.is_bound and "document" not in form.errors:
        # A browser never re-fills a file field: say so, or the clerk fixes the named
        # problem, submits again and is only then told the document is missing.
        form.add_error("document", "出错后浏览器不保留已选择的文件，请重新选择委托书或监护证明。")
    return render(request, "issuance/proxy_register.html", {"form": form, "holder": holder})


def _initial(holder: Person | None) -> dict:
    return {"valid_from": timezone.localdate()}


def _holder_by_id_number(user, id_number: str, form) -> Person | None:
    person = Person.objects.for_user(user).filter(id_number=id_number).first()
    if person is None:
        form.add_error("holder_id_number", "未找到该身份证号码的人员，或该人员不在您的管辖范围内。")
    return person


@action_required("issuance.view_proxy_approvals")
def proxy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    approval = proxy_selectors.proxy_approval_get(user=request.user, pk=pk)
    return _detail_page(request, approval)


def _detail_page(request, approval, *, issue_form=None, status: int = 200) -> HttpResponse:
    user = request.user
    today_status = approval.status_on(timezone.localdate())
    return render(
        request,
        "issuance/proxy_detail.html",
        {
            "approval": approval,
            "status": today_status,
            "status_label": today_status.label,
            "is_registrar": approval.registered_by_id == user.pk,
            "can_issue": may(user, "issuance.issue_to_proxy", approval) and today_status == "valid",
            "issue_form": issue_form or ProxyIssueForm(initial={"location": _default_place(user)}),
            "revoke_form": ProxyRevokeForm(),
            "cadre": proxies.custodian_cadre(
                township_id=approval.person.township_id,
                name=approval.custodian_name,
                id_number=approval.custodian_id_number,
            ),
        },
        status=status,
    )


def _default_place(user) -> str:
    if user.village_id:
        return f"{user.village.name}村委会"
    if user.township_id:
        return f"{user.township.name}社保中心"
    return ""


@action_required("issuance.view_proxy_approvals")
@require_GET
def proxy_document(request: HttpRequest, pk: int) -> FileResponse:
    """The written entrustment or guardianship document, within scope; each look audited."""
    approval = proxy_selectors.proxy_approval_get(user=request.user, pk=pk)
    extension = approval.document.name.rsplit(".", 1)[-1].lower()
    audit_record(actor=request.user, action="issuance.proxyapproval.document_viewed", obj=approval)
    try:
        document = approval.document.open("rb")
    except FileNotFoundError:
        raise Http404("证明材料文件已不在数据目录中，请联系县人社局。") from None
    response = FileResponse(
        document,
        content_type=DOCUMENT_TYPES.get(extension, "application/octet-stream"),
        filename=approval.document_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    # An entrustment or guardianship paper: no browser or proxy cache keeps a copy.
    response["Cache-Control"] = "private, no-store"
    return response


@action_required("issuance.approve_proxy_approval")
@require_POST
def proxy_approve(request: HttpRequest, pk: int) -> HttpResponse:
    approval = proxy_selectors.proxy_approval_get(user=request.user, pk=pk)
    try:
        proxies.proxy_approval_approve(approval=approval, acting_user=request.user)
    except ValidationError as refused:
        messages.error(request, "；".join(refused.messages))
    else:
        messages.success(request, "已批准。代管人凭此审批可在有效期内代领社保卡。")
    return redirect("issuance:proxy-detail", pk=approval.pk)


@action_required("issuance.revoke_proxy_approval")
@require_POST
def proxy_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    approval = proxy_selectors.proxy_approval_get(user=request.user, pk=pk)
    form = ProxyRevokeForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError("请填写撤销原因。")
        proxies.proxy_approval_revoke(
            approval=approval, acting_user=request.user, reason=form.cleaned_data["reason"]
        )
    except ValidationError as refused:
        messages.error(request, "；".join(refused.messages))
    else:
        messages.success(request, "已撤销该代管审批，此后不能再凭其代领。")
    return redirect("issuance:proxy-detail", pk=approval.pk)


@action_required("issuance.issue_to_proxy")
@require_POST
def proxy_issue(request: HttpRequest, pk: int) -> HttpResponse:
    """凭此审批发放: the holder's card to the approved proxy, through the ledger."""
    approval = proxy_selectors.proxy_approval_get(user=request.user, pk=pk)
    form = ProxyIssueForm(request.POST)
    if form.is_valid():
        try:
            card = card_issue_to_proxy(
                approval=approval,
                acting_user=request.user,
                location=form.cleaned_data["location"],
                identity_checked=form.cleaned_data["identity_checked"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as refused:
            form.add_error(None, "；".join(refused.messages))
        else:
            messages.success(
                request,
                f"社保卡{card.card_number or ''}已发放给代领人{approval.custodian_name}（经批准代领）。",
            )
            return redirect("issuance:proxy-detail", pk=approval.pk)
    return _detail_page(request, approval, issue_form=form, status=400)


@action_required("issuance.view_cadres")
def cadre_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    township_code = request.GET.get("township", "") if user.is_county_wide else ""
    cadres = proxy_selectors.cadre_list(user=user, township_code=township_code)
    page = Paginator(cadres, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "issuance/cadre_list.html",
        {
            "page": page,
            "townships": township_choices(user=user) if user.is_county_wide else None,
            "township_code": township_code,
            "query": query_without_page(request.GET),
        },
    )
