"""Staff accounts: created with a role and the scope that role needs."""

import json
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction

from issuance.models import BankBranch
from roster.models import Township, Village
from roster.places import township_resolve, village_normalize_name

from .audit import audit_record, snapshot
from .models import User
from .roles import Role


def staff_create(
    *,
    username: str,
    password: str,
    role: str,
    township: str = "",
    village: str = "",
    bank_branch: str = "",
    display_name: str = "",
    create_village: bool = False,
    acting_user: User | None = None,
) -> User:
    """Create a staff account; the scope arguments must be exactly those the role needs."""
    if role not in Role.values:
        raise ValidationError(f"未知角色：{role}")
    if User.objects.filter(username=username).exists():
        raise ValidationError(f"用户名 {username} 已存在。")
    scope = _resolve_scope(
        role=role,
        township=township,
        village=village,
        bank_branch=bank_branch,
        create_village=create_village,
    )
    with transaction.atomic():
        user = User(
            username=username,
            display_name=display_name,
            role=role,
            is_staff=role == Role.COUNTY_ADMIN,
            is_superuser=role == Role.COUNTY_ADMIN,
            **scope,
        )
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save()
        after = snapshot(
            user, ["username", "display_name", "role", "township", "village", "bank_branch"]
        )
        audit_record(actor=acting_user, action="accounts.user.created", obj=user, after=after)
    return user


def _resolve_scope(*, role, township, village, bank_branch, create_village) -> dict:
    scope = {"township": None, "village": None, "bank_branch": None}
    if role in (Role.TOWNSHIP_STAFF, Role.VILLAGE_COLLECTOR):
        if not township:
            raise ValidationError("乡镇工作人员和村采集员必须指定 --township（乡镇代码或名称）。")
        scope["township"] = township_resolve(township)
        if scope["township"] is None:
            raise ValidationError(f"未找到乡镇：{township}")
    if role == Role.VILLAGE_COLLECTOR:
        if not village:
            raise ValidationError("村采集员必须指定 --village（村委会或社区名称）。")
        name = village_normalize_name(village)
        found = Village.objects.filter(township=scope["township"], name=name).first()
        if found is None and create_village:
            found = Village.objects.create(township=scope["township"], name=name)
        if found is None:
            known = "、".join(scope["township"].villages.values_list("name", flat=True)[:30])
            raise ValidationError(
                f"{scope['township']}没有名为“{name}”的村（社区）。已有：{known or '无'}；"
                "如需新建请加 --create-village。"
            )
        scope["village"] = found
    if role == Role.BANK_STAFF:
        if not bank_branch:
            raise ValidationError("银行网点工作人员必须指定 --bank（网点名称）。")
        scope["bank_branch"] = _branch_by_name(bank_branch)
    elif bank_branch:
        raise ValidationError("只有银行网点工作人员可以指定 --bank。")
    if role in (Role.COUNTY_ADMIN, Role.COUNTY_SUPERVISOR) and (township or village):
        raise ValidationError("县级角色的管辖范围是全县，不能指定乡镇或村。")
    if role == Role.TOWNSHIP_STAFF and village:
        raise ValidationError("乡镇工作人员不能指定村；村采集员请用 village_collector 角色。")
    return scope


def _branch_by_name(name: str) -> BankBranch:
    branches = [
        b
        for b in BankBranch.objects.select_related("bank")
        if name in (b.name, str(b), f"{b.bank.name}{b.name}")
    ]
    if len(branches) == 1:
        return branches[0]
    known = "、".join(str(b) for b in BankBranch.objects.select_related("bank")[:30])
    raise ValidationError(f"未找到唯一的银行网点“{name}”。已有网点：{known or '无'}")


DEMO_ACCOUNTS = (
    ("admin", Role.COUNTY_ADMIN, "县人社局管理员"),
    ("supervisor", Role.COUNTY_SUPERVISOR, "县级督导"),
    ("jinbi", Role.TOWNSHIP_STAFF, "金碧镇社保中心"),
    ("shiyang", Role.TOWNSHIP_STAFF, "石羊镇社保中心"),
    ("cunyuan", Role.VILLAGE_COLLECTOR, "金碧镇村采集员"),
    ("bank", Role.BANK_STAFF, "金碧信用社柜员"),
)
_DEMO_SCOPES = {"jinbi": "532326101", "shiyang": "532326102", "cunyuan": "532326101"}


def demo_users_ensure(*, logins_file) -> list[tuple[str, str, str]]:
    """One demo login per role, with random passwords kept in the data folder.

    Re-running returns the same logins; a missing account is created again.
    """
    saved = json.loads(logins_file.read_text()) if logins_file.exists() else {}
    logins = []
    for username, role, label in DEMO_ACCOUNTS:
        password = saved.get(username) or secrets.token_urlsafe(9)
        if not User.objects.filter(username=username).exists():
            township = Township.objects.filter(code=_DEMO_SCOPES.get(username, "")).first()
            village = township.villages.order_by("name").first() if township else None
            branch = BankBranch.objects.filter(township__code="532326101").order_by("id").first()
            staff_create(
                username=username,
                password=password,
                role=role,
                display_name=label,
                township=township.code if township else "",
                village=village.name if village and role == Role.VILLAGE_COLLECTOR else "",
                bank_branch=str(branch) if branch and role == Role.BANK_STAFF else "",
            )
        saved[username] = password
        logins.append((username, password, label))
    logins_file.write_text(json.dumps(saved, ensure_ascii=False, indent=1))
    logins_file.chmod(0o600)
    return logins
