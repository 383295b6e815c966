"""The Celery tasks of the cross-cutting part: run the service a job row names; retention."""

from django.db import transaction

from .celery import app
from .jobs import job_run
from .models import Job
from .retention import retention_run


@app.task
def job_task(job_id: int) -> None:
    job_run(job_id)


@app.task(name="dayao_sscard.retention_run")
def retention_task() -> dict:
    """Delete the uploads, exports and audit rows past their period (nightly, beat)."""
    return retention_run().summary()


def job_enqueue(job: Job) -> Job:
    """Queue the job's task only once its row is committed, so the worker can find it."""
    transaction.on_commit(lambda: job_task.delay(job.pk))
    return job
