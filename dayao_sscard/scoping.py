"""The one way to reach personal data: ``Model.objects.for_user(user)``.

Each scoped model declares, in ``scope``, the lookup path from itself to the
township, the village and the bank branch. A user sees the rows their role
reaches through those paths and nothing else; a path a model does not declare
means that role sees none of it.
"""

from dataclasses import dataclass

from django.db import models

from .roles import COUNTY_WIDE_ROLES, Role


@dataclass(frozen=True)
class Scope:
    township: str | None = None
    village: str | None = None
    bank_branch: str | None = None


class ScopedQuerySet(models.QuerySet):
    def for_user(self, user) -> "ScopedQuerySet":
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        role = getattr(user, "role", None)
        if role in COUNTY_WIDE_ROLES:
            return self
        scope: Scope = self.model.scope
        if role == Role.TOWNSHIP_STAFF:
            return self._through(scope.township, user.township_id)
        if role == Role.VILLAGE_COLLECTOR:
            return self._through(scope.village, user.village_id)
        if role == Role.BANK_STAFF:
            return self._through(scope.bank_branch, user.bank_branch_id)
        return self.none()

    def _through(self, path: str | None, value) -> "ScopedQuerySet":
        if path is None or value is None:
            return self.none()
        if _crosses_to_many(self.model, path):
            # A to-many path would repeat rows; a subquery keeps one row per object.
            inner = self.model._default_manager.filter(**{path: value}).values("pk")
            return self.filter(pk__in=inner)
        return self.filter(**{path: value})


def _crosses_to_many(model, path: str) -> bool:
    for name in path.split("__"):
        field = model._meta.get_field(name)
        if not field.is_relation:
            return False
        if field.one_to_many or field.many_to_many:
            return True
        model = field.related_model
    return False
