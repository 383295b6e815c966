from django.contrib import admin

from .permissions import may

# Each menu entry and the action it is for: the menu asks the question the page asks
# (采集冲突 is listed for those who resolve them; a supervisor may still open it).
MENU = (
    ("supervision", "进度督导", "dashboard.view_supervision"),
    ("activation:counter", "网点柜面", "activation.view_counter"),
    ("roster:person-list", "人员查询", "roster.search_persons"),
    ("roster:work-queue", "核查队列", "roster.view_work_queue"),
    ("roster:conflicts", "采集冲突", "roster.resolve_conflicts"),
    ("roster:progress", "核查进度", "roster.view_progress"),
    ("issuance:batch-list", "批量制卡", "issuance.view_batches"),
    ("issuance:handover-list", "交接", "issuance.view_handovers"),
    ("issuance:stock-cards", "库存/睡眠卡", "issuance.view_stock_cards"),
    ("issuance:recovery-list", "回收清单", "issuance.view_recoveries"),
    ("issuance:cancellation-list", "待注销", "issuance.view_cancellations"),
    ("issuance:proxy-list", "代管审批", "issuance.view_proxy_approvals"),
    ("issuance:risks", "代管风险", "issuance.view_custody_risks"),
    ("issuance:reconciliation", "卡务对账", "issuance.view_reconciliation"),
    ("issuance:sign-off-list", "集中发放", "issuance.view_sign_off_sheets"),
    ("issuance:ledger", "发放台账", "issuance.view_ledger"),
    ("roster:comparison", "数据比对", "roster.view_comparison"),
    ("roster:subsidy-comparison", "补贴对象", "roster.view_subsidy_comparison"),
    ("roster:import-create", "导入名单", "roster.import_lists"),
    ("progress-report", "进度通报", "dashboard.make_progress_report"),
    ("audit-list", "操作日志", "dayao_sscard.view_audit_log"),
)


def navigation(request) -> dict:
    """Menu entries for the signed-in user: only the pages their role may open."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    items = [("home", "首页")]
    items += [(url_name, label) for url_name, label, perm in MENU if may(user, perm)]
    items.append(("job-list", "后台任务"))
    if admin.site.has_permission(request):
        items.append(("admin:index", "基础数据"))
    return {"nav_items": items}
