"""Reads for the cross-cutting pages: home dashboards, jobs, the audit log."""

from django.db.models import Count, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from issuance.models import Card, CardStatus, CustodyKind

from .jobs import job_fail_if_worker_gone
from .models import AuditEvent, Campaign, Job, JobStatus, User
from .roles import Role


def campaign_active() -> Campaign | None:
    return Campaign.objects.filter(is_active=True).first()


def campaign_stages(campaign: Campaign | None) -> list[dict]:
    if campaign is None:
        return []
    today = timezone.localdate()
    stages = campaign.stages()
    for stage in stages:
        stage["days_left"] = (stage["deadline"] - today).days
        stage["overdue"] = stage["days_left"] < 0
        stage["days_overdue"] = -stage["days_left"]
    return stages


def card_status_counts(*, user) -> list[dict]:
    counts = dict(
        Card.objects.for_user(user).values_list("status").annotate(n=Count("id")).order_by()
    )
    return [{"status": s, "count": counts.get(s.value, 0)} for s in CardStatus]


def cards_held_by_cadres(*, user) -> QuerySet[Card]:
    """Cards sitting with a township or village office: a custody risk to show."""
    return (
        Card.objects.for_user(user)
        .filter(
            custody_kind__in=[CustodyKind.TOWNSHIP, CustodyKind.VILLAGE],
            status__in=[CardStatus.IN_STOCK, CardStatus.IN_TRANSIT],
        )
        .select_related("person", "person__township")
        .order_by("custody_since")
    )


def job_list(*, user) -> QuerySet[Job]:
    return Job.objects.for_user(user).select_related("started_by")


def job_get(*, user, pk: int) -> Job:
    job = get_object_or_404(Job.objects.for_user(user), pk=pk)
    return job_fail_if_worker_gone(job)


def job_is_waiting_long(job: Job) -> bool:
    """Queued for over a minute: the worker is probably not running."""
    return job.status == JobStatus.QUEUED and (timezone.now() - job.created_at).total_seconds() > 60


def audit_list(*, user, action: str = "", username: str = "") -> QuerySet[AuditEvent]:
    if user.role not in (Role.COUNTY_ADMIN, Role.COUNTY_SUPERVISOR):
        return AuditEvent.objects.none()
    events = AuditEvent.objects.for_user(user).select_related("township", "actor")
    if action:
        events = events.filter(action__startswith=action)
    if username:
        events = events.filter(actor_username=username)
    return events


def audit_actors(*, user) -> QuerySet[User]:
    """The staff an audit reader may filter by: everyone, for the county roles who read it."""
    if user.role not in (Role.COUNTY_ADMIN, Role.COUNTY_SUPERVISOR):
        return User.objects.none()
    return User.objects.order_by("role", "username")
