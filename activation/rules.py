"""Who may use the bank counter (see ``dayao_sscard/permissions.py``).

The counter is the bank's: its clerks, and the county, which also reads the branches'
lists; the supervisor reads them too and changes nothing. Issuing and activating a card
at the counter are the ledger's actions (``issuance/rules.py``).
"""

from dayao_sscard.permissions import action, has_role, in_scope
from dayao_sscard.roles import Role

ADMIN, SUPERVISOR, BANK = Role.COUNTY_ADMIN, Role.COUNTY_SUPERVISOR, Role.BANK_STAFF

action("activation.view_counter", "使用网点柜面", has_role(ADMIN, SUPERVISOR, BANK))
action("activation.sign_ecard", "登记电子社保卡签发", has_role(ADMIN, BANK) & in_scope)
