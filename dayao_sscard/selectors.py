"""Reads for the cross-cutting pages: jobs and the audit log."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from .models import AuditEvent, Job, JobStatus, User
from .permissions import may


def job_list(*, user) -> QuerySet[Job]:
    return Job.objects.for_user(user).select_related("started_by")


def job_get(*, user, pk: int) -> Job:
    return get_object_or_404(Job.objects.for_user(user), pk=pk)


def job_is_waiting_long(job: Job) -> bool:
    """Queued for over a minute, though sent: the worker is probably not running. (A job
    the task queue has not taken yet says that instead, ``Job.waits_for_broker``.)"""
    return (
        job.status == JobStatus.QUEUED
        and not job.waits_for_broker
        and (timezone.now() - job.created_at).total_seconds() > 60
    )


def audit_list(*, user, action: str = "", username: str = "") -> QuerySet[AuditEvent]:
    if not may(user, "dayao_sscard.view_audit_log"):
        return AuditEvent.objects.none()
    events = AuditEvent.objects.for_user(user).select_related("township", "actor")
    if action:
        events = events.filter(action__startswith=action)
    if username:
        events = events.filter(actor_username=username)
    return events


def audit_actors(*, user) -> QuerySet[User]:
    """The staff an audit reader may filter by: everyone, for those who may read the log."""
    if not may(user, "dayao_sscard.view_audit_log"):
        return User.objects.none()
    return User.objects.order_by("role", "username")
