"""The one Celery task: run the service that a job row names."""

from django.db import transaction

from .celery import app
from .jobs import job_run
from .models import Job


@app.task
def job_task(job_id: int) -> None:
    job_run(job_id)


def job_enqueue(job: Job) -> Job:
    """Queue the job's task only once its row is committed, so the worker can find it."""
    transaction.on_commit(lambda: job_task.delay(job.pk))
    return job
