"""Three weeks of progress snapshots for the demo county, so its trend charts have a past.

The demo's persons, cards and ledgers are written in one go, so no snapshot was taken
while the work "happened". The past days here are drawn back from today's counts: the
lists and the deaths as they are today, every figure of work done a little lower each day
back (the later the stage, the steeper). It is demo data and the seed's summary says so.
"""

import datetime

from django.utils import timezone

from roster.figures import SIDE_KEYS
from roster.models import DailyFigures
from roster.progress import counted, figures_snapshot

HISTORY_DAYS = 21
# Per day back, the share of today's figure taken away: later stages grew faster lately.
DAILY_DECLINE = {
    "compared": 0.004,
    "verified": 0.012,
    "ready": 0.0,
    "applied": 0.015,
    "made": 0.018,
    "issued": 0.025,
    "activated": 0.03,
    "e_card": 0.03,
}
UNCHANGED = {"listed", "should_hold", "deceased", *SIDE_KEYS} - set(DAILY_DECLINE)


def _back(key: str, n: int, days: int) -> int:
    base = key.split(":", 1)[0]
    if base in UNCHANGED or base.startswith(("class_", "work_", "subsidy_recipients")):
        return n
    rate = DAILY_DECLINE.get(base, 0.02 if "issued" in base or "activated" in base else 0.0)
    return max(0, round(n * (1 - rate * days)))


def demo_progress_history(days: int = HISTORY_DAYS) -> int:
    """Today's snapshot, and ``days`` days before it drawn back from it. Rows written."""
    written = figures_snapshot()
    today = timezone.localdate()
    now = counted()
    rows = []
    for back in range(1, days + 1):
        day = today - datetime.timedelta(days=back)
        taken_at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(23, 55)))
        for (township_id, village_id), figures in now.items():
            rows.append(
                DailyFigures(
                    day=day,
                    township_id=township_id,
                    village_id=village_id,
                    figures={k: _back(k, n, back) for k, n in figures.items()},
                    taken_at=taken_at,
                )
            )
    DailyFigures.objects.bulk_create(rows, batch_size=2000)
    return written + len(rows)
