"""Who may do what to cards (see ``dayao_sscard/permissions.py``).

Bank staff record the events of their branch's cards and alone (with the county) activate
them, face to face at the counter; township staff apply for cards and keep the ledger of
their township's; collectors record the handovers and issuance in their village.
"""

from dayao_sscard.permissions import action, has_role, in_scope
from dayao_sscard.roles import Role

from .models import LedgerEvent

ADMIN, SUPERVISOR = Role.COUNTY_ADMIN, Role.COUNTY_SUPERVISOR
TOWNSHIP, VILLAGE, BANK = Role.TOWNSHIP_STAFF, Role.VILLAGE_COLLECTOR, Role.BANK_STAFF

action("issuance.view_stock_cards", "查看库存卡和睡眠卡", has_role(*Role))
action("issuance.create_card", "申领社保卡", has_role(ADMIN, TOWNSHIP, BANK) & in_scope)
# Cards the card-system export shows made enter the ledger with the export's import.
action("issuance.open_cards_from_export", "按卡务系统导出建立社保卡台账", has_role(ADMIN))
action("issuance.record_card_event", "登记社保卡流转", has_role(ADMIN, TOWNSHIP, BANK) & in_scope)
action(
    "issuance.record_card_distribution",
    "登记社保卡交接和发放",
    has_role(ADMIN, TOWNSHIP, VILLAGE, BANK) & in_scope,
)
action("issuance.activate_card", "办理金融功能激活", has_role(ADMIN, BANK) & in_scope)
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
