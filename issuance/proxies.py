"""代管（代领）: who may keep a holder's card instead of the holder, and on what approval.

Only a person of the 低保, 特困 or 残疾人 groups (``PersonCategory``) or a minor (from the
birth date) may have their card kept by someone else, and only under an approval on
record: who asked and why, the written entrustment or guardianship document, the named
custodian (name, ID number, relationship), the approver — another account than the one that
registered it — and the period. The ledger asks ``proxy_issue_refusal`` before it issues
a card to a proxy (``issuance.services._check_event_rules``).

Cadres: the rectification forbids township and village cadres keeping residents' cards. A
custodian counts as a cadre (``custodian_cadre``) when

- their ID number is in the county's list of cadres (``Cadre``, kept in the admin), or
- their name is the name (姓名, or else the user name) of a staff account of the holder's
  township — any role but bank staff, active or not: a collector, a township clerk.

The second test goes by name, since accounts carry no ID number; a relative who happens to
share a clerk's name is then treated as a cadre, and the approval must say so with a reason,
which costs one sentence and keeps the rule without holes. Such a custodian is refused
unless the approval names them as cadre with a reason, at registration, at approval and
again when the card is issued (the cadre list may have grown meanwhile).
"""

import io
import secrets
from datetime import date, timedelta
from pathlib import PurePath

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from dayao_sscard.audit import audit_record, snapshot
from dayao_sscard.permissions import require
from dayao_sscard.roles import Role
from roster.id_numbers import IdNumberError, birth_date_from_id, mask_id_number, normalize_id_number
from roster.models import Category, Person, PersonCategory
from roster.verification import image_pixel_limit

from .models import Cadre, ProxyApproval, ProxyGround, ProxyStatus

# An approval that ends within this many days is listed as expiring (临近到期).
EXPIRING_WITHIN_DAYS = 30
ADULT_AGE = 18

GROUND_CATEGORIES = {
    ProxyGround.MINIMUM_LIVING: Category.MINIMUM_LIVING,
    ProxyGround.EXTREME_POVERTY: Category.EXTREME_POVERTY,
    ProxyGround.DISABLED: Category.DISABLED,
}
ALLOWED_GROUPS = "低保、特困、残疾人或未成年人"

# The document: a scan or a phone photo of the signed paper, or its PDF.
DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
DOCUMENT_MIN_SIDE = 300  # pixels: below this nobody can read a signature


# ---- the rules ------------------------------------------------------------------------


def same_name(a: str, b: str) -> bool:
    """Names as compared: without any spaces (also full-width ones)."""
    return "".join((a or "").split()) == "".join((b or "").split())


def birth_date_of(person: Person) -> date | None:
    if person.birth_date:
        return person.birth_date
    try:
        return birth_date_from_id(person.id_number)
    except (ValueError, IndexError):
        return None


def adult_on(person: Person) -> date | None:
    """The day the person turns 18 (a 29 February birthday: 1 March)."""
    born = birth_date_of(person)
    if born is None:
        return None
    try:
        return born.replace(year=born.year + ADULT_AGE)
    except ValueError:
        return date(born.year + ADULT_AGE, 3, 1)


def is_minor_on(person: Person, day: date) -> bool:
    adult = adult_on(person)
    return adult is not None and day < adult


def ground_refusal(person: Person, ground: str, day: date) -> str:
    """Why ``ground`` does not hold for the person on ``day``, in Chinese; "" when it does."""
    if ground == ProxyGround.MINOR:
        if is_minor_on(person, day):
            return ""
        adult = adult_on(person)
        if adult is None:
            return f"{person.name}没有出生日期，无法认定为未成年人，不能以“未成年人”为由代管。"
        return (
            f"{person.name}已于{adult:%Y年%m月%d日}年满{ADULT_AGE}周岁，不是未成年人，"
            "不能以“未成年人”为由代管。"
        )
    category = GROUND_CATEGORIES.get(ground)
    if category is None:
        return f"代管依据只能是{ALLOWED_GROUPS}。"
    if PersonCategory.objects.filter(person=person, category=category).exists():
        return ""
    return (
        f"{person.name}不在{category.label}人员名单中，不能以“{category.label}”为由代管；"
        f"代管只适用于{ALLOWED_GROUPS}。"
    )


def custodian_cadre(*, township_id: int, name: str, id_number: str) -> str:
    """Who the custodian is as a cadre, in Chinese ("" when not a cadre); see the module."""
    cadre = Cadre.objects.filter(id_number=id_number).select_related("township", "village").first()
    if cadre is not None:
        where = f"{cadre.township}{cadre.village or ''}"
        return f"县人社局登记的乡镇村干部（{where}{cadre.post}）"
    wanted = "".join((name or "").split())
    if not wanted:
        return ""
    account = (
        get_user_model()
        .objects.filter(township_id=township_id)
        .exclude(role=Role.BANK_STAFF)
        .filter(Q(display_name=wanted) | Q(username=wanted))
        .first()
    )
    if account is not None:
        return f"本乡镇工作人员（{account.get_role_display()}账号{account.username}）"
    return ""


def _cadre_refusal(name: str, cadre: str) -> str:
    return (
        f"代管人{name}是{cadre}：乡镇、村干部不得代管群众的社保卡；"
        "确需由其代管的，审批须勾选“代管人是乡镇或村干部”并写明理由。"
    )


def _id_number(raw: str, label: str) -> str:
    try:
        return normalize_id_number(raw)
    except IdNumberError as exc:
        raise ValidationError(f"{label}{exc.reason}。") from None


def proxy_approval_valid_for(
    person: Person, custodian_name: str, custodian_id_number: str, on: date
) -> ProxyApproval | None:
    """The approval that lets this custodian keep the person's card on ``on``, if any."""
    for approval in _approvals_naming(person, custodian_id_number):
        if approval.status_on(on) == ProxyStatus.VALID and same_name(
            approval.custodian_name, custodian_name
        ):
            return approval
    return None


def _approvals_naming(person: Person, custodian_id_number: str):
    return ProxyApproval.objects.filter(
        person=person, custodian_id_number=custodian_id_number
    ).order_by("-valid_until", "-pk")


def proxy_issue_refusal(
    *, person: Person, custodian_name: str, custodian_id_number: str, on: date
) -> str:
    """Why the person's card may not go to this proxy on ``on``, in Chinese; "" when it may.

    The ledger's rule for 经批准代领: an approval valid that day for this holder naming this
    custodian (name and ID number), the holder still in an allowed group, and a cadre only
    when the approval names them as one.
    """
    name = "".join((custodian_name or "").split())
    raw = (custodian_id_number or "").strip()
    if not raw:
        return "代领须登记代领人的身份证号码，以便核对代管审批。"
    try:
        id_number = normalize_id_number(raw)
    except IdNumberError as exc:
        return f"代领人身份证号码{exc.reason}。"
    approvals = list(ProxyApproval.objects.filter(person=person).order_by("-valid_until", "-pk"))
    if not approvals:
        return (
            f"系统中没有持卡人{person.name}的代管（代领）审批，不能发放给代领人{name}；"
            "请先登记并经审批，或由持卡人本人签收。"
        )
    naming = [a for a in approvals if a.custodian_id_number == id_number]
    if not naming:
        named = "、".join(
            dict.fromkeys(
                f"{a.custodian_name}（{mask_id_number(a.custodian_id_number)}）" for a in approvals
            )
        )
        return (
            f"持卡人{person.name}的代管审批指定的代管人是{named}，不是{name}"
            f"（{mask_id_number(id_number)}），不能发放给{name}。"
        )
    matching = [a for a in naming if same_name(a.custodian_name, name)]
    if not matching:
        return (
            f"代管审批登记的代管人姓名为{naming[0].custodian_name}，与签收人{name}不符，"
            "不能发放；请核对代领人身份证件。"
        )
    valid = next((a for a in matching if a.status_on(on) == ProxyStatus.VALID), None)
    if valid is None:
        # The latest registered one says why: an old expired approval matters less than
        # its successor still waiting for approval.
        return _not_valid_reason(max(matching, key=lambda a: a.pk), on)
    if refusal := ground_refusal(person, valid.ground, on):
        return f"代管依据已不成立：{refusal}"
    cadre = custodian_cadre(township_id=person.township_id, name=name, id_number=id_number)
    if cadre and not valid.custodian_is_cadre:
        return (
            f"代领人{name}是{cadre}，审批未注明其干部身份及理由；"
            "乡镇、村干部不得代领群众的社保卡，不能发放。"
        )
    return ""


def _not_valid_reason(approval: ProxyApproval, on: date) -> str:
    status = approval.status_on(on)
    if status == ProxyStatus.EXPIRED:
        return (
            f"该代管审批已于{approval.valid_until:%Y年%m月%d日}到期，不能发放；"
            "如仍需代领，请重新办理审批。"
        )
    if status == ProxyStatus.NOT_YET_VALID:
        return (
            f"该代管审批自{approval.valid_from:%Y年%m月%d日}起生效，{on:%Y年%m月%d日}不能凭其发放。"
        )
    if status == ProxyStatus.PENDING:
        return "该代管审批尚未批准，不能凭其发放；请由乡镇社保中心或县人社局审批。"
    when = timezone.localtime(approval.revoked_at)
    return f"该代管审批已于{when:%Y年%m月%d日}撤销（{approval.revoke_reason}），不能凭其发放。"


# ---- the document ---------------------------------------------------------------------


def document_problem(data: bytes) -> tuple[str, str]:
    """Why the uploaded document cannot be kept, in Chinese ("" when it can), and its file
    extension. Images are judged from their header before any pixel is decoded."""
    if len(data) > DOCUMENT_MAX_BYTES:
        return "证明材料文件超过10MB，请压缩后重新上传。", ""
    if len(data) < 100:
        return "证明材料文件过小，可能已损坏。", ""
    if data[:5] == b"%PDF-":
        if b"%%EOF" not in data[-2048:]:
            return "PDF文件不完整，可能已损坏，请重新扫描上传。", ""
        return "", "pdf"
    unreadable = "无法识别的文件，请上传 PDF、JPG 或 PNG 格式的书面委托书或监护证明。"
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        return _too_many_pixels(settings.IMAGE_MAX_PIXELS), ""
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        return unreadable, ""
    if image.format not in ("JPEG", "PNG"):
        return f"文件格式为 {image.format}，请上传 PDF、JPG 或 PNG 格式。", ""
    limit = image_pixel_limit(image.format)
    if image.width * image.height > limit:
        return _too_many_pixels(limit), ""
    if min(image.size) < DOCUMENT_MIN_SIDE:
        return (
            f"图片分辨率过低（{image.width}×{image.height}），无法看清签字，"
            f"至少需要 {DOCUMENT_MIN_SIDE}×{DOCUMENT_MIN_SIDE} 像素。"
        ), ""
    if image.format == "JPEG":
        image.draft("RGB", (1200, 1200))
    try:
        image.load()
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
        return unreadable, ""
    return "", "jpg" if image.format == "JPEG" else "png"


def _too_many_pixels(limit: int) -> str:
    return f"图片像素过大，最多 {limit / 10_000:.0f} 万像素，请缩小后重新上传。"


# ---- writes ---------------------------------------------------------------------------


def proxy_approval_register(
    *,
    person: Person,
    acting_user,
    ground: str,
    requested_by_name: str,
    request_reason: str,
    document: bytes,
    document_name: str,
    custodian_name: str,
    custodian_id_number: str,
    custodian_relationship: str,
    custodian_is_cadre: bool,
    cadre_reason: str,
    valid_from: date,
    valid_until: date,
) -> ProxyApproval:
    """Register an approval, waiting for another account to approve it (audited)."""
    require(acting_user, "issuance.register_proxy_approval", person)
    today = timezone.localdate()
    custodian_name = "".join((custodian_name or "").split())
    fields = {
        "申请人": requested_by_name,
        "申请理由": request_reason,
        "代管人姓名": custodian_name,
        "与持卡人关系": custodian_relationship,
    }
    if missing := [label for label, value in fields.items() if not (value or "").strip()]:
        raise ValidationError(f"请填写{'、'.join(missing)}。")
    id_number = _id_number(custodian_id_number, "代管人身份证号码")
    if person.is_deceased:
        raise ValidationError("持卡人已登记死亡，不能登记代管。")
    if id_number == person.id_number:
        raise ValidationError("代管人不能是持卡人本人；本人领取无需代管审批。")
    if refusal := ground_refusal(person, ground, today):
        raise ValidationError(refusal)
    _check_period(person, ground, valid_from, valid_until, today)
    _check_cadre(person, custodian_name, id_number, custodian_is_cadre, cadre_reason)
    problem, extension = document_problem(document)
    if problem:
        raise ValidationError(problem)
    with transaction.atomic():
        # Under the person's lock: a double click registers one approval, not two.
        Person.objects.select_for_update().get(pk=person.pk)
        if open_one := _open_approval(person, id_number, today):
            raise ValidationError(
                f"{person.name}已有由{open_one.custodian_name}代管的审批"
                f"（{open_one.status_on(today).label}，{open_one.valid_from:%Y年%m月%d日}至"
                f"{open_one.valid_until:%Y年%m月%d日}），无需重复登记；如需变更，请先撤销原审批。"
            )
        approval = ProxyApproval(
            person=person,
            ground=ground,
            requested_by_name=requested_by_name.strip()[:50],
            request_reason=request_reason.strip()[:500],
            document_name=PurePath(document_name or f"证明材料.{extension}").name[:200],
            custodian_name=custodian_name[:50],
            custodian_id_number=id_number,
            custodian_relationship=custodian_relationship.strip()[:50],
            custodian_is_cadre=custodian_is_cadre,
            cadre_reason=cadre_reason.strip()[:500] if custodian_is_cadre else "",
            valid_from=valid_from,
            valid_until=valid_until,
            registered_by=acting_user,
        )
        # A name of our own: the uploader's file name says nothing we need in a path.
        approval.document.save(
            f"{secrets.token_hex(16)}.{extension}", ContentFile(document), save=False
        )
        approval.save()
        audit_record(
            actor=acting_user,
            action="issuance.proxyapproval.registered",
            obj=approval,
            after=snapshot(approval),
        )
    return approval


def _open_approval(person: Person, id_number: str, today: date) -> ProxyApproval | None:
    """An approval of the person naming this custodian that is pending or not yet over."""
    return (
        ProxyApproval.objects.filter(
            person=person,
            custodian_id_number=id_number,
            revoked_at__isnull=True,
            valid_until__gte=today,
        )
        .order_by("-valid_until")
        .first()
    )


def _check_period(person: Person, ground: str, valid_from, valid_until, today: date) -> None:
    if valid_from is None or valid_until is None:
        raise ValidationError("请填写审批有效期起止日期。")
    if valid_until < valid_from:
        raise ValidationError("有效期止不能早于有效期起。")
    if valid_until < today:
        raise ValidationError(f"有效期止（{valid_until:%Y年%m月%d日}）早于今天，审批登记即已到期。")
    adult = adult_on(person)
    if ground == ProxyGround.MINOR and adult is not None and valid_until >= adult:
        last = adult - timedelta(days=1)
        raise ValidationError(
            f"未成年人代管的有效期最长到其年满{ADULT_AGE}周岁的前一天（{last:%Y年%m月%d日}）。"
        )


def _check_cadre(person: Person, name: str, id_number: str, is_cadre: bool, reason: str) -> None:
    cadre = custodian_cadre(township_id=person.township_id, name=name, id_number=id_number)
    if cadre and not is_cadre:
        raise ValidationError(_cadre_refusal(name, cadre))
    if is_cadre and not (reason or "").strip():
        raise ValidationError("代管人是乡镇或村干部的，必须写明由其代管的理由。")


def proxy_approval_approve(*, approval: ProxyApproval, acting_user) -> ProxyApproval:
    """Approve a registered approval: another account than the registrar's (audited)."""
    require(acting_user, "issuance.approve_proxy_approval", approval)
    today = timezone.localdate()
    with transaction.atomic():
        locked = (
            ProxyApproval.objects.select_for_update().select_related("person").get(pk=approval.pk)
        )
        if locked.revoked_at is not None:
            raise ValidationError("该代管审批已撤销，不能批准。")
        if locked.approved_at is not None:
            raise ValidationError(f"该代管审批已由{locked.approved_by}批准，无需重复审批。")
        if locked.registered_by_id == acting_user.pk:
            raise ValidationError(
                "审批人不能是登记人本人，请由乡镇社保中心或县人社局的另一名工作人员审批。"
            )
        if locked.valid_until < today:
            raise ValidationError(
                f"该审批的有效期已于{locked.valid_until:%Y年%m月%d日}结束，不能批准；请重新登记。"
            )
        if refusal := ground_refusal(locked.person, locked.ground, today):
            raise ValidationError(refusal)
        _check_cadre(
            locked.person,
            locked.custodian_name,
            locked.custodian_id_number,
            locked.custodian_is_cadre,
            locked.cadre_reason,
        )
        before = snapshot(locked)
        locked.approved_by = acting_user
        locked.approved_at = timezone.now()
        locked.save(update_fields=["approved_by", "approved_at"])
        audit_record(
            actor=acting_user,
            action="issuance.proxyapproval.approved",
            obj=locked,
            before=before,
            after=snapshot(locked),
        )
    return locked


def proxy_approval_revoke(*, approval: ProxyApproval, acting_user, reason: str) -> ProxyApproval:
    """Revoke an approval (pending or approved) with a reason (audited)."""
    require(acting_user, "issuance.revoke_proxy_approval", approval)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("请填写撤销原因。")
    with transaction.atomic():
        locked = ProxyApproval.objects.select_for_update().get(pk=approval.pk)
        if locked.revoked_at is not None:
            raise ValidationError("该代管审批已撤销。")
        before = snapshot(locked)
        locked.revoked_by = acting_user
        locked.revoked_at = timezone.now()
        locked.revoke_reason = reason[:500]
        locked.save(update_fields=["revoked_by", "revoked_at", "revoke_reason"])
        audit_record(
            actor=acting_user,
            action="issuance.proxyapproval.revoked",
            obj=locked,
            before=before,
            after=snapshot(locked),
            note=reason,
        )
    return locked
