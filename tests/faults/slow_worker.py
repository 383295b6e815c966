"""``celery -A dayao_sscard worker`` whose jobs sleep SLOW_PROGRESS_SECONDS at every progress
report (tests only): the fault tests stop a real import at a chosen point of its work.

The import itself is the real one, reporting where it is as it always does; only the pauses
are added, after each report is written, so the test sees the report and acts on it.
"""

import os
import sys
import time

import django


def _slow_progress(delay: float) -> None:
    from dayao_sscard import jobs

    report = jobs.JobProgress.__call__

    def report_then_pause(self, done, total, message="", *, force=False):
        report(self, done, total, message, force=True)
        time.sleep(delay)

    jobs.JobProgress.__call__ = report_then_pause


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dayao_sscard.settings")
    django.setup()
    if delay := float(os.environ.get("SLOW_PROGRESS_SECONDS") or 0):
        _slow_progress(delay)
    from celery.bin.celery import main as celery_main

    sys.argv = ["celery", "-A", "dayao_sscard", "worker", *sys.argv[1:]]
    celery_main()


if __name__ == "__main__":
    main()
