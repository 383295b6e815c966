"""Who may see what on the dashboards (see ``dayao_sscard/permissions.py``)."""

from dayao_sscard.permissions import action, has_role
from dayao_sscard.roles import Role

# Cards sitting with a cadre or an office are the county's and the townships' to chase.
action(
    "dashboard.view_cadre_held_cards",
    "查看滞留在干部或村委会的社保卡",
    has_role(Role.COUNTY_ADMIN, Role.COUNTY_SUPERVISOR, Role.TOWNSHIP_STAFF),
)
