"""Staff accounts: created with a role and the scope that role needs."""

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction

from .audit import audit_record, snapshot
from .models import User
from .roles import Role


def staff_create(
    *,
    username: str,
    password: str,
    role: str,
    township=None,
    village=None,
    bank_branch=None,
    display_name: str = "",
    acting_user: User | None = None,
) -> User:
    """Create a staff account; the scope (a township, a village of it, a bank branch) must
    be exactly what the role needs. Finding places by name is the caller's business."""
    if role not in Role.values:
        raise ValidationError(f"未知角色：{role}")
    if User.objects.filter(username=username).exists():
        raise ValidationError(f"用户名 {username} 已存在。")
    _check_scope(role=role, township=township, village=village, bank_branch=bank_branch)
    with transaction.atomic():
        user = User(
            username=username,
            display_name=display_name,
            role=role,
            is_staff=role == Role.COUNTY_ADMIN,
            is_superuser=role == Role.COUNTY_ADMIN,
            township=township,
            village=village,
            bank_branch=bank_branch,
        )
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError(f"密码不符合要求：{''.join(exc.messages)}") from exc
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save()
        after = snapshot(
            user, ["username", "display_name", "role", "township", "village", "bank_branch"]
        )
        audit_record(actor=acting_user, action="accounts.user.created", obj=user, after=after)
    return user


def _check_scope(*, role: str, township, village, bank_branch) -> None:
    if role in (Role.COUNTY_ADMIN, Role.COUNTY_SUPERVISOR) and (township or village):
        raise ValidationError("县级角色的管辖范围是全县，不能指定乡镇或村。")
    if role in (Role.TOWNSHIP_STAFF, Role.VILLAGE_COLLECTOR) and township is None:
        raise ValidationError("乡镇工作人员和村采集员必须指定所属乡镇。")
    if role == Role.TOWNSHIP_STAFF and village is not None:
        raise ValidationError("乡镇工作人员不能指定村；村采集员请用 village_collector 角色。")
    if role == Role.VILLAGE_COLLECTOR:
        if village is None:
            raise ValidationError("村采集员必须指定所属村（社区）。")
        if village.township_id != township.pk:
            raise ValidationError(f"{village}不属于{township}。")
    if role == Role.BANK_STAFF and bank_branch is None:
        raise ValidationError("银行网点工作人员必须指定所属银行网点。")
    if role != Role.BANK_STAFF and bank_branch is not None:
        raise ValidationError("只有银行网点工作人员可以指定银行网点。")
    if role == Role.BANK_STAFF and (township or village):
        raise ValidationError("银行网点工作人员的管辖范围是其网点，不能指定乡镇或村。")
