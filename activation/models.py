"""Face-to-face financial activation and electronic card signing."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from dayao_sscard.scoping import Scope, ScopedQuerySet


class Activation(models.Model):
    """The bank function switched on, face to face (面签) — the only way allowed."""

    card = models.OneToOneField(
        "issuance.Card",
        verbose_name="社保卡",
        on_delete=models.PROTECT,
        related_name="activation",
    )
    activated_at = models.DateTimeField("激活时间")
    branch = models.ForeignKey(
        "issuance.BankBranch", verbose_name="办理网点", on_delete=models.PROTECT
    )
    face_to_face = models.BooleanField("面签核验")
    identity_checked = models.BooleanField("已核验本人身份证件")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="经办人", on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField("备注", max_length=300, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(township="card__person__township", village="card__person__village", card="card")

    class Meta:
        verbose_name = "金融功能激活"
        verbose_name_plural = "金融功能激活"
        constraints = [
            models.CheckConstraint(
                name="activation_only_face_to_face",
                condition=Q(face_to_face=True, identity_checked=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.card} {self.activated_at:%Y-%m-%d}"


class ElectronicCardSigning(models.Model):
    """电子社保卡 signed for a person, usually at the activation counter."""

    person = models.OneToOneField(
        "roster.Person",
        verbose_name="人员",
        on_delete=models.PROTECT,
        related_name="electronic_card",
    )
    signed_at = models.DateTimeField("签发时间")
    channel = models.CharField("签发渠道", max_length=50, default="网点柜台")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="经办人", on_delete=models.PROTECT, related_name="+"
    )

    objects = ScopedQuerySet.as_manager()
    scope = Scope(township="person__township", village="person__village", card="person__cards")

    class Meta:
        verbose_name = "电子社保卡签发"
        verbose_name_plural = "电子社保卡签发"

    def __str__(self) -> str:
        return f"{self.person} {self.signed_at:%Y-%m-%d}"
