"""The Celery tasks of the cross-cutting part: run the service a job row names, the
minute's resend of jobs waiting for the broker, and the nightly retention."""

from django.db import transaction

from .celery import app
from .jobs import JOB_TASK, job_run, job_send, jobs_resend_waiting
from .models import Job
from .retention import retention_run


@app.task(name=JOB_TASK)
def job_task(job_id: int) -> None:
    job_run(job_id)


@app.task(name="dayao_sscard.jobs_resend_waiting")
def jobs_resend_waiting_task() -> int:
    return jobs_resend_waiting()


@app.task(name="dayao_sscard.retention_run")
def retention_task() -> dict:
    """Delete the uploads, exports and audit rows past their period (nightly, beat)."""
    return retention_run().summary()


def job_enqueue(job: Job) -> Job:
    """Queue the job's task only once its row is committed, so the worker can find it.

    The broker being down does not fail the request: the job waits, says so on its page,
    and is sent again once the broker answers (``jobs.job_send``).
    """
    transaction.on_commit(lambda: job_send(job.pk))
    return job
