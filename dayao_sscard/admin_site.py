"""The reference-data admin (基础数据), behind the same login and 403 page as the app.

Django's admin answers a signed-in supervisor or clerk with a second login form; here
they get the app's plain 403, and a visitor who is not signed in goes to the app's
own login page.
"""

from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, resolve_url

from .permissions import may

NOT_ADMIN = "基础数据管理仅限县人社局管理员使用。"


class StaffAdminSite(AdminSite):
    site_header = "大姚县社会保障卡应发尽发管理系统"
    site_title = "社保卡应发尽发"
    index_title = "基础数据管理"

    def has_permission(self, request) -> bool:
        """Django's own answer (an active staff account) and the role's: the menu asks this."""
        return super().has_permission(request) and may(
            request.user, "dayao_sscard.manage_reference_data"
        )

    def admin_view(self, view, cacheable=False):
        protected = super().admin_view(view, cacheable)

        @wraps(protected)
        def inner(request, *args, **kwargs):
            if request.user.is_authenticated and not self.has_permission(request):
                raise PermissionDenied(NOT_ADMIN)
            return protected(request, *args, **kwargs)

        return inner

    def login(self, request, extra_context=None):
        if not request.user.is_authenticated:
            target = request.GET.get("next") or request.get_full_path()
            return redirect(f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': target})}")
        if not self.has_permission(request):
            raise PermissionDenied(NOT_ADMIN)
        return super().login(request, extra_context)


class StaffAdminConfig(AdminConfig):
    default_site = "dayao_sscard.admin_site.StaffAdminSite"
