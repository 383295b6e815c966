"""Staff accounts: created with a role and the scope that role needs; login locks lifted
and second-factor devices enrolled and reset."""

from axes.models import AccessAttempt
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django_otp.plugins.otp_totp.models import TOTPDevice

from .audit import audit_record, audit_record_named, snapshot
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


def login_unlock(*, username: str = "", address: str = "", acting_user: User | None) -> int:
    """Forget the failed logins of ``username`` (from every address) or of ``address`` (of
    every username): the lock ends now. Returns how many failures were forgotten."""
    if not username and not address:
        raise ValidationError("请指定要解锁的用户名或登录地址。")
    attempts = AccessAttempt.objects.all()
    if username:
        attempts = attempts.filter(username=username)
    if address:
        attempts = attempts.filter(ip_address=address)
    with transaction.atomic():
        failures = attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
        attempts.delete()
        note = f"清除登录失败记录{failures}次"
        user = User.objects.filter(username=username).first() if username else None
        if user is not None:
            audit_record(actor=acting_user, action="accounts.user.unlocked", obj=user, note=note)
        else:
            audit_record_named(
                actor=acting_user,
                action="accounts.login.unlocked",
                object_type="axes.accessattempt",
                object_id=username or address,
                object_repr=f"用户名 {username}" if username else f"登录地址 {address}",
                note=note,
            )
    return failures


def otp_enrolment_device(*, user: User) -> TOTPDevice:
    """The device a county administrator is enrolling: the same key on every visit of the
    enrolment page until a first code confirms it."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="手机验证器", confirmed=False)
    return device


def otp_enrol_confirm(*, user: User, device: TOTPDevice) -> None:
    """The first right code confirms the device; the user's other devices go."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit_record(actor=user, action="accounts.user.otp_enrolled", obj=user)


def otp_reset(*, user: User, acting_user: User | None) -> int:
    """Remove the user's devices (a lost or replaced phone): the next login enrols again."""
    with transaction.atomic():
        removed, _ = TOTPDevice.objects.filter(user=user).delete()
        audit_record(
            actor=acting_user,
            action="accounts.user.otp_reset",
            obj=user,
            note=f"删除验证器{removed}个",
        )
    return removed
