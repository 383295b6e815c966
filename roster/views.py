from dataclasses import asdict

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from dayao_sscard.params import query_without_page
from dayao_sscard.permissions import action_required, may
from dayao_sscard.selectors import job_get
from issuance.proxy_selectors import proxy_approvals_of

from . import pending_photos, selectors, services, verification
from .figures import FIGURE_HELP, FIGURE_LABELS
from .forms import (
    DeceasedForm,
    ListImportForm,
    PersonContactForm,
    PersonFilterForm,
    PersonVerifyForm,
    UndoDeceasedForm,
)
from .models import CardClass, UnreachableReason
from .paging import PlacePaginator
from .reports import PAGE_KEYS, REPORT_LABELS, classification_report


def _filters_from(request: HttpRequest) -> tuple[PersonFilterForm, selectors.PersonFilters]:
    data = request.GET if request.method == "GET" else request.POST
    form = PersonFilterForm(
        data,
        townships=selectors.township_choices(user=request.user),
        villages=selectors.village_options(
            user=request.user, township_code=data.get("township", "")
        ),
        with_membership=may(request.user, "roster.view_person_categories"),
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
        # An unknown figure lists nobody (and the form says why) rather than everybody.
        figure=data.get("figure", "") if "figure" in form.errors else cleaned.get("figure", ""),
    )
    return form, filters


@action_required("roster.search_persons")
def person_list(request: HttpRequest) -> HttpResponse:
    form, filters = _filters_from(request)
    persons = selectors.person_list_rows(user=request.user, filters=filters)
    counted = selectors.person_list_counted(user=request.user, filters=filters)
    page = PlacePaginator(
        persons, 50, counted=counted, probably_few=bool(filters.query.strip())
    ).get_page(request.GET.get("page"))
    selectors.with_card_flags(page.object_list)
    figure = filters.figure if filters.figure in FIGURE_LABELS else ""
    return render(
        request,
        "roster/person_list.html",
        {
            "form": form,
            "page": page,
            "query": query_without_page(request.GET),
            "figure_label": FIGURE_LABELS.get(figure, ""),
            "figure_help": FIGURE_HELP.get(figure, ""),
        },
    )


@action_required("roster.open_person")
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = selectors.person_get(user=request.user, pk=pk)
    return render(
        request,
        "roster/person_detail.html",
        {
            "person": person,
            "history": selectors.person_history(user=request.user, person=person),
            "witnesses": selectors.person_card_witnesses(person=person),
            "card_failure": selectors.last_card_failure(person=person),
            "cards": selectors.person_cards(user=request.user, person=person),
            "categories": person.categories.all(),
            "proxy_approvals": proxy_approvals_of(user=request.user, person=person),
        },
    )


@action_required("roster.edit_person_contact")
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
        except services.PersonEditConflict as conflict:
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


@action_required("roster.reveal_person_id")
@require_POST
def person_reveal_id(request: HttpRequest, pk: int) -> HttpResponse:
    person = selectors.person_get(user=request.user, pk=pk)
    id_number = services.person_reveal_id_number(person=person, acting_user=request.user)
    return render(request, "roster/_id_number.html", {"id_number": id_number})


@action_required("roster.export_persons")
@require_POST
def person_export(request: HttpRequest) -> HttpResponse:
    form, filters = _filters_from(request)
    if "figure" in form.errors:
        # Back to the list as asked, where the form names the unknown figure.
        asked = request.POST.copy()
        asked.pop("csrfmiddlewaretoken", None)
        return redirect(f"{reverse('roster:person-list')}?{asked.urlencode()}")
    job = services.person_export_start(acting_user=request.user, filters=asdict(filters))
    return redirect("job-detail", pk=job.pk)


@action_required("roster.import_lists")
def list_import_create(request: HttpRequest) -> HttpResponse:
    kinds = services.list_import_kinds(user=request.user)
    form = ListImportForm(request.POST or None, request.FILES or None, kinds=kinds)
    if request.method == "POST" and form.is_valid():
        job = services.list_import_start(
            acting_user=request.user,
            kind=form.cleaned_data["kind"],
            source=form.cleaned_data["source"],
            uploaded_file=form.cleaned_data["file"],
        )
        return redirect("job-detail", pk=job.pk)
    recent = Paginator(selectors.source_lists(user=request.user), 20)
    return render(
        request,
        "roster/import_form.html",
        {"form": form, "page": recent.get_page(request.GET.get("page"))},
    )


@action_required("roster.import_card_export")
@require_POST
def list_import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """The administrator's answer to a shrinking card-system export: complete or partial."""
    job = job_get(user=request.user, pk=pk)
    try:
        confirmed = services.list_import_confirm(
            acting_user=request.user, job=job, coverage=request.POST.get("coverage", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("job-detail", pk=job.pk)
    return redirect("job-detail", pk=confirmed.pk)


@action_required("roster.view_comparison")
def comparison(request: HttpRequest) -> HttpResponse:
    """The comparison result per township; a township clerk sees their own, by village."""
    report = classification_report(user=request.user, keys=PAGE_KEYS)
    township_code = request.GET.get("township") or (
        request.user.township.code if request.user.township_id else ""
    )
    villages = (
        selectors.village_class_counts(user=request.user, township_code=township_code)
        if township_code
        else []
    )
    invalid = selectors.invalid_rows(user=request.user).filter(id_unusable=True)
    if township_code:
        invalid = invalid.filter(township__code=township_code)
    return render(
        request,
        "roster/comparison.html",
        {
            "report": report,
            "labels": REPORT_LABELS,
            "keys": PAGE_KEYS,
            "basis": selectors.comparison_basis(),
            "township_code": township_code,
            "villages": villages,
            "invalid_rows": Paginator(invalid, 100).get_page(request.GET.get("page")),
            "query": query_without_page(request.GET),
            "classes": [*CardClass.choices, (selectors.DISAGREEMENT, selectors.DISAGREEMENT_LABEL)],
        },
    )


@action_required("roster.view_comparison")
def comparison_changes(request: HttpRequest) -> HttpResponse:
    changes = selectors.classification_changes(user=request.user)
    page = Paginator(changes, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "roster/comparison_changes.html",
        {"page": page, "snapshot": selectors.comparison_basis()["latest"]},
    )


@action_required("roster.view_comparison")
def comparison_disagreements(request: HttpRequest) -> HttpResponse:
    persons = selectors.disagreements(user=request.user)
    page = Paginator(persons, 100).get_page(request.GET.get("page"))
    rows = selectors.with_ledger_cards(user=request.user, persons=list(page))
    return render(
        request,
        "roster/comparison_disagreements.html",
        {
            "page": page,
            "rows": rows,
            "snapshot": selectors.comparison_basis()["latest"],
            "advice": selectors.DISAGREEMENT_ADVICE,
            "listed": selectors.disagreements_listed(user=request.user),
        },
    )


@action_required("roster.view_subsidy_comparison")
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


@action_required("roster.view_work_queue")
def work_queue(request: HttpRequest) -> HttpResponse:
    """The collector's list: who still needs checking, grouped by what is missing."""
    village = request.GET.get("village", "")
    queue = selectors.WorkQueue(user=request.user, village=village)
    groups = queue.group_counts()
    group = request.GET.get("group", "")
    group = group if group in verification.PROBLEM_GROUPS else ""
    page = Paginator(queue.persons(group), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "roster/work_queue.html",
        {
            "page": page,
            "groups": groups,
            "labels": verification.PROBLEM_GROUPS,
            "group": group,
            "village": village,
            "villages": selectors.village_choices(user=request.user),
            "total": queue.count(),
            "query": query_without_page(request.GET),
        },
    )


@action_required("roster.verify_person")
def person_verify(request: HttpRequest, pk: int) -> HttpResponse:
    """Check and complete one person, then go straight on to the next one."""
    person = selectors.person_get(user=request.user, pk=pk)
    if person.is_deceased:
        messages.error(request, "该人员已登记死亡，不再采集信息。")
        return redirect("roster:person-detail", pk=person.pk)
    initial = {
        "version": person.version,
        "unreachable_reason": person.unreachable_reason,
        "unreachable_note": person.unreachable_note,
    }
    form = PersonVerifyForm(
        request.POST or None, request.FILES or None, instance=person, initial=initial
    )
    kept_photo = request.POST.get("photo_token", "")
    if request.method == "POST" and form.is_valid():
        photo = form.cleaned_data["photo_upload"]
        if photo is None and kept_photo:
            photo = pending_photos.pending_photo_data(
                user=request.user, person=person, token=kept_photo
            )
        try:
            saved = services.person_verify(
                person=person,
                acting_user=request.user,
                expected_version=form.cleaned_data["version"],
                elements={f: form.cleaned_data[f] for f in verification.ELEMENT_FIELDS},
                unreachable_reason=form.cleaned_data["unreachable_reason"],
                unreachable_note=form.cleaned_data["unreachable_note"],
                photo=photo,
            )
        except services.PersonEditConflict as conflict:
            messages.error(request, str(conflict))
            return _verify_page(request, conflict.current, form, kept_photo, conflict=True)
        if kept_photo:
            pending_photos.pending_photo_discard(user=request.user, person=saved, token=kept_photo)
        remaining = verification.person_problems(saved)
        status = saved.get_verification_status_display()
        messages.success(request, f"已保存 {saved.name}（{status}）。")
        for problem in remaining[:3]:
            messages.warning(request, f"{saved.name} 仍需补充：{problem.message}")
        if len(remaining) > 3:
            messages.warning(request, f"另有 {len(remaining) - 3} 项待补充，见下方九要素。")
        if "next" in request.POST:
            following = selectors.work_queue_next(user=request.user, after=saved)
            if following is not None:
                return redirect("roster:person-verify", pk=following.pk)
            messages.info(request, "核查队列已全部完成。")
            return redirect("roster:work-queue")
        return redirect("roster:person-verify", pk=saved.pk)
    return _verify_page(request, person, form, kept_photo)


def _verify_page(request, person, form, kept_photo: str, *, conflict: bool = False):
    """The form again; a photo that passed its checks is kept, so nobody shoots twice."""
    if request.method == "POST":
        kept_photo = _keep_photo(request, person, form, kept_photo)
    problems = verification.person_problems(person)
    return render(
        request,
        "roster/person_verify.html",
        {
            "person": person,
            "form": form,
            "conflict": person if conflict else None,
            "problems": problems,
            # What the summary names as still missing: a kept photo is no longer missing.
            "missing": [p for p in problems if not (kept_photo and p.field == "photo")],
            "form_errors": [
                (_error_label(form, name, message), message)
                for name, messages_ in form.errors.items()
                for message in messages_
            ],
            "elements": form.elements(problems),
            "card_failure": selectors.last_card_failure(person=person),
            "kept_photo": kept_photo,
        },
        status=409 if conflict else 200,
    )


def _error_label(form, name: str, message: str) -> str:
    """The field a form error is about, unless the message already names it."""
    label = str(form[name].label) if name in form.fields else ""
    return "" if message.startswith(label) else label


def _keep_photo(request, person, form, kept_photo: str) -> str:
    new_photo = getattr(form, "cleaned_data", {}).get("photo_upload")
    if new_photo:
        if kept_photo:
            pending_photos.pending_photo_discard(user=request.user, person=person, token=kept_photo)
        return pending_photos.pending_photo_keep(user=request.user, person=person, data=new_photo)
    if kept_photo and pending_photos.pending_photo_data(
        user=request.user, person=person, token=kept_photo
    ):
        return kept_photo
    return ""


@action_required("roster.verify_person")
def person_kept_photo(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    """The preview of a photo kept across a form error, only for the user who took it."""
    person = selectors.person_get(user=request.user, pk=pk)
    preview = pending_photos.pending_photo_preview(user=request.user, person=person, token=token)
    if preview is None:
        raise Http404("没有暂存的照片。")
    response = HttpResponse(preview, content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response


@action_required("roster.open_person")
def person_photo(request: HttpRequest, pk: int, size: str) -> FileResponse:
    """The photo, only to users in the person's scope; never cached by shared proxies."""
    person = selectors.person_get(user=request.user, pk=pk)
    file = person.photo_thumbnail if size == "thumb" else person.photo
    if not file:
        raise Http404("没有照片。")
    response = FileResponse(file.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response


@action_required("roster.mark_person_deceased")
@require_POST
def person_mark_deceased(request: HttpRequest, pk: int) -> HttpResponse:
    person = selectors.person_get(user=request.user, pk=pk)
    form = DeceasedForm(request.POST)
    if form.is_valid():
        try:
            services.person_mark_deceased(
                person=person,
                acting_user=request.user,
                death_date=form.cleaned_data["death_date"],
                source=form.cleaned_data["source"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, f"已登记 {person.name} 死亡；其名下有效社保卡已列入注销。")
    else:
        messages.error(request, "请填写死亡日期和信息来源。")
    return redirect("roster:person-detail", pk=person.pk)


@action_required("roster.undo_person_deceased")
@require_POST
def person_undo_deceased(request: HttpRequest, pk: int) -> HttpResponse:
    person = selectors.person_get(user=request.user, pk=pk)
    form = UndoDeceasedForm(request.POST)
    if not form.is_valid():
        messages.error(request, "撤销死亡登记必须说明原因。")
        return redirect("roster:person-detail", pk=person.pk)
    try:
        services.person_undo_deceased(
            person=person, acting_user=request.user, reason=form.cleaned_data["reason"]
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "已撤销死亡登记，待注销的社保卡已撤回注销申请。")
    return redirect("roster:person-detail", pk=person.pk)


@action_required("roster.view_progress")
def verification_progress(request: HttpRequest) -> HttpResponse:
    rows = selectors.verification_progress(user=request.user)
    keys = ("in_scope", "pending", "ready", "deceased", "unreachable")
    totals = {k: sum(r[k] for r in rows) for k in keys}
    reasons = [(f"unreachable_{r.value}", r.label) for r in UnreachableReason]
    for key, _ in reasons:
        totals[key] = sum(r[key] for r in rows)
    townships: dict[str, dict] = {}
    for row in rows:
        township = townships.setdefault(
            row["township__code"],
            {"name": row["township__name"], "villages": [], **dict.fromkeys(totals, 0)},
        )
        township["villages"].append(row)
        for key in totals:
            township[key] += row[key]
    return render(
        request,
        "roster/progress.html",
        {"townships": list(townships.values()), "rows": rows, "totals": totals, "reasons": reasons},
    )
