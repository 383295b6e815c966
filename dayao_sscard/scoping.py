"""The one way to reach personal data: ``Model.objects.for_user(user)``.

Each scoped model declares, in ``scope``, the lookup path from itself to the
township and the village of the person it concerns, and to that person's cards. A
user sees the rows their role reaches through those paths and nothing else; a path
a model does not declare means that role sees none of it.

A bank clerk reaches the cards of their branch: a card of bank B for a person of
township T belongs to the branch of B that serves T (``BankBranch.townships``),
decided when asked, so a branch set up after the cards were made answers for them.
A model that names branches itself (a handover between a branch and the county)
declares ``branch``: the paths to those branches, any of which lets the clerk in.
"""

from dataclasses import dataclass

from django.db import models
from django.db.models import Q

from .roles import COUNTY_WIDE_ROLES, Role


@dataclass(frozen=True)
class Scope:
    township: str | None = None
    village: str | None = None
    card: str | None = None  # "" is the card itself
    # Paths to the bank branches the row belongs to; any one of them lets the clerk in.
    branch: tuple[str, ...] | None = None


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
            return self._through_branch(scope, user.bank_branch_id)
        return self.none()

    def _through_branch(self, scope: Scope, branch_id) -> "ScopedQuerySet":
        if scope.branch is not None:
            if branch_id is None:
                return self.none()
            named = Q()
            for path in scope.branch:
                named |= Q(**{path: branch_id})
            return self.filter(named)
        if scope.card is None or scope.township is None or branch_id is None:
            return self.none()
        # The branch's bank and the townships it serves, read first (one small table): the
        # planner then knows how many persons and cards they hold, where joined through
        # the branch tables it guessed, and counted a bank's persons by joining them all.
        served = served_by(_model_at(self.model, scope.township), branch_id)
        if not served:
            return self.none()
        to_card = f"{scope.card}__" if scope.card else ""
        lookups = {
            f"{to_card}bank_id__in": sorted({bank for _, bank in served}),
            f"{scope.township}__in": sorted({township for township, _ in served}),
        }
        # Only a to-many path to the cards repeats rows.
        if scope.card and _crosses_to_many(self.model, scope.card):
            inner = self.model._default_manager.filter(**lookups).values("pk")
            return self.filter(pk__in=inner)
        return self.filter(**lookups)

    def _through(self, path: str | None, value) -> "ScopedQuerySet":
        if path is None or value is None:
            return self.none()
        if _crosses_to_many(self.model, path):
            # A to-many path would repeat rows; a subquery keeps one row per object.
            inner = self.model._default_manager.filter(**{path: value}).values("pk")
            return self.filter(pk__in=inner)
        return self.filter(**{path: value})


def served_by(township_model, branch_id) -> list[tuple[int, int]]:
    """(township id, the branch's bank id) for each township the branch serves."""
    through = township_model._meta.get_field("serving_branches").through
    return list(
        through._default_manager.filter(branch_id=branch_id).values_list(
            "township_id", "branch__bank_id"
        )
    )


def _model_at(model, path: str):
    for name in path.split("__"):
        model = model._meta.get_field(name).related_model
    return model


def _crosses_to_many(model, path: str) -> bool:
    for name in path.split("__"):
        field = model._meta.get_field(name)
        if not field.is_relation:
            return False
        if field.one_to_many or field.many_to_many:
            return True
        model = field.related_model
    return False
