from django.apps import AppConfig


class DayaoSscardConfig(AppConfig):
    name = "dayao_sscard"
    verbose_name = "系统与账号"

    def ready(self) -> None:
        from django.conf import settings
        from django.contrib.auth.signals import user_logged_in
        from django.core import checks
        from PIL import Image

        from .retention import audit_retention_check

        checks.register(audit_retention_check)

        # Every Image.open anywhere refuses (rather than decodes) a file above twice the
        # limit; the photo check refuses above the limit itself with a clear message.
        Image.MAX_IMAGE_PIXELS = settings.IMAGE_MAX_PIXELS

        # The absolute session timeout counts from the login (SessionTimeoutMiddleware).
        user_logged_in.connect(_note_session_start, dispatch_uid="dayao_session_start")


def _note_session_start(sender, request, user, **kwargs) -> None:
    from .middleware import session_start

    if request is not None and hasattr(request, "session"):
        session_start(request)
