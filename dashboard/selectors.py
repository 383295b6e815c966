"""The figures of the role home pages (工作台), each read through the user's scope."""

from django.shortcuts import get_object_or_404
from django.utils import timezone

from dayao_sscard.models import Campaign, Job, JobKind
from dayao_sscard.permissions import may
from issuance.models import LIVE_CARD_STATUSES, Card, CardStatus, CustodyKind
from issuance.risks import custody_risk_counts, custody_risk_longest, custody_risk_totals, risk_days
from issuance.selectors import card_status_counted
from roster.models import Person, Township, VerificationStatus, VitalStatus
from roster.reports import PAGE_KEYS, classification_report
from roster.witnesses import card_refusal


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
    """The tiles 社保卡状态: the user's cards per status, from the counters."""
    counts = card_status_counted(user=user)
    return [{"status": s, "count": counts.get(s.value, 0)} for s in CardStatus]


RISK_FIGURES = ("risk_rows", "risk_totals", "risk_days", "risk_cards")


def custody_risk_figures(*, user) -> dict:
    """The home page's custody risks (代管风险), from the one selector the risk pages read:
    per township in scope the counts by kind, and the ten cards held longest."""
    if not may(user, "issuance.view_custody_risks"):
        return {}
    rows = custody_risk_counts(user=user)
    return {
        "risk_rows": rows,
        "risk_totals": custody_risk_totals(rows),
        "risk_days": risk_days(),
        "risk_cards": custody_risk_longest(user=user),
    }


def class_counts_by_township(*, user) -> list[dict]:
    """Per township in scope, the comparison's figures: the persons named on an unissued
    list, by class, as 数据比对 shows them (the same selector, so the pages agree)."""
    report = classification_report(user=user, keys=PAGE_KEYS)
    townships = {t.code: t for t in Township.objects.all()}
    return [{**row, "township": townships[row["code"]]} for row in report["townships"]]


def demo_counter_examples(*, user, count: int = 3) -> dict[str, list[str]]:
    """For the demo's operator at the command line (never a page): numbers a demo bank
    clerk can try at the counter — ID numbers of persons ready for an instant card in the
    branch's townships, and card numbers waiting to be issued or activated."""
    branch = user.bank_branch
    ready = (
        Person.objects.filter(
            township__serving_branches=branch,
            verification_status=VerificationStatus.READY,
            vital_status=VitalStatus.ALIVE,
        )
        .exclude(cards__status__in=LIVE_CARD_STATUSES)
        .select_related("classification")
        .order_by("id")
    )
    instant = []
    for person in ready.iterator():
        if not card_refusal(person):
            instant.append(person.id_number)
        if len(instant) == count:
            break
    cards = Card.objects.for_user(user).exclude(card_number=None).order_by("id")

    def numbers(*statuses, **where) -> list[str]:
        found = cards.filter(status__in=statuses, **where).values_list("card_number", flat=True)
        return list(found[:count])

    return {
        "instant": instant,
        # The counter issues only cards the branch itself keeps; the others must be handed over.
        "issue": numbers(CardStatus.IN_STOCK, custody_kind=CustodyKind.BANK),
        "activate": numbers(CardStatus.ISSUED),
    }


def progress_report_job(*, user, pk: int) -> Job:
    """A progress report's job the user may open (404 for any other job)."""
    return get_object_or_404(
        Job.objects.for_user(user).select_related("started_by"),
        pk=pk,
        kind=JobKind.PROGRESS_REPORT,
    )


def progress_report_jobs(*, user, count: int = 10) -> list[Job]:
    """The latest progress reports the user may open, newest first."""
    return list(
        Job.objects.for_user(user)
        .filter(kind=JobKind.PROGRESS_REPORT)
        .select_related("started_by")[:count]
    )
