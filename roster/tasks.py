from dayao_sscard.celery import app
from dayao_sscard.jobs import job_run


@app.task
def export_persons(job_id: int) -> None:
    from .services import person_export_run

    job_run(job_id, person_export_run)


@app.task
def import_list_file(job_id: int) -> None:
    from .services import list_import_run

    job_run(job_id, list_import_run)
