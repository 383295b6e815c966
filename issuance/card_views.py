"""The card page: the card, its holder, its ledger as a timeline, and 发放 on it."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from dayao_sscard.permissions import action_required, may

from . import issuing, selectors, stock
from .events import acting_unit
from .forms import CardIssueForm
from .models import Card, IssueMethod

CLERK_METHODS = {method.value: method.label for method in issuing.CLERK_ISSUE_METHODS}


@action_required("issuance.view_card")
@require_GET
def card_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _card_page(request, selectors.card_get(user=request.user, pk=pk))


def _card_page(
    request: HttpRequest, card: Card, *, form: CardIssueForm | None = None, status: int = 200
) -> HttpResponse:
    user = request.user
    if form is None and may(user, "issuance.issue_card", card):
        form = CardIssueForm(
            methods=CLERK_METHODS,
            initial={
                "method": IssueMethod.WINDOW,
                "place": acting_unit(user)[1],
                "signee": card.person.name,
            },
        )
    context = {
        "card": card,
        "person": card.person,
        "entries": selectors.card_ledger(card=card),
        "pending": selectors.pending_cancellation(card),
        "refusal": selectors.card_issue_refusal(card=card),
        "form": form,
        # The same card's page on the stock work list, where its attempts are recorded.
        "second_issuance": card.status in stock.ATTEMPT_STATUSES,
    }
    return render(request, "issuance/card_detail.html", context, status=status)


@action_required("issuance.issue_card")
@require_POST
def card_issue(request: HttpRequest, pk: int) -> HttpResponse:
    """发放: done, back to the card page (a refresh does not issue twice); refused, the
    page again with the form as filled and the reason (400)."""
    card = selectors.card_get(user=request.user, pk=pk)
    form = CardIssueForm(request.POST, methods=CLERK_METHODS)
    if form.is_valid():
        data = form.cleaned_data
        try:
            issuing.card_issue(card=card, acting_user=request.user, **data)
        except issuing.AlreadyIssued as exc:
            messages.info(request, "；".join(exc.messages))
            return redirect("issuance:card-detail", pk=card.pk)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            method = CLERK_METHODS[data["method"]]
            messages.success(request, f"已登记发放（{method}），签收人：{_signee(data)}。")
            return redirect("issuance:card-detail", pk=card.pk)
    return _card_page(request, card, form=form, status=400)


def _signee(data: dict) -> str:
    if data["method"] == "proxy":
        return f"代领人{data['proxy_name']}"
    return data["signee"]
