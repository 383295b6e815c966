"""The bank counter (网点柜面): find the person, see what they still need, do it.

Each action is a small form on the person's counter page; done, it redirects back to the
page (a refresh does not do it twice), refused, the page comes back with the form as it
was filled and the reason beside it.
"""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from dayao_sscard.paging import CountedPaginator
from dayao_sscard.params import query_without_page
from dayao_sscard.permissions import action_required
from issuance.services import card_make_instant
from roster.models import Person

from . import selectors, services
from .forms import ActivateForm, CounterLookupForm, EcardForm, InstantCardForm, IssueForm

# The persons this session found by exact ID number outside the clerk's list scope: only
# these open by their page's address, so no address leads to a person nobody looked up.
FOUND_KEY = "counter_found"
FOUND_KEPT = 50

NOT_FOUND = (
    "没有找到：请核对身份证号码或社保卡卡号。只能查到本网点办理范围内的人员"
    "（持有本网点社保卡的人员，或本网点服务乡镇中尚无社保卡的人员）。"
)


def _found(request: HttpRequest) -> list[int]:
    return request.session.get(FOUND_KEY, [])


def _remember(request: HttpRequest, person: Person) -> None:
    found = [pk for pk in _found(request) if pk != person.pk]
    request.session[FOUND_KEY] = [*found, person.pk][-FOUND_KEPT:]


def _person(request: HttpRequest, pk: int) -> Person:
    return selectors.counter_person_get(user=request.user, pk=pk, opened=_found(request))


@action_required("activation.view_counter")
def counter(request: HttpRequest) -> HttpResponse:
    """Type or scan an ID number or card number, press Enter."""
    form = CounterLookupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        found = selectors.counter_lookup(user=request.user, text=form.cleaned_data["q"])
        if found is not None:
            if found.through_door:
                services.counter_person_opened(person=found.person, acting_user=request.user)
                _remember(request, found.person)
            return redirect("activation:counter-person", pk=found.person.pk)
        form.add_error("q", NOT_FOUND)
    return render(request, "activation/counter.html", {"lookup": form})


@action_required("activation.view_counter")
@require_GET
def counter_person(request: HttpRequest, pk: int) -> HttpResponse:
    return _person_page(request, _person(request, pk))


def _person_page(
    request: HttpRequest, person: Person, *, form_key: str = "", form=None, status: int = 200
) -> HttpResponse:
    forms = {
        "instant": InstantCardForm(),
        "issue": IssueForm(initial={"signee": person.name}),
        "activate": ActivateForm(),
        "ecard": EcardForm(),
    }
    if form_key:
        forms[form_key] = form
    state = selectors.counter_state(user=request.user, person=person)
    context = {
        "state": state,
        "person": person,
        "forms": forms,
        "failed": form_key,
        "lookup": CounterLookupForm(),
    }
    return render(request, "activation/counter_person.html", context, status=status)


def _act(
    request: HttpRequest,
    pk: int,
    key: str,
    form_class,
    do: Callable[[Person, object], str],
) -> HttpResponse:
    """Run one counter action: done, back to the page with what was done (PRG); refused,
    the page again with the form as filled and the reason (400)."""
    person = _person(request, pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            done = do(person, form)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, done)
            return redirect("activation:counter-person", pk=person.pk)
    return _person_page(request, person, form_key=key, form=form, status=400)


def _card_or_refuse(request: HttpRequest, person: Person):
    card = selectors.counter_card(user=request.user, person=person)
    if card is None:
        raise ValidationError("该人员没有本网点可以办理的社保卡。")
    return card


@action_required("activation.view_counter")
@action_required("issuance.make_instant_card")
@require_POST
def counter_instant_card(request: HttpRequest, pk: int) -> HttpResponse:
    def do(person: Person, form) -> str:
        card = card_make_instant(
            person=person, card_number=form.cleaned_data["card_number"], acting_user=request.user
        )
        return f"已为{person.name}即时制卡，卡号 {card.card_number}。请接着办理发放。"

    return _act(request, pk, "instant", InstantCardForm, do)


@action_required("activation.view_counter")
@action_required("issuance.record_card_distribution")
@require_POST
def counter_issue(request: HttpRequest, pk: int) -> HttpResponse:
    def do(person: Person, form) -> str:
        services.card_issue_at_counter(
            card=_card_or_refuse(request, person),
            acting_user=request.user,
            signee=form.cleaned_data["signee"],
            identity_checked=form.cleaned_data["identity_checked"],
            note=form.cleaned_data["note"],
        )
        return f"已发放给{form.cleaned_data['signee']}（网点柜台发放）。"

    return _act(request, pk, "issue", IssueForm, do)


@action_required("activation.view_counter")
@action_required("issuance.activate_card")
@require_POST
def counter_activate(request: HttpRequest, pk: int) -> HttpResponse:
    def do(person: Person, form) -> str:
        services.card_activate_at_counter(
            card=_card_or_refuse(request, person),
            acting_user=request.user,
            face_to_face=form.cleaned_data["face_to_face"],
            identity_checked=form.cleaned_data["identity_checked"],
            note=form.cleaned_data["note"],
        )
        return f"{person.name}的社保卡金融功能已激活（面签）。"

    return _act(request, pk, "activate", ActivateForm, do)


@action_required("activation.view_counter")
@action_required("activation.sign_ecard")
@require_POST
def counter_ecard(request: HttpRequest, pk: int) -> HttpResponse:
    def do(person: Person, form) -> str:
        services.ecard_sign(
            person=person,
            acting_user=request.user,
            channel=form.cleaned_data["channel"],
            signed_at=form.signed_at(),
        )
        return f"已登记{person.name}的电子社保卡签发。"

    return _act(request, pk, "ecard", EcardForm, do)


@action_required("activation.view_counter")
def counter_photo(request: HttpRequest, pk: int) -> FileResponse:
    """The person's photo thumbnail, to compare with the face at the counter."""
    person = _person(request, pk)
    if not person.photo_thumbnail:
        raise Http404("没有照片。")
    response = FileResponse(person.photo_thumbnail.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response


def _list_page(
    request: HttpRequest, template: str, rows, extra: dict | None = None, count: int | None = None
):
    branch = request.GET.get("branch", "")
    paginator = Paginator(rows, 50) if count is None else CountedPaginator(rows, 50, count=count)
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "page": page,
        "branch": branch,
        "branches": selectors.branch_choices(user=request.user),
        "branch_label": selectors.branch_label(user=request.user, branch_id=branch),
        "query": query_without_page(request.GET),
        **(extra or {}),
    }
    return render(request, template, context)


@action_required("activation.view_counter")
def branch_waiting(request: HttpRequest) -> HttpResponse:
    """Cards made and waiting for their holders, longest waiting first."""
    branch = request.GET.get("branch", "")
    cards = selectors.cards_waiting(user=request.user, branch_id=branch)
    count = selectors.cards_counted(
        user=request.user, branch_id=branch, statuses=selectors.WAITING_STATUSES
    )
    return _list_page(request, "activation/branch_waiting.html", cards, count=count)


@action_required("activation.view_counter")
def branch_not_activated(request: HttpRequest) -> HttpResponse:
    """Cards issued to their holders whose bank function is still off."""
    branch = request.GET.get("branch", "")
    cards = selectors.cards_not_activated(user=request.user, branch_id=branch)
    count = selectors.cards_counted(
        user=request.user, branch_id=branch, statuses=selectors.NOT_ACTIVATED_STATUSES
    )
    return _list_page(request, "activation/branch_not_activated.html", cards, count=count)


@action_required("activation.view_counter")
def branch_today(request: HttpRequest) -> HttpResponse:
    """Today's work at the branch: ledger entries, activations and electronic cards."""
    work = selectors.todays_work(user=request.user, branch_id=request.GET.get("branch", ""))
    return _list_page(
        request,
        "activation/branch_today.html",
        work.entries,
        {"counts": work.counts, "ecards": work.ecards},
        count=work.total,
    )
