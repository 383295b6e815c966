import os

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dayao_sscard.settings")

application = get_wsgi_application()


def _refuse_without_allowed_hosts() -> None:
    """With DEBUG off and no ALLOWED_HOSTS Django answers every request 400: say why at start."""
    from django.conf import settings

    if not settings.DEBUG and not settings.ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS 未设置：请在环境变量 ALLOWED_HOSTS 中写明本系统的域名或地址，"
            "多个用逗号分隔，如 ALLOWED_HOSTS=sscard.example.org"
            "（ALLOWED_HOSTS must be set when DEBUG is off）。"
        )


_refuse_without_allowed_hosts()
