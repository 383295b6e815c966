"""View decorators: who may open a page at all. Scope is checked by the selectors."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def roles_required(*roles: str):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.user.role not in roles:
                raise PermissionDenied("您的角色无权访问此页面。")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def writer_required(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.may_write:
            raise PermissionDenied("当前账号为只读权限，不能修改数据。")
        return view(request, *args, **kwargs)

    return wrapped
