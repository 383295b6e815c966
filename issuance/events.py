"""What a clerk enters for a ledger event, turned into where the card goes (``Custody``).

One mapping for every entry point that records distribution and counter events: the JSON
API (``issuance/api.py``) and the counter screen's forms. What the clerk leaves out is
taken from who records it (the receiving unit is the clerk's own); what the ledger
requires (a signee, face to face…) is left to ``card_record_event`` to refuse.
"""

from dayao_sscard.roles import Role

from .models import CustodyKind, IssueMethod, LedgerEvent
from .services import Custody

# Events a counter or a distribution point records on a card it can name by its number.
# Production (applied … produced) comes from batches and their result files instead.
COUNTER_EVENTS = (
    LedgerEvent.HANDED_OVER,
    LedgerEvent.RECEIVED,
    LedgerEvent.ISSUED,
    LedgerEvent.ACTIVATED,
    LedgerEvent.MARKED_DORMANT,
    LedgerEvent.RECOVERED,
    LedgerEvent.CANCELLED,
)
PRODUCTION_EVENTS = (
    LedgerEvent.APPLIED,
    LedgerEvent.PRODUCTION_STARTED,
    LedgerEvent.PRODUCTION_FAILED,
    LedgerEvent.PRODUCED,
)

COUNTY_BUREAU = "大姚县人力资源和社会保障局"


def custody_for_event(
    *,
    event: str,
    acting_user,
    custody_kind: str = "",
    to_party: str = "",
    responsible_person: str = "",
    location: str = "",
    signee: str = "",
    method: str = "",
    face_to_face: bool = False,
    identity_checked: bool = False,
    signee_id_number: str = "",
) -> Custody:
    """Where the card is after ``event``, as far as the clerk's entries and role tell.

    - 交接 (handed_over): to the party, of the kind, the clerk names — nothing is assumed.
    - 接收入库 / 回收登记 (received, recovered): into the clerk's own unit unless another is named.
    - 发放 (issued): to the signee (the holder, or with method ``proxy`` the approved proxy,
      whose ID number the ledger checks against the approval); at a bank counter the method
      is 网点柜台发放 unless another is given.
    - 激活, 认定睡眠卡, 注销: the card stays where it is; the entry keeps what was entered.
    """
    unit_kind, unit_name = acting_unit(acting_user)
    clerk = acting_user.display_name or acting_user.username
    if event == LedgerEvent.HANDED_OVER:
        return Custody(
            kind=custody_kind,
            party=to_party,
            location=location,
            responsible_person=responsible_person,
        )
    if event in (LedgerEvent.RECEIVED, LedgerEvent.RECOVERED):
        return Custody(
            kind=custody_kind or unit_kind,
            party=to_party or unit_name,
            location=location,
            responsible_person=responsible_person or clerk,
        )
    if event == LedgerEvent.ISSUED:
        if not method and acting_user.role == Role.BANK_STAFF:
            method = IssueMethod.COUNTER
        return Custody(
            kind=CustodyKind.PROXY if method == IssueMethod.PROXY else CustodyKind.HOLDER,
            party=to_party or signee,
            location=location,
            responsible_person=responsible_person or clerk,
            signee=signee,
            method=method,
            identity_checked=identity_checked,
            extra={"proxy_id_number": signee_id_number} if signee_id_number else {},
        )
    return Custody(
        location=location,
        responsible_person=responsible_person or clerk,
        signee=signee,
        method=method,
        face_to_face=face_to_face,
        identity_checked=identity_checked,
    )


def acting_unit(user) -> tuple[str, str]:
    """The kind and name of the unit a clerk works for, as a custodian of cards."""
    if user.role == Role.BANK_STAFF and user.bank_branch_id:
        return CustodyKind.BANK, str(user.bank_branch)
    if user.role == Role.TOWNSHIP_STAFF and user.township_id:
        return CustodyKind.TOWNSHIP, f"{user.township.name}社保中心"
    if user.role == Role.VILLAGE_COLLECTOR and user.village_id:
        return CustodyKind.VILLAGE, user.village.name
    return CustodyKind.COUNTY, COUNTY_BUREAU
