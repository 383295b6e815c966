"""Nightly work of the ledger (scheduled in ``dayao_sscard.celery``'s beat schedule)."""

from celery import shared_task

from .chain import days_seal


@shared_task(name="issuance.ledger_days_seal")
def ledger_days_seal() -> int:
    """Seal the chain head of every past day not sealed yet (yesterday, each night)."""
    return days_seal()
