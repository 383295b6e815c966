from dataclasses import asdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from dayao_sscard.permissions import roles_required, writer_required
from dayao_sscard.roles import Role

from . import selectors, services, verification
from .forms import ListImportForm, PersonContactForm, PersonFilterForm
from .matching import latest_snapshot
from .models import CardClass
from .reports import REPORT_KEYS, REPORT_LABELS, classification_report


def _filters_from(request: HttpRequest) -> tuple[PersonFilterForm, selectors.PersonFilters]:
    data = request.GET if request.method == "GET" else request.POST
    form = PersonFilterForm(
        data,
        townships=selectors.township_choices(user=request.user),
        villages=selectors.village_choices(
            user=request.user, township_code=data.get("township", "")
        ),
    )
    cleaned = form.cleaned_data if form.is_valid() else {}
    filters = selectors.PersonFilters(
        query=cleaned.get("q", ""),
        township=cleaned.get("township", ""),
        village=cleaned.get("village", ""),
        card_class=cleaned.get("card_class", ""),
        vital_status=cleaned.get("vital_status", ""),
        category=cleaned.get("category", ""),
        on_list=cleaned.get("on_list", ""),
        project=cleaned.get("project", ""),
        without_card=bool(cleaned.get("without_card")),
    )
    return form, filters


@login_required
def person_list(request: HttpRequest) -> HttpResponse:
    form, filters = _filters_from(request)
    persons = selectors.person_list(user=request.user, filters=filters)
    page = Paginator(persons, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "roster/person_list.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


@login_required
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = selectors.person_get(user=request.user, pk=pk)
    return render(
        request,
        "roster/person_detail.html",
        {
            "person": person,
            "history": selectors.person_history(person=person),
            "cards": person.cards.select_related("bank", "branch").order_by("-created_at"),
            "categories": person.categories.all(),
        },
    )


@writer_required
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    person = selectors.person_get(user=request.user, pk=pk)
    form = PersonContactForm(
        request.POST or None, instance=person, initial={"version": person.version}
    )
    if request.method == "POST" and form.is_valid():
        changes = {f: form.cleaned_data[f] for f in services.CONTACT_FIELDS}
        try:
            services.person_update_contact(
                person=person,
                acting_user=request.user,
                expected_version=form.cleaned_data["version"],
                **changes,
            )
        except verification.PersonEditConflict as conflict:
            messages.error(request, str(conflict))
            return render(
                request,
                "roster/person_edit.html",
                {"person": conflict.current, "form": form, "conflict": conflict.current},
                status=409,
            )
        messages.success(request, "已保存。")
        return redirect("roster:person-detail", pk=person.pk)
    return render(request, "roster/person_edit.html", {"person": person, "form": form})


@login_required
@require_POST
def person_reveal_id(request: HttpRequest, pk: int) -> HttpResponse:
    person = selectors.person_get(user=request.user, pk=pk)
    id_number = services.person_reveal_id_number(person=person, acting_user=request.user)
    return render(request, "roster/_id_number.html", {"id_number": id_number})


@login_required
@require_POST
def person_export(request: HttpRequest) -> HttpResponse:
    _, filters = _filters_from(request)
    job = services.person_export_start(acting_user=request.user, filters=asdict(filters))
    return redirect("job-detail", pk=job.pk)


@roles_required(Role.COUNTY_ADMIN)
def list_import_create(request: HttpRequest) -> HttpResponse:
    form = ListImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = services.list_import_start(
            acting_user=request.user,
            kind=form.cleaned_data["kind"],
            source=form.cleaned_data["source"],
            uploaded_file=form.cleaned_data["file"],
        )
        return redirect("job-detail", pk=job.pk)
    return render(
        request,
        "roster/import_form.html",
        {"form": form, "recent": selectors.source_lists()[:20]},
    )


@roles_required(Role.COUNTY_ADMIN, Role.COUNTY_SUPERVISOR, Role.TOWNSHIP_STAFF)
def comparison(request: HttpRequest) -> HttpResponse:
    """The comparison result per township; a township clerk sees their own, by village."""
    report = classification_report(user=request.user)
    township_code = request.GET.get("township") or (
        request.user.township.code if request.user.township_id else ""
    )
    villages = (
        selectors.village_class_counts(user=request.user, township_code=township_code)
        if township_code
        else []
    )
    invalid = selectors.invalid_rows(user=request.user)
    if township_code:
        invalid = invalid.filter(township__code=township_code)
    return render(
        request,
        "roster/comparison.html",
        {
            "report": report,
            "labels": REPORT_LABELS,
            "keys": REPORT_KEYS,
            "snapshot": latest_snapshot(),
            "township_code": township_code,
            "villages": villages,
            "invalid_rows": invalid.filter(id_unusable=True)[:200],
            "classes": CardClass.choices,
        },
    )


@roles_required(Role.COUNTY_ADMIN, Role.COUNTY_SUPERVISOR, Role.TOWNSHIP_STAFF)
def comparison_changes(request: HttpRequest) -> HttpResponse:
    changes = selectors.classification_changes(user=request.user)
    page = Paginator(changes, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "roster/comparison_changes.html",
        {"page": page, "snapshot": latest_snapshot()},
    )


@roles_required(Role.COUNTY_ADMIN, Role.COUNTY_SUPERVISOR, Role.TOWNSHIP_STAFF)
def subsidy_comparison(request: HttpRequest) -> HttpResponse:
    projects = selectors.subsidy_projects()
    rows = [
        {
            "project": project,
            "report": classification_report(user=request.user, subsidy_project=project),
        }
        for project in projects
    ]
    return render(request, "roster/subsidy.html", {"rows": rows})
