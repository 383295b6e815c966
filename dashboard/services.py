"""Staff accounts from names as people type them (命令行、演示账号): places and branches
are found here, then the core creates the account."""

import json
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction

from dayao_sscard.audit import audit_record, snapshot
from dayao_sscard.models import User
from dayao_sscard.roles import Role
from dayao_sscard.services import staff_create
from issuance.models import BankBranch
from issuance.services import bank_get_or_create, branch_serving_get_or_create
from roster.models import Township, Village
from roster.places import township_resolve, village_normalize_name


def staff_create_by_names(
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
    """``staff_create`` with the township (code or name), village and bank branch by name.

    A village created on request stands or falls with the account, and is audited.
    """
    if role in (Role.TOWNSHIP_STAFF, Role.VILLAGE_COLLECTOR) and not township:
        raise ValidationError("乡镇工作人员和村采集员必须指定 --township（乡镇代码或名称）。")
    if role == Role.VILLAGE_COLLECTOR and not village:
        raise ValidationError("村采集员必须指定 --village（村委会或社区名称）。")
    if role == Role.BANK_STAFF and not bank_branch:
        raise ValidationError(
            "银行网点工作人员必须指定 --bank（网点名称，或银行名称加 --township 乡镇）。"
        )
    if bank_branch and role != Role.BANK_STAFF:
        raise ValidationError("只有银行网点工作人员可以指定 --bank。")
    if village and role != Role.VILLAGE_COLLECTOR:
        raise ValidationError("只有村采集员可以指定 --village。")
    with transaction.atomic():
        found_township = _township_by_name(township) if township else None
        found_village = None
        if village and found_township is not None:
            found_village = _village_by_name(
                found_township, village, create=create_village, acting_user=acting_user
            )
        branch = None
        if role == Role.BANK_STAFF:
            branch = (
                _branch_of_bank_serving(bank_branch, found_township, acting_user)
                if found_township is not None
                else _branch_by_name(bank_branch)
            )
        return staff_create(
            username=username,
            password=password,
            role=role,
            township=None if role == Role.BANK_STAFF else found_township,
            village=found_village,
            bank_branch=branch,
            display_name=display_name,
            acting_user=acting_user,
        )


def _branch_of_bank_serving(bank_name: str, township: Township, acting_user) -> BankBranch:
    """``--bank 银行 --township 乡镇``: the bank's branch serving the township, set up if none."""
    bank = bank_get_or_create(name=bank_name, acting_user=acting_user)
    return branch_serving_get_or_create(bank=bank, township=township, acting_user=acting_user)


def _township_by_name(name: str) -> Township:
    township = township_resolve(name)
    if township is None:
        raise ValidationError(f"未找到乡镇：{name}")
    return township


def _village_by_name(township: Township, name: str, *, create: bool, acting_user) -> Village:
    name = village_normalize_name(name)
    found = Village.objects.filter(township=township, name=name).first()
    if found is None and create:
        found = Village.objects.create(township=township, name=name)
        audit_record(
            actor=acting_user,
            action="roster.village.created",
            obj=found,
            after=snapshot(found, ["township", "name"]),
        )
    if found is None:
        known = "、".join(township.villages.values_list("name", flat=True)[:30])
        raise ValidationError(
            f"{township}没有名为“{name}”的村（社区）。已有：{known or '无'}；"
            "如需新建请加 --create-village。"
        )
    return found


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
        password = saved.get(username) or _demo_password()
        if not User.objects.filter(username=username).exists():
            township = Township.objects.filter(code=_DEMO_SCOPES.get(username, "")).first()
            village = township.villages.order_by("name").first() if township else None
            branch = BankBranch.objects.filter(township__code="532326101").order_by("id").first()
            staff_create(
                username=username,
                password=password,
                role=role,
                display_name=label,
                township=township,
                village=village if role == Role.VILLAGE_COLLECTOR else None,
                bank_branch=branch if role == Role.BANK_STAFF else None,
            )
        saved[username] = password
        logins.append((username, password, label))
    logins_file.write_text(json.dumps(saved, ensure_ascii=False, indent=1))
    logins_file.chmod(0o600)
    return logins


def _demo_password() -> str:
    """Random, with the upper- and lower-case letter and symbol the password rules ask for."""
    return f"Dy-{secrets.token_urlsafe(9)}"
