"""Who may do what on the supervision pages (进度督导; see ``dayao_sscard/permissions.py``).

The county roles see every township, a township's staff their villages, a village
collector their village. Bank staff do not: the figures are about residents who have no
card of theirs, and the counter has its own lists.
"""

from dayao_sscard.permissions import action, has_role
from dayao_sscard.roles import Role

action(
    "dashboard.view_supervision",
    "查看进度督导",
    has_role(
        Role.COUNTY_ADMIN, Role.COUNTY_SUPERVISOR, Role.TOWNSHIP_STAFF, Role.VILLAGE_COLLECTOR
    ),
)

# The bureau's report to the townships covers the whole county: county roles make it.
action(
    "dashboard.make_progress_report",
    "生成进度通报",
    has_role(Role.COUNTY_ADMIN, Role.COUNTY_SUPERVISOR),
)
