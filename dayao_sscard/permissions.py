"""May this user do this action to this object? One answer for services, views and templates.

An action is a permission registered with ``rules`` under a name such as
``roster.verify_person``; each app declares its own actions in its ``rules.py`` with
``action()``, as a predicate over the user's role and, given an object, the object's
scope: the object is in scope when the model's ``objects.for_user(user)`` holds it, the
same question the selectors ask, so the rules never repeat a model's path to its township.

- Services call ``require(acting_user, "roster.verify_person", person)``: a refusal is a
  ``PermissionDenied`` that says in Chinese what may not be done and why.
- Views call ``action_required("roster.view_comparison")`` for the page itself and leave
  an object outside the user's scope to the selectors (404, which names nothing).
- Templates ask ``{% load rules %}{% has_perm "roster.verify_person" user person as can %}``.

Asked without an object, the question is whether the user's role may ever do the action
(menus, list pages, a service that works on many objects checks them together with
``require_all``). States (the dead get no new card, which ledger event may follow which)
are the services' business and keep their own messages.
"""

from collections.abc import Iterable
from functools import wraps

import rules
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import models

from .roles import Role

ACTION_LABELS: dict[str, str] = {}
"""Each action's name in Chinese, as it reads after 不能: ``"roster.verify_person": "核查、采集人员信息"``."""

_MEMO = "_scope_memo"


def action(name: str, label: str, predicate: rules.Predicate) -> None:
    """Declare an action: who may do it (``predicate``) and what it is called in Chinese."""
    rules.set_perm(name, predicate)
    ACTION_LABELS[name] = label


def has_role(*roles: Role) -> rules.Predicate:
    allowed = frozenset(roles)

    def fn(user) -> bool:
        return bool(user.is_authenticated and user.is_active and user.role in allowed)

    return rules.Predicate(fn, name=f"has_role({', '.join(sorted(allowed))})")


@rules.predicate
def in_scope(user, obj) -> bool:
    """The object is one the user's role reaches (``Model.objects.for_user(user)``).

    Remembered on the user object for the rest of its life, which for ``request.user`` is
    one request: a page that asks about ten buttons of one person runs one query. A write
    that moves an object into the user's scope (a bank's new card) shows from the next one.
    """
    if obj is None:
        return True
    if obj.pk is None or not user.is_authenticated:
        return False
    key = (obj._meta.label_lower, obj.pk)
    memo = _memo(user)
    if key not in memo:
        for_user = getattr(type(obj)._default_manager, "for_user", None)
        memo[key] = for_user is not None and for_user(user).filter(pk=obj.pk).exists()
    return memo[key]


def _memo(user) -> dict:
    memo = getattr(user, _MEMO, None)
    if memo is None:
        memo = {}
        setattr(user, _MEMO, memo)
    return memo


def may(user, perm: str, obj: models.Model | None = None) -> bool:
    return bool(user is not None and user.has_perm(perm, obj))


def require(user, perm: str, obj: models.Model | None = None) -> None:
    """Raise ``PermissionDenied`` unless the user may do ``perm`` (to ``obj``)."""
    if may(user, perm, obj):
        return
    label = ACTION_LABELS.get(perm, perm)
    if obj is not None and may(user, perm):
        raise PermissionDenied(f"该{obj._meta.verbose_name}不在您的管辖范围内，不能{label}。")
    raise PermissionDenied(_role_refusal(user, label))


def require_all(user, perm: str, model: type[models.Model], pks: Iterable[int]) -> None:
    """``require`` for many objects of one model at once: one query, not one per object."""
    require(user, perm)
    wanted = set(pks)
    label_lower, memo = model._meta.label_lower, _memo(user)
    reached = {pk for pk in wanted if memo.get((label_lower, pk))}
    unknown = sorted(wanted - reached)
    for_user = getattr(model._default_manager, "for_user", None)
    if unknown and for_user is not None:
        scoped = for_user(user)
        for start in range(0, len(unknown), 1000):
            chunk = unknown[start : start + 1000]
            found = set(scoped.filter(pk__in=chunk).values_list("pk", flat=True))
            memo.update({(label_lower, pk): pk in found for pk in chunk})
            reached |= found
    if reached != wanted:
        label = ACTION_LABELS.get(perm, perm)
        raise PermissionDenied(
            f"有{len(wanted - reached)}个{model._meta.verbose_name}不在您的管辖范围内，不能{label}。"
        )


def _role_refusal(user, label: str) -> str:
    if user is None or not user.is_authenticated:
        return f"请先登录，才能{label}。"
    if not user.is_active:
        return f"该账号已停用，不能{label}。"
    if user.role == Role.COUNTY_SUPERVISOR:
        return f"当前账号为只读权限，不能{label}。"
    return f"{user.get_role_display()}不能{label}。"


def action_required(perm: str):
    """The page is open to signed-in users whose role may do ``perm`` at all (else 403)."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            require(request.user, perm)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
