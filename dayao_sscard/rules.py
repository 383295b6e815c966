"""The core's actions: background jobs and the audit log (see ``permissions.py``)."""

import rules

from .permissions import action, has_role, in_scope
from .roles import Role

signed_in = has_role(*Role)


@rules.predicate
def started_the_job(user, job) -> bool:
    return job is None or job.started_by_id == user.pk


action("dayao_sscard.open_job", "查看后台任务", signed_in & in_scope)
# A job's file may hold full ID numbers its starter was allowed to see: only the starter
# and the county administrator download it, not every county-wide reader.
action(
    "dayao_sscard.download_job_result",
    "下载任务结果文件",
    signed_in & in_scope & (has_role(Role.COUNTY_ADMIN) | started_the_job),
)
action(
    "dayao_sscard.view_audit_log",
    "查看操作日志",
    has_role(Role.COUNTY_ADMIN, Role.COUNTY_SUPERVISOR),
)
# Django's admin for places, banks, staff and the campaign; it also needs the account's
# staff flag, which staff_create gives the county administrator.
action("dayao_sscard.manage_reference_data", "管理基础数据", has_role(Role.COUNTY_ADMIN))
