from .roles import Role


def navigation(request) -> dict:
    """Menu entries for the signed-in user's role; templates never test roles themselves."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    items = [("home", "首页"), ("roster:person-list", "人员查询")]
    if user.role in (Role.COUNTY_ADMIN, Role.TOWNSHIP_STAFF, Role.VILLAGE_COLLECTOR):
        items.append(("roster:work-queue", "核查队列"))
        items.append(("roster:conflicts", "采集冲突"))
    if user.role != Role.BANK_STAFF:
        items.append(("roster:progress", "核查进度"))
    items.append(("issuance:stock-cards", "库存/睡眠卡"))
    if user.role in (Role.COUNTY_ADMIN, Role.COUNTY_SUPERVISOR, Role.TOWNSHIP_STAFF):
        items += [("roster:comparison", "数据比对"), ("roster:subsidy-comparison", "补贴对象")]
    if user.role in (Role.COUNTY_ADMIN, Role.TOWNSHIP_STAFF):
        items.append(("roster:import-create", "导入名单"))
    if user.role in (Role.COUNTY_ADMIN, Role.COUNTY_SUPERVISOR):
        items.append(("audit-list", "操作日志"))
    items.append(("job-list", "后台任务"))
    if user.role == Role.COUNTY_ADMIN:
        items.append(("admin:index", "基础数据"))
    return {"nav_items": items}
