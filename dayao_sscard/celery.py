"""The Celery app. Loaded by the module that defines the one task (``dayao_sscard.tasks``)
and by ``celery -A dayao_sscard worker``, not at Django start-up: a management command or web
request that queues nothing need not import Celery (about 0.1 s of every start).
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dayao_sscard.settings")

app = Celery("dayao_sscard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# ``celery -A dayao_sscard worker --beat`` (scripts/run) sends these. Every minute, jobs
# queued while the broker was down are sent. The ledger's day heads
# are sealed after the day has been over an hour (issuance.chain.SEAL_GRACE). The progress
# snapshot of the day is retaken at five to every hour; the last one stands for the day.
app.conf.beat_schedule = {
    "snapshot-progress-figures": {
        "task": "roster.figures_snapshot",
        "schedule": crontab(minute=55),
    },
    # A job queued while the broker was down is sent once it is back (jobs.job_send).
    "resend-waiting-jobs": {
        "task": "dayao_sscard.jobs_resend_waiting",
        "schedule": crontab(),
    },
    "seal-ledger-day-heads": {
        "task": "issuance.ledger_days_seal",
        "schedule": crontab(hour=1, minute=30),
    },
    # Uploads, exports and audit rows past their period (dayao_sscard.retention).
    "delete-expired-files-and-audit-rows": {
        "task": "dayao_sscard.retention_run",
        "schedule": crontab(hour=2, minute=40),
    },
}
