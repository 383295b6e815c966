"""采集冲突: where a 12333 value differs from the system's, a clerk keeps one or the other."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render

from dayao_sscard.params import id_param
from dayao_sscard.permissions import action_required, require

from . import selectors
from .selectors import conflict_groups, conflict_person_get, conflict_persons
from .services import PersonEditConflict, conflict_resolve

PERSONS_PER_PAGE = 20


@action_required("roster.view_conflicts")
def conflict_list(request: HttpRequest) -> HttpResponse:
    township_code = request.GET.get("township", "") if request.user.is_county_wide else ""
    persons = conflict_persons(user=request.user, township_code=township_code)
    page = Paginator(persons, PERSONS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "roster/conflicts.html",
        {
            "groups": conflict_groups(user=request.user, persons=page.object_list),
            "page": page,
            "township_code": township_code,
            "query": urlencode({"township": township_code}) if township_code else "",
            "townships": selectors.township_choices(user=request.user)
            if request.user.is_county_wide
            else [],
        },
    )


@action_required("roster.view_conflicts")
def conflict_person(request: HttpRequest, pk: int) -> HttpResponse:
    person = conflict_person_get(user=request.user, pk=pk)
    if request.method != "POST":
        return _render_person(request, person)
    require(request.user, "roster.resolve_conflicts", person)
    choices, version = _choices_from(request.POST)
    if version is None:
        messages.error(request, "页面已过期，请刷新后重新选择。")
        return _render_person(request, person, choices=choices, status=400)
    try:
        conflict_resolve(
            conflict_ids_and_choices=choices,
            person=person,
            acting_user=request.user,
            expected_version=version,
        )
    except PersonEditConflict as conflict:
        messages.error(request, str(conflict))
        return _render_person(request, conflict.current, choices=choices, status=409)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return _render_person(request, person, choices=choices, status=400)
    messages.success(request, f"已处理{person.name}的采集冲突。")
    return redirect("roster:conflicts")


def _choices_from(data: QueryDict) -> tuple[dict[int, str], int | None]:
    choices = {}
    for key, value in data.items():
        number = id_param(key.removeprefix("choice_"))
        if key.startswith("choice_") and number is not None and value:
            choices[number] = value
    return choices, id_param(data.get("version", ""))


def _render_person(request, person, *, choices=None, status=200) -> HttpResponse:
    """One person's conflicts; after a refusal the clerk's choices are shown again."""
    return render(
        request,
        "roster/conflicts.html",
        {
            "groups": conflict_groups(user=request.user, persons=[person], chosen=choices),
            "single": person,
        },
        status=status,
    )
