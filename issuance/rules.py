"""Who may do what to cards (see ``dayao_sscard/permissions.py``).

Bank staff record the events of their branch's cards and alone (with the county) activate
them, face to face at the counter; township staff apply for cards and keep the ledger of
their township's; collectors record the handovers and issuance in their village.
"""

import rules

from dayao_sscard.permissions import action, has_role, in_scope
from dayao_sscard.roles import Role
from roster.models import Person

from .models import LIVE_CARD_STATUSES, BranchTownship, Card, LedgerEvent

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
