"""Cross-cutting models: staff accounts, the campaign, the audit log and jobs."""

import rules
from django.contrib.auth import password_validation
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from .roles import COUNTY_WIDE_ROLES, Role
from .scoping import Scope, ScopedQuerySet


class StaffUserManager(UserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        """``createsuperuser --noinput`` takes DJANGO_SUPERUSER_PASSWORD unchecked: check it."""
        extra_fields.setdefault("role", Role.COUNTY_ADMIN)
        if password is not None:
            password_validation.validate_password(
                password, self.model(username=username, email=email or "", **extra_fields)
            )
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A member of staff. The role decides what they may do, the scope where."""

    role = models.CharField("角色", max_length=32, choices=Role.choices)
    display_name = models.CharField("姓名", max_length=50, blank=True)
    township = models.ForeignKey(
        "roster.Township", verbose_name="所属乡镇", null=True, blank=True, on_delete=models.PROTECT
    )
    village = models.ForeignKey(
        "roster.Village",
        verbose_name="所属村（社区）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    bank_branch = models.ForeignKey(
        "issuance.BankBranch",
        verbose_name="所属银行网点",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )

    objects = StaffUserManager()

    class Meta:
        verbose_name = "工作人员"
        verbose_name_plural = "工作人员"
        constraints = [
            models.CheckConstraint(
                name="user_scope_matches_role",
                condition=(
                    Q(
                        role__in=[Role.COUNTY_ADMIN, Role.COUNTY_SUPERVISOR],
                        township__isnull=True,
                        village__isnull=True,
                        bank_branch__isnull=True,
                    )
                    | Q(
                        role=Role.TOWNSHIP_STAFF,
                        township__isnull=False,
                        village__isnull=True,
                        bank_branch__isnull=True,
                    )
                    | Q(
                        role=Role.VILLAGE_COLLECTOR,
                        township__isnull=False,
                        village__isnull=False,
                        bank_branch__isnull=True,
                    )
                    | Q(
                        role=Role.BANK_STAFF,
                        township__isnull=True,
                        village__isnull=True,
                        bank_branch__isnull=False,
                    )
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    def has_perm(self, perm, obj=None) -> bool:
        """The system's actions (``dayao_sscard/permissions.py``) are decided by role and
        scope alone: the superuser flag, which opens the reference-data admin, is no way
        around them. Django's model permissions for that admin keep their usual answer."""
        if rules.perm_exists(perm):
            return self.is_active and rules.has_perm(perm, self, obj)
        return super().has_perm(perm, obj)

    @property
    def is_county_wide(self) -> bool:
        return self.role in COUNTY_WIDE_ROLES

    @property
    def scope_label(self) -> str:
        if self.role in COUNTY_WIDE_ROLES:
            return "大姚县（全县）"
        if self.role == Role.TOWNSHIP_STAFF:
            return str(self.township)
        if self.role == Role.VILLAGE_COLLECTOR:
            return f"{self.township} {self.village}"
        if self.role == Role.BANK_STAFF:
            return str(self.bank_branch)
        return ""


# Without an active campaign, custody risks are counted after this many days.
DEFAULT_CUSTODY_RISK_DAYS = 30


def custody_risk_days() -> int:
    """The active campaign's N for custody risks, or the default without one."""
    days = (
        Campaign.objects.filter(is_active=True).values_list("custody_risk_days", flat=True).first()
    )
    return days or DEFAULT_CUSTODY_RISK_DAYS


def _target(label: str) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        label, default=100, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )


class Campaign(models.Model):
    """A work plan (工作方案) with its five stage deadlines; dates are data, not code."""

    name = models.CharField("方案名称", max_length=200)
    document_number = models.CharField("文号", max_length=100, blank=True)
    starts_on = models.DateField("开始日期")
    compare_deadline = models.DateField("数据比对截止")
    verify_deadline = models.DateField("信息核查截止")
    produce_deadline = models.DateField("制卡截止")
    distribute_deadline = models.DateField("发放截止")
    activate_deadline = models.DateField("激活截止")
    is_active = models.BooleanField("当前方案", default=False)
    custody_risk_days = models.PositiveSmallIntegerField(
        "代管风险天数",
        default=DEFAULT_CUSTODY_RISK_DAYS,
        validators=[MinValueValidator(1)],
        help_text="已制成的社保卡由村委会、非在途的县乡经办机构、代管人或持卡人以外的个人"
        "保管超过这么多天，即列为代管风险。",
    )

    # What share of the persons who should hold a card (应持卡人数) each stage is to have
    # reached by its deadline; the dashboards expect a township to get there at an even pace
    # from the previous deadline, and mark it behind schedule (进度滞后) when it is not.
    compare_target = _target("数据比对目标（%）")
    verify_target = _target("信息核查目标（%）")
    produce_target = _target("制卡目标（%）")
    distribute_target = _target("发放目标（%）")
    activate_target = _target("激活目标（%）")

    class Meta:
        verbose_name = "工作方案"
        verbose_name_plural = "工作方案"
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                name="campaign_deadlines_in_order",
                condition=Q(compare_deadline__gte=F("starts_on"))
                & Q(verify_deadline__gte=F("compare_deadline"))
                & Q(produce_deadline__gte=F("verify_deadline"))
                & Q(distribute_deadline__gte=F("produce_deadline"))
                & Q(activate_deadline__gte=F("distribute_deadline")),
                violation_error_message=(
                    "各阶段截止日期须按先后顺序：开始日期 ≤ 数据比对截止 ≤ 信息核查截止 ≤ "
                    "制卡截止 ≤ 发放截止 ≤ 激活截止。"
                ),
            ),
            models.UniqueConstraint(
                fields=["is_active"],
                condition=Q(is_active=True),
                name="one_active_campaign",
                violation_error_message=(
                    "当前方案只能有一个：请先取消另一个方案的“当前方案”，再设置这个方案。"
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    STAGES = (
        ("compare", "数据比对"),
        ("verify", "信息核查"),
        ("produce", "制卡"),
        ("distribute", "发放"),
        ("activate", "金融功能激活"),
    )

    def stages(self) -> list[dict]:
        """The five stages in order, each with its deadline, target share and the day it
        starts (the previous deadline, or the campaign's start)."""
        stages, starts_on = [], self.starts_on
        for code, label in self.STAGES:
            deadline = getattr(self, f"{code}_deadline")
            stages.append(
                {
                    "code": code,
                    "label": label,
                    "deadline": deadline,
                    "target": getattr(self, f"{code}_target"),
                    "starts_on": starts_on,
                }
            )
            starts_on = deadline
        return stages


class AuditEvent(models.Model):
    """Who did what to which record, with the values before and after.

    Rows are written by services in the same transaction as the change itself.
    """

    actor = models.ForeignKey(
        User,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_events",
    )
    actor_username = models.CharField("操作人账号", max_length=150, blank=True)
    # Indexed with the id (``audit_at_id``): a bulk import writes its rows at one time.
    at = models.DateTimeField("时间", auto_now_add=True)
    # One index serves both the equality and the prefix (``action__startswith``) look-ups:
    # Django's ``db_index`` would build two, and every audit row written pays for each.
    action = models.CharField("操作", max_length=80)
    object_type = models.CharField("对象类型", max_length=60)
    object_id = models.CharField("对象编号", max_length=64)
    object_repr = models.CharField("对象", max_length=200, blank=True)
    # No database constraint: imports write audit rows in bulk (one per card opened), and a
    # deferred check per row cost more than the rows themselves. Townships are reference
    # data that are never deleted (persons PROTECT them); SET_NULL still acts in Django.
    township = models.ForeignKey(
        "roster.Township",
        verbose_name="乡镇",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
    )
    before = models.JSONField("修改前", null=True, blank=True)
    after = models.JSONField("修改后", null=True, blank=True)
    note = models.CharField("说明", max_length=500, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(township="township")

    class Meta:
        verbose_name = "操作日志"
        verbose_name_plural = "操作日志"
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "at"]),
            models.Index(fields=["action"], name="audit_action", opclasses=["varchar_pattern_ops"]),
            # The log's order (-at, -id) from the index: an import's 145,000 rows share one
            # time, and with an index on the time alone PostgreSQL sorted them all for each
            # page (0.2 s of the log's page at 300,000 persons, growing with every import).
            models.Index(fields=["at", "id"], name="audit_at_id"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_username} {self.action} {self.object_repr}"


class JobKind(models.TextChoices):
    IMPORT_LIST = "import_list", "导入名单"
    EXPORT = "export", "导出名单"
    LEDGER = "ledger", "发放台账"
    PROGRESS_REPORT = "progress_report", "进度通报"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "处理中"
    SUCCEEDED = "succeeded", "已完成"
    FAILED = "failed", "失败"
    # Stopped before writing anything: a person must choose how to go on (e.g. a shrinking
    # card-system export). The job's counts hold what each choice would change.
    NEEDS_CONFIRMATION = "confirm", "待确认"


class JobQuerySet(ScopedQuerySet):
    def for_user(self, user):
        if user is None or not user.is_authenticated:
            return self.none()
        if user.role in COUNTY_WIDE_ROLES:
            return self.all()
        return self.filter(started_by=user)


class Job(models.Model):
    """A background job. The row exists before its task is queued, so it never vanishes."""

    kind = models.CharField("类型", max_length=32, choices=JobKind.choices)
    work = models.CharField(
        "处理函数", max_length=200, blank=True, help_text="运行该任务的服务函数（模块路径）"
    )
    title = models.CharField("名称", max_length=200)
    status = models.CharField(
        "状态", max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True
    )
    progress = models.PositiveSmallIntegerField("进度", default=0)
    message = models.CharField("当前步骤", max_length=200, blank=True)
    params = models.JSONField("参数", default=dict, blank=True)
    counts = models.JSONField("统计", default=dict, blank=True)
    input_file = models.FileField("上传文件", upload_to="jobs/input/%Y/%m/", blank=True)
    input_name = models.CharField("原文件名", max_length=255, blank=True)
    # What was uploaded, kept when the file itself is deleted under the retention rule
    # (dayao_sscard.retention); the upload's audit row holds the same.
    input_sha256 = models.CharField("上传文件指纹", max_length=64, blank=True)
    input_size = models.BigIntegerField("上传文件大小（字节）", null=True, blank=True)
    input_deleted_at = models.DateTimeField("上传文件删除时间", null=True, blank=True)
    result_file = models.FileField("结果文件", upload_to="jobs/result/%Y/%m/", blank=True)
    result_name = models.CharField("结果文件名", max_length=255, blank=True)
    result_deleted_at = models.DateTimeField("结果文件删除时间", null=True, blank=True)
    error = models.TextField("错误信息", blank=True)
    started_by = models.ForeignKey(
        User, verbose_name="发起人", null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField("提交时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    heartbeat_at = models.DateTimeField("最近心跳", null=True, blank=True)
    # When the job's task was last handed to the broker; empty while the broker could not
    # be reached (the job waits, and is sent again once it can be, see jobs.job_send).
    sent_at = models.DateTimeField("送入队列时间", null=True, blank=True)
    worker_host = models.CharField(max_length=255, blank=True)
    worker_pid = models.PositiveIntegerField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        verbose_name = "后台任务"
        verbose_name_plural = "后台任务"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(name="job_progress_percent", condition=Q(progress__lte=100)),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_finished(self) -> bool:
        return self.status in (
            JobStatus.SUCCEEDED,
            JobStatus.FAILED,
            JobStatus.NEEDS_CONFIRMATION,
        )

    @property
    def is_answered(self) -> bool:
        """A preview someone has answered: the work went on in the job it names."""
        return self.status == JobStatus.NEEDS_CONFIRMATION and bool(
            self.params.get("confirmed_job")
        )

    @property
    def waits_for_broker(self) -> bool:
        """Queued while the task queue could not be reached: it is sent once it can be."""
        return self.status == JobStatus.QUEUED and self.sent_at is None

    @property
    def status_label(self) -> str:
        """The status as the pages say it: an answered preview waits for nobody."""
        return "已确认" if self.is_answered else self.get_status_display()

    @property
    def status_class(self) -> str:
        return "answered" if self.is_answered else self.status


class DataChangeOperation(models.TextChoices):
    INSERT = "INSERT", "新增"
    UPDATE = "UPDATE", "修改"
    DELETE = "DELETE", "删除"


class DataChange(models.Model):
    """One SQL statement's changes to a table holding personal data, written by a
    PostgreSQL trigger (``dayao_sscard.row_audit``) whatever wrote them: the ORM, a bulk
    update, COPY or raw SQL, the application or someone at a database prompt.

    The services' own audit rows (AuditEvent) say what a clerk did and why; these say
    which rows of which table changed, so a write that forgot its audit row is still
    seen. Like the audit log, rows are never changed and are deleted only by the
    retention service once they are older than AUDIT_RETENTION_DAYS.
    """

    at = models.DateTimeField("时间")
    # No foreign key: a deleted account leaves its rows as they were.
    actor_id = models.BigIntegerField("操作人编号", null=True, blank=True)
    actor_username = models.CharField("操作人账号", max_length=150, blank=True)
    db_user = models.CharField("数据库账号", max_length=63)
    context = models.CharField("来源", max_length=200, blank=True)
    table_name = models.CharField("数据表", max_length=63)
    operation = models.CharField("操作", max_length=6, choices=DataChangeOperation.choices)
    row_count = models.BigIntegerField("行数")
    # The rows' keys as [first, last] runs: a COPY of 300,000 new persons is one run.
    row_ids = models.JSONField("记录编号")
    columns = models.JSONField("修改的字段", default=list, blank=True)
    # Personal fields only, by row key: changed values of an UPDATE, every value of a
    # DELETE. An INSERT's values are the rows themselves.
    before = models.JSONField("修改前", null=True, blank=True)
    after = models.JSONField("修改后", null=True, blank=True)
    transaction_id = models.BigIntegerField("事务号")

    class Meta:
        verbose_name = "数据变更记录"
        verbose_name_plural = "数据变更记录"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["at", "id"], name="datachange_at_id")]

    def __str__(self) -> str:
        return f"{self.table_name} {self.get_operation_display()} {self.row_count} 行"
