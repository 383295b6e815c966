"""Who may do what to people and lists (see ``dayao_sscard/permissions.py``).

Supervisors read; bank staff see the holders of their branch's cards, may reveal an ID
number at the counter, and change nothing about a person; collectors work in their
village, township staff in their township; the county administrator everywhere.
"""

from dayao_sscard.permissions import action, has_role, in_scope
from dayao_sscard.roles import Role

from .models import ListKind

ADMIN, SUPERVISOR = Role.COUNTY_ADMIN, Role.COUNTY_SUPERVISOR
TOWNSHIP, VILLAGE, BANK = Role.TOWNSHIP_STAFF, Role.VILLAGE_COLLECTOR, Role.BANK_STAFF

everyone = has_role(*Role)
readers = has_role(ADMIN, SUPERVISOR, TOWNSHIP, VILLAGE)
collectors = has_role(ADMIN, TOWNSHIP, VILLAGE)
county_and_township = has_role(ADMIN, TOWNSHIP)

action("roster.search_persons", "查询人员", everyone)
action("roster.open_person", "查看该人员", everyone & in_scope)
action("roster.edit_person_contact", "修改人员联系信息", collectors & in_scope)
action("roster.verify_person", "核查、采集人员信息", collectors & in_scope)
action("roster.mark_person_deceased", "登记死亡", collectors & in_scope)
# Undoing a death withdraws card cancellations: the township decides, not the collector.
action("roster.undo_person_deceased", "撤销死亡登记", county_and_township & in_scope)
action(
    "roster.reveal_person_id",
    "查看完整身份证号码",
    has_role(ADMIN, TOWNSHIP, VILLAGE, BANK) & in_scope,
)
# Poverty, disability and subsidy membership is not the bank counter's business.
action("roster.view_person_categories", "查看人员类别和所在名单", readers & in_scope)
action("roster.export_persons", "导出人员名单", everyone)
action("roster.export_persons_in_full", "导出含完整身份证号码和电话的名单", collectors)

action("roster.import_lists", "导入名单", county_and_township)
for kind in ListKind:
    # Township staff bring back their own 12333 collection results; every other list
    # comes from the county.
    importers = county_and_township if kind == ListKind.COLLECTION_12333 else has_role(ADMIN)
    action(f"roster.import_{kind.value}", f"导入{kind.label}", importers)

action("roster.view_conflicts", "查看采集冲突", readers)
action("roster.resolve_conflicts", "处理采集冲突", collectors & in_scope)
action("roster.view_work_queue", "查看核查队列", collectors)
action("roster.view_progress", "查看核查进度", readers)
action("roster.view_comparison", "查看数据比对结果", has_role(ADMIN, SUPERVISOR, TOWNSHIP))
action("roster.view_subsidy_comparison", "查看补贴对象比对", has_role(ADMIN, SUPERVISOR, TOWNSHIP))
