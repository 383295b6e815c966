"""Who may do what to cards (see ``dayao_sscard/permissions.py``).

Bank staff record the events of their branch's cards and alone (with the county) activate
them, face to face at the counter; township staff apply for cards and keep the ledger of
their township's; collectors record the handovers and issuance in their village.
"""

import rules

from dayao_sscard.permissions import action, has_role, in_scope
from dayao_sscard.roles import Role
from roster.models import Person

from .models import LIVE_CARD_STATUSES, BranchTownship, Card, CustodyKind, Handover, LedgerEvent

ADMIN, SUPERVISOR = Role.COUNTY_ADMIN, Role.COUNTY_SUPERVISOR
TOWNSHIP, VILLAGE, BANK = Role.TOWNSHIP_STAFF, Role.VILLAGE_COLLECTOR, Role.BANK_STAFF


@rules.predicate
def at_branch_counter(user, person) -> bool:
    """The one door to a person outside a bank clerk's scope: at the counter, a person of a
    township the clerk's branch serves who holds no live card yet, for instant card-making.

    A clerk's scope is the holders of the branch's cards; whoever has none yet is reached
    only through this door (and the counter finds them only by their exact ID number).
    """
    if person is None:
        return True
    if not isinstance(person, Person) or person.pk is None or not user.bank_branch_id:
        return False
    served = BranchTownship.objects.filter(
        branch_id=user.bank_branch_id, township_id=person.township_id
    ).exists()
    return served and not Card.objects.filter(person=person, status__in=LIVE_CARD_STATUSES).exists()


action("issuance.view_stock_cards", "查看库存卡和睡眠卡", has_role(*Role))
action(
    "issuance.create_card",
    "申领社保卡",
    has_role(ADMIN, TOWNSHIP, BANK) & in_scope | has_role(BANK) & at_branch_counter,
)
# 即时制卡 needs a bank to make the card: its clerks, at the counter.
action(
    "issuance.make_instant_card", "办理即时制卡", has_role(BANK) & (in_scope | at_branch_counter)
)
# Cards the card-system export shows made enter the ledger with the export's import.
action("issuance.open_cards_from_export", "按卡务系统导出建立社保卡台账", has_role(ADMIN))
action("issuance.record_card_event", "登记社保卡流转", has_role(ADMIN, TOWNSHIP, BANK) & in_scope)
action(
    "issuance.record_card_distribution",
    "登记社保卡交接和发放",
    has_role(ADMIN, TOWNSHIP, VILLAGE, BANK) & in_scope,
)
# Activation is face to face at a bank counter: the bank's clerks alone record it.
action("issuance.activate_card", "办理金融功能激活", has_role(BANK) & in_scope)
# Registering a death queues its cards for 注销; carrying it out is the ledger's.
action(
    "issuance.queue_card_cancellation",
    "申请注销社保卡",
    has_role(ADMIN, TOWNSHIP, VILLAGE) & in_scope,
)
# Withdrawing follows a corrected death record, which the township decides.
action(
    "issuance.withdraw_card_cancellation",
    "撤回社保卡注销申请",
    has_role(ADMIN, TOWNSHIP) & in_scope,
)
action("issuance.cancel_card", "办理社保卡注销", has_role(ADMIN, TOWNSHIP, BANK) & in_scope)

# 库存卡/睡眠卡: whoever reaches the holder (the township, the village, the bank) writes
# down each second-issuance attempt; taking a card back (回收登记) and calling it dormant
# are ledger events of the units that keep cards, as ``record_card_event`` says.
action(
    "issuance.record_second_issuance",
    "登记二次发放联系情况",
    has_role(ADMIN, TOWNSHIP, VILLAGE, BANK) & in_scope,
)
action("issuance.recover_card", "办理社保卡回收登记", has_role(ADMIN, TOWNSHIP, BANK) & in_scope)
action("issuance.mark_card_dormant", "认定睡眠卡", has_role(ADMIN, TOWNSHIP, BANK) & in_scope)
# The recovery list goes into the provincial card system, which the county and the
# townships' social security centres operate; banks and supervisors read it.
action("issuance.view_recoveries", "查看回收清单", has_role(ADMIN, SUPERVISOR, TOWNSHIP, BANK))
action(
    "issuance.mark_provincial_entry", "登记回收已录入省系统", has_role(ADMIN, TOWNSHIP) & in_scope
)
action(
    "issuance.view_cancellations", "查看待注销社保卡", has_role(ADMIN, SUPERVISOR, TOWNSHIP, BANK)
)

# 批量制卡: the township's social security centre (or the county) makes up application
# batches of its 待制卡 persons, sends them to the bank and brings back the bank's result.
# Supervisors read them. Collectors verify, they do not apply; bank staff receive the
# batch file from the township and have no batch of their own to make (their cards come
# in through the result the township imports, or at the counter as 即时制卡).
action("issuance.view_batches", "查看申领批次", has_role(ADMIN, SUPERVISOR, TOWNSHIP) & in_scope)
action("issuance.create_batch", "新建申领批次", has_role(ADMIN, TOWNSHIP) & in_scope)
action("issuance.change_batch", "调整申领批次人员", has_role(ADMIN, TOWNSHIP) & in_scope)
action("issuance.send_batch", "报送申领批次", has_role(ADMIN, TOWNSHIP) & in_scope)
# The batch file carries full ID numbers and photos for the bank: not for read-only roles.
action("issuance.download_batch_file", "下载制卡数据包", has_role(ADMIN, TOWNSHIP) & in_scope)
# 发放台账: every role that keeps or oversees distribution reads it for its own area
# (ID numbers masked for all); bank staff keep their branch's books, not the township's.
action("issuance.view_ledger", "查看和导出发放台账", has_role(ADMIN, SUPERVISOR, TOWNSHIP, VILLAGE))
action("issuance.import_batch_result", "导入制卡回盘", has_role(ADMIN, TOWNSHIP) & in_scope)

# 代管（代领）审批: the township (or a village collector) registers one with its written
# entrustment or guardianship document; the township or the county approves and revokes it,
# another account than the one that registered it (the service asks that). The document
# shows a minor's or a disabled person's circumstances: not for bank staff.
action(
    "issuance.view_proxy_approvals",
    "查看代管（代领）审批",
    has_role(ADMIN, SUPERVISOR, TOWNSHIP, VILLAGE) & in_scope,
)
action(
    "issuance.register_proxy_approval",
    "登记代管（代领）审批",
    has_role(ADMIN, TOWNSHIP, VILLAGE) & in_scope,
)
action(
    "issuance.approve_proxy_approval", "批准代管（代领）审批", has_role(ADMIN, TOWNSHIP) & in_scope
)
action(
    "issuance.revoke_proxy_approval", "撤销代管（代领）审批", has_role(ADMIN, TOWNSHIP) & in_scope
)
# 凭审批发放: those who issue cards in the township and its villages; the ledger then asks
# issuance.record_card_distribution of the card itself.
action(
    "issuance.issue_to_proxy",
    "凭审批将社保卡发放给代领人",
    has_role(ADMIN, TOWNSHIP, VILLAGE) & in_scope,
)
# The county marks cadres (Django admin); the townships read their own.
action(
    "issuance.view_cadres", "查看乡镇村干部名单", has_role(ADMIN, SUPERVISOR, TOWNSHIP) & in_scope
)


def _is_unit(user, kind, township_id, village_id, branch_id) -> bool:
    """The user works for this unit: the county's administrators for the county, a
    township's staff for their township (and its villages), a village's collector for
    their village, a branch's clerks for their branch."""
    if kind == CustodyKind.COUNTY:
        return user.role == ADMIN
    if kind == CustodyKind.TOWNSHIP:
        return user.role == TOWNSHIP and user.township_id == township_id
    if kind == CustodyKind.VILLAGE:
        return (user.role == VILLAGE and user.village_id == village_id) or (
            user.role == TOWNSHIP and user.township_id == township_id
        )
    if kind == CustodyKind.BANK:
        return user.role == BANK and user.bank_branch_id == branch_id
    return False


@rules.predicate
def of_receiving_unit(user, handover) -> bool:
    if handover is None:
        return True
    if not isinstance(handover, Handover):
        return False
    return _is_unit(
        user,
        handover.receiver_kind,
        handover.receiver_township_id,
        handover.receiver_village_id,
        handover.receiver_branch_id,
    )


@rules.predicate
def of_sending_unit(user, handover) -> bool:
    if handover is None:
        return True
    if not isinstance(handover, Handover):
        return False
    return _is_unit(
        user,
        handover.sender_kind,
        handover.sender_township_id,
        handover.sender_village_id,
        handover.sender_branch_id,
    )


# 交接: a box of cards passes between the bank, the county, a township and a village. Each
# unit hands over the cards in its custody and scope; the receiving unit's own people
# confirm what arrived (a village's cards also by its township's staff, who often carry
# them). Either party attaches the signed paper sheet. Supervisors read.
HANDOVER_ROLES = (ADMIN, TOWNSHIP, VILLAGE, BANK)
action("issuance.view_handovers", "查看交接单", has_role(*HANDOVER_ROLES, SUPERVISOR) & in_scope)
action("issuance.create_handover", "办理社保卡交接", has_role(*HANDOVER_ROLES) & in_scope)
action(
    "issuance.receive_handover",
    "确认接收交接的社保卡",
    has_role(*HANDOVER_ROLES) & in_scope & of_receiving_unit,
)
action(
    "issuance.attach_handover_sheet",
    "上传签字交接单",
    has_role(*HANDOVER_ROLES) & in_scope & (of_sending_unit | of_receiving_unit),
)

_DISTRIBUTION = {LedgerEvent.HANDED_OVER, LedgerEvent.RECEIVED, LedgerEvent.ISSUED}


def event_action(event: str) -> str:
    """The action a ledger event is: activation and 注销 are their own."""
    if event == LedgerEvent.ACTIVATED:
        return "issuance.activate_card"
    if event == LedgerEvent.CANCELLED:
        return "issuance.cancel_card"
    if event in _DISTRIBUTION:
        return "issuance.record_card_distribution"
    return "issuance.record_card_event"


# 代管风险: cards kept too long by the wrong hands. The county and each township chase
# them; a village collector sees the cards of the village (those held there above all).
# Bank staff have none to chase: a card with its bank is never a risk.
action(
    "issuance.view_custody_risks",
    "查看代管风险",
    has_role(ADMIN, SUPERVISOR, TOWNSHIP, VILLAGE),
)
# 对账 with the card system: the county, who imports the exports and asks the province;
# the township, who holds the cards; a bank clerk, for the cards of the branch (a
# cancelled card or another bank there is the bank's to check). Collectors keep no
# contact with the card system.
action(
    "issuance.view_reconciliation",
    "查看与卡务系统对账结果",
    has_role(ADMIN, SUPERVISOR, TOWNSHIP, BANK),
)

# ---- 发放 to the holder and 集中发放 -------------------------------------------------------


@rules.predicate
def village_in_scope(user, village) -> bool:
    """The village is the user's, or of the user's township, or the user is county-wide."""
    if village is None:
        return True
    if not user.is_authenticated or village.pk is None:
        return False
    if user.is_county_wide:
        return True
    if user.role == VILLAGE:
        return village.pk == user.village_id
    return user.role == TOWNSHIP and village.township_id == user.township_id


action("issuance.view_card", "查看社保卡及其流转台账", has_role(*Role) & in_scope)
# Bank staff issue at their counter (activation), where the holder signs in person.
action("issuance.issue_card", "发放社保卡", has_role(ADMIN, TOWNSHIP, VILLAGE) & in_scope)
action(
    "issuance.view_sign_off_sheets",
    "查看集中发放签收表",
    has_role(ADMIN, SUPERVISOR, TOWNSHIP, VILLAGE) & in_scope,
)
action(
    "issuance.create_sign_off_sheet",
    "打印集中发放签收表",
    has_role(ADMIN, TOWNSHIP, VILLAGE) & village_in_scope,
)
action(
    "issuance.record_sign_off_sheet",
    "登记集中发放结果",
    has_role(ADMIN, TOWNSHIP, VILLAGE) & in_scope,
)
