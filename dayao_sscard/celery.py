"""The Celery app. Loaded by the module that defines the one task (``dayao_sscard.tasks``)
and by ``celery -A dayao_sscard worker``, not at Django start-up: a management command or web
request that queues nothing need not import Celery (about 0.1 s of every start).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dayao_sscard.settings")

app = Celery("dayao_sscard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
