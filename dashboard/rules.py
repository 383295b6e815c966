"""Who may do what on the supervision pages (see ``dayao_sscard/permissions.py``)."""

from dayao_sscard.permissions import action, has_role
from dayao_sscard.roles import Role

# The bureau's report to the townships covers the whole county: county roles make it.
action(
    "dashboard.make_progress_report",
    "生成进度通报",
    has_role(Role.COUNTY_ADMIN, Role.COUNTY_SUPERVISOR),
)
