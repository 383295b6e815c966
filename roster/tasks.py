"""Scheduled work of the progress figures (in ``dayao_sscard.celery``'s beat schedule)."""

from celery import shared_task

from .progress import figures_snapshot


@shared_task(name="roster.figures_snapshot")
def progress_snapshot() -> int:
    """Today's snapshot of every village's figures, taken again each hour so that the day's
    last one stands for the day even if the machine is switched off before midnight."""
    return figures_snapshot()
