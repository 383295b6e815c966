"""Reads of proxy approvals and cadres, always through the user's scope."""

from datetime import date, timedelta

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from roster.models import Person

from .models import Cadre, ProxyApproval
from .proxies import EXPIRING_WITHIN_DAYS

# The list's tabs, in the order shown: (code, label).
PROXY_STATES = (
    ("valid", "有效"),
    ("expiring", f"{EXPIRING_WITHIN_DAYS}天内到期"),
    ("expired", "已到期"),
    ("pending", "待审批"),
    ("revoked", "已撤销"),
)


def proxy_state_q(state: str, today: date) -> Q:
    """The approvals in one tab on ``today``; unknown codes select all."""
    approved = Q(approved_at__isnull=False, revoked_at__isnull=True)
    valid = approved & Q(valid_from__lte=today, valid_until__gte=today)
    if state == "valid":
        return valid
    if state == "expiring":
        return valid & Q(valid_until__lte=today + timedelta(days=EXPIRING_WITHIN_DAYS))
    if state == "expired":
        return approved & Q(valid_until__lt=today)
    if state == "pending":
        return Q(approved_at__isnull=True, revoked_at__isnull=True)
    if state == "revoked":
        return Q(revoked_at__isnull=False)
    return Q()


def proxy_approvals(
    *, user, state: str = "", township_code: str = "", query: str = ""
) -> QuerySet[ProxyApproval]:
    """The user's approvals in a tab, a township (county roles), and for holders a search
    finds (name, village, ID number or its last digits)."""
    approvals = ProxyApproval.objects.for_user(user).filter(
        proxy_state_q(state, timezone.localdate())
    )
    if township_code:
        approvals = approvals.filter(person__township__code=township_code)
    if query.strip():
        holders = Person.objects.for_user(user).search(query).values("pk")
        approvals = approvals.filter(person__in=holders)
    return approvals.select_related(
        "person", "person__township", "person__village", "registered_by", "approved_by"
    ).order_by("valid_until", "pk")


def proxy_state_counts(*, user, township_code: str = "") -> dict[str, int]:
    """How many approvals each tab holds, for the tab labels."""
    approvals = ProxyApproval.objects.for_user(user)
    if township_code:
        approvals = approvals.filter(person__township__code=township_code)
    today = timezone.localdate()
    return {code: approvals.filter(proxy_state_q(code, today)).count() for code, _ in PROXY_STATES}


def proxy_approvals_of(*, user, person: Person) -> QuerySet[ProxyApproval]:
    return (
        ProxyApproval.objects.for_user(user)
        .filter(person=person)
        .select_related("registered_by", "approved_by", "revoked_by")
    )


def proxy_approval_get(*, user, pk: int) -> ProxyApproval:
    """An approval in the user's scope; another township's answers 404."""
    return get_object_or_404(
        ProxyApproval.objects.for_user(user).select_related(
            "person",
            "person__township",
            "person__village",
            "registered_by",
            "approved_by",
            "revoked_by",
        ),
        pk=pk,
    )


def cadre_list(*, user, township_code: str = "") -> QuerySet[Cadre]:
    cadres = Cadre.objects.for_user(user).select_related("township", "village")
    if township_code:
        cadres = cadres.filter(township__code=township_code)
    return cadres


def proxy_expiring_counts(*, user) -> dict[str, int]:
    """Per township code in the user's scope: the approvals of the list's 即将到期 tab
    (valid today, ending within ``EXPIRING_WITHIN_DAYS``), for the dashboards."""
    return dict(
        ProxyApproval.objects.for_user(user)
        .filter(proxy_state_q("expiring", timezone.localdate()))
        .values_list("person__township__code")
        .annotate(n=Count("id"))
        .order_by()
    )
