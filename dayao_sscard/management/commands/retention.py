"""``manage.py retention``: delete the uploads, exports and audit rows past their period."""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from dayao_sscard.retention import retention_run


class Command(BaseCommand):
    help = (
        "按留存规定删除过期文件和日志：上传的名单文件（UPLOAD_RETENTION_DAYS）、导出的文件"
        "（EXPORT_RETENTION_DAYS）、操作日志（AUDIT_RETENTION_DAYS，至少 183 天）。"
        "每晚的后台定时任务也会执行。"
    )

    def handle(self, *args, **options):
        try:
            result = retention_run()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            "；".join(f"{label} {count}" for label, count in result.summary().items())
        )
