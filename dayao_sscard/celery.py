import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dayao_sscard.settings")

app = Celery("dayao_sscard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
