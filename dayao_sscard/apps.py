from django.apps import AppConfig


class DayaoSscardConfig(AppConfig):
    name = "dayao_sscard"
    verbose_name = "系统与账号"

    def ready(self) -> None:
        from django.conf import settings
        from django.core import checks
        from PIL import Image

        from .retention import audit_retention_check

        checks.register(audit_retention_check)

        # Every Image.open anywhere refuses (rather than decodes) a file above twice the
        # limit; the photo check refuses above the limit itself with a clear message.
        Image.MAX_IMAGE_PIXELS = settings.IMAGE_MAX_PIXELS
