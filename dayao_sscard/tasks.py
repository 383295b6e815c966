"""The Celery tasks: the one that runs the service a job row names, and the minute's resend."""

from django.db import transaction

from .celery import app
from .jobs import JOB_TASK, job_run, job_send, jobs_resend_waiting
from .models import Job


@app.task(name=JOB_TASK)
def job_task(job_id: int) -> None:
    job_run(job_id)


@app.task(name="dayao_sscard.jobs_resend_waiting")
def jobs_resend_waiting_task() -> int:
    return jobs_resend_waiting()


def job_enqueue(job: Job) -> Job:
    """Queue the job's task only once its row is committed, so the worker can find it.

    The broker being down does not fail the request: the job waits, says so on its page,
    and is sent again once the broker answers (``jobs.job_send``).
    """
    transaction.on_commit(lambda: job_send(job.pk))
    return job
