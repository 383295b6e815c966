"""发放台账: choose a township or village and a format; the file is made by a job."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from dayao_sscard.permissions import action_required
from roster.selectors import township_choices, village_choices

from .ledger_exports import FORMAT_LABELS, PDF, ledger_export_start


@action_required("issuance.view_ledger")
def ledger(request: HttpRequest) -> HttpResponse:
    user = request.user
    data = request.POST if request.method == "POST" else request.GET
    townships = list(township_choices(user=user))
    if user.is_county_wide:
        township_code = data.get("township", "") or (townships[0].code if townships else "")
    else:
        township_code = user.township.code if user.township_id else ""
    villages = village_choices(user=user, township_code=township_code) if township_code else []
    village = user.village.name if user.village_id else data.get("village", "")
    fmt = data.get("format", PDF)
    error = ""
    if request.method == "POST":
        try:
            job = ledger_export_start(
                acting_user=user, township_code=township_code, village_name=village, fmt=fmt
            )
        except (ValidationError, PermissionDenied) as exc:
            error = "；".join(getattr(exc, "messages", [str(exc)]))
        else:
            return redirect("job-detail", pk=job.pk)
    return render(
        request,
        "issuance/ledger.html",
        {
            "townships": townships,
            "township_code": township_code,
            "villages": villages,
            "village": village,
            "formats": FORMAT_LABELS.items(),
            "format": fmt,
            "error": error,
        },
        status=400 if error else 200,
    )
