"""Cards and their custody ledger. A card's status is the result of its ledger."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from dayao_sscard.scoping import Scope, ScopedQuerySet


class Bank(models.Model):
    name = models.CharField("银行名称", max_length=100, unique=True)
    short_name = models.CharField("简称", max_length=30, blank=True)
    aliases = models.JSONField("别名", default=list, blank=True)

    class Meta:
        verbose_name = "合作银行"
        verbose_name_plural = "合作银行"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.short_name or self.name


class BankBranch(models.Model):
    bank = models.ForeignKey(
        Bank, verbose_name="银行", on_delete=models.PROTECT, related_name="branches"
    )
    name = models.CharField("网点名称", max_length=100)
    township = models.ForeignKey(
        "roster.Township",
        verbose_name="所在乡镇",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    address = models.CharField("地址", max_length=200, blank=True)
    townships = models.ManyToManyField(
        "roster.Township",
        verbose_name="服务乡镇",
        through="BranchTownship",
        related_name="serving_branches",
        blank=True,
    )

    class Meta:
        verbose_name = "银行网点"
        verbose_name_plural = "银行网点"
        ordering = ["bank__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["bank", "name"], name="branch_unique_in_bank"),
        ]

    def __str__(self) -> str:
        return f"{self.bank}{self.name}"


class BranchTownship(models.Model):
    """A branch answers for its bank's cards of the persons of this township.

    ``bank`` repeats the branch's bank so that the database itself keeps one branch of a
    bank per township: the card of bank B for a person of township T has one answering
    branch, whenever it was made.
    """

    branch = models.ForeignKey(
        BankBranch, verbose_name="网点", on_delete=models.CASCADE, related_name="served"
    )
    township = models.ForeignKey(
        "roster.Township", verbose_name="服务乡镇", on_delete=models.PROTECT, related_name="+"
    )
    bank = models.ForeignKey(Bank, verbose_name="银行", on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "网点服务乡镇"
        verbose_name_plural = "网点服务乡镇"
        constraints = [
            models.UniqueConstraint(
                fields=["bank", "township"],
                name="one_branch_of_a_bank_per_township",
                violation_error_message="该银行已有网点负责这个乡镇：一个乡镇只能由同一银行的一个网点负责。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.branch} — {self.township}"


class ProductionType(models.TextChoices):
    BATCH = "batch", "批量制卡"
    INSTANT = "instant", "即时制卡"


class CardStatus(models.TextChoices):
    APPLIED = "applied", "已申领"
    IN_PRODUCTION = "in_production", "制卡中"
    FAILED = "failed", "制卡失败"
    IN_STOCK = "in_stock", "已制卡（库存）"
    IN_TRANSIT = "in_transit", "在途"
    ISSUED = "issued", "已发放"
    ACTIVATED = "activated", "已激活"
    DORMANT = "dormant", "睡眠卡"
    RECOVERED = "recovered", "已回收"
    CANCELLED = "cancelled", "已注销"


# A person holds at most one card in these states (一人一卡).
LIVE_CARD_STATUSES = (
    CardStatus.APPLIED,
    CardStatus.IN_PRODUCTION,
    CardStatus.IN_STOCK,
    CardStatus.IN_TRANSIT,
    CardStatus.ISSUED,
    CardStatus.ACTIVATED,
    CardStatus.DORMANT,
    CardStatus.RECOVERED,
)

# Our ledger witnesses a physical card for the person: made, and in stock or further along.
# Such a person never goes back to verification because a card-system export lacks the card.
CARD_MADE_STATUSES = (
    CardStatus.IN_STOCK,
    CardStatus.IN_TRANSIT,
    CardStatus.ISSUED,
    CardStatus.ACTIVATED,
    CardStatus.DORMANT,
    CardStatus.RECOVERED,
)


class CustodyKind(models.TextChoices):
    """Who physically holds the card now; cadres and village offices are a risk."""

    PROVINCE = "province", "省卡管中心/制卡厂"
    BANK = "bank", "银行网点"
    COUNTY = "county", "县人社局"
    TOWNSHIP = "township", "乡镇社保中心"
    VILLAGE = "village", "村委会（社区）"
    HOLDER = "holder", "持卡人本人"
    PROXY = "proxy", "经批准的代管人"
    NONE = "none", "无实体卡"


class Card(models.Model):
    """A social security card. Its status is written only by the ledger service."""

    # No database constraint, as for every bulk-written row about a person (see
    # docs/PERFORMANCE.md): the export opens cards in bulk, and the deferred check of each
    # row at COMMIT cost about 1 s per 150,000 cards. PROTECT still acts in Django, and
    # persons are never deleted outside it.
    person = models.ForeignKey(
        "roster.Person",
        verbose_name="持卡人",
        on_delete=models.PROTECT,
        related_name="cards",
        db_constraint=False,
    )
    card_number = models.CharField("社会保障卡卡号", max_length=20, null=True, blank=True)
    bank = models.ForeignKey(Bank, verbose_name="发卡银行", on_delete=models.PROTECT)
    production_type = models.CharField(
        "制卡类型", max_length=16, choices=ProductionType.choices, default=ProductionType.BATCH
    )
    status = models.CharField(
        "状态",
        max_length=16,
        choices=CardStatus.choices,
        default=CardStatus.APPLIED,
    )
    failure_reason = models.CharField("失败原因", max_length=200, blank=True)
    made_on = models.DateField("制卡日期", null=True, blank=True)
    custody_kind = models.CharField(
        "当前保管方", max_length=16, choices=CustodyKind.choices, default=CustodyKind.NONE
    )
    custodian = models.CharField("当前责任人", max_length=100, blank=True)
    custody_location = models.CharField("当前保管地点", max_length=200, blank=True)
    custody_since = models.DateTimeField("保管起始时间", null=True, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(township="person__township", village="person__village", card="")

    class Meta:
        verbose_name = "社保卡"
        verbose_name_plural = "社保卡"
        ordering = ["-created_at", "-id"]
        # A plain index: db_index on a CharField adds a second one for LIKE on PostgreSQL,
        # which no query of a status needs and the export's bulk opening paid for.
        indexes = [models.Index(fields=["status"], name="card_status")]
        constraints = [
            models.UniqueConstraint(
                fields=["card_number"],
                condition=Q(card_number__isnull=False),
                name="card_number_unique",
            ),
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status__in=LIVE_CARD_STATUSES),
                name="one_live_card_per_person",
            ),
            models.CheckConstraint(
                name="card_failed_has_reason",
                condition=~Q(status=CardStatus.FAILED) | ~Q(failure_reason=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.card_number or '（未出卡号）'} {self.get_status_display()}"


class LedgerEvent(models.TextChoices):
    APPLIED = "applied", "申领"
    PRODUCTION_STARTED = "production_started", "开始制卡"
    PRODUCTION_FAILED = "production_failed", "制卡失败"
    PRODUCED = "produced", "制卡完成"
    HANDED_OVER = "handed_over", "交接"
    RECEIVED = "received", "接收入库"
    ISSUED = "issued", "发放"
    ACTIVATED = "activated", "激活金融功能"
    MARKED_DORMANT = "marked_dormant", "认定睡眠卡"
    RECOVERED = "recovered", "回收登记"
    CANCELLED = "cancelled", "注销"


class IssueMethod(models.TextChoices):
    COUNTER = "counter", "网点柜台发放"
    ON_SITE = "on_site", "集中发放"
    DOOR_TO_DOOR = "door_to_door", "上门发放"
    PROXY = "proxy", "经批准代领"


class LedgerEntry(models.Model):
    """One step in a card's journey. Append-only: corrections are new entries.

    Database triggers (see the migration) refuse UPDATE and DELETE.
    """

    # Its own index would repeat the leading column of ledger_sequence_per_card.
    card = models.ForeignKey(
        Card,
        verbose_name="社保卡",
        on_delete=models.PROTECT,
        related_name="ledger_entries",
        db_index=False,
    )
    sequence = models.PositiveIntegerField("序号")
    event = models.CharField("环节", max_length=24, choices=LedgerEvent.choices)
    status_before = models.CharField(
        "变更前状态", max_length=16, choices=CardStatus.choices, blank=True
    )
    status_after = models.CharField("变更后状态", max_length=16, choices=CardStatus.choices)
    from_party = models.CharField("交出方", max_length=100, blank=True)
    to_party = models.CharField("接收方", max_length=100, blank=True)
    custody_kind = models.CharField(
        "保管方类型", max_length=16, choices=CustodyKind.choices, default=CustodyKind.NONE
    )
    location = models.CharField("保管地点", max_length=200, blank=True)
    responsible_person = models.CharField("责任人", max_length=50, blank=True)
    signee = models.CharField("签收人", max_length=50, blank=True)
    method = models.CharField("发放方式", max_length=16, choices=IssueMethod.choices, blank=True)
    face_to_face = models.BooleanField("当面办理", default=False)
    # None: recorded before the ledger asked (older entries keep what they said).
    identity_checked = models.BooleanField("已核验身份证件", null=True, default=False)
    occurred_at = models.DateTimeField("发生时间")
    # Set before the entry is hashed (issuance/chain.py), so not at save time.
    recorded_at = models.DateTimeField("登记时间", default=timezone.now, editable=False)
    # None: written by an import run at the command line (shown as 系统导入).
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.CharField("备注", max_length=500, blank=True)
    # The hash chain of the card's entries (issuance/chain.py, docs/LEDGER.md): sha256 hex
    # of this entry's fields and the previous entry's hash ("" for the card's first).
    prev_hash = models.CharField("上一条记录指纹", max_length=64, blank=True, default="")
    entry_hash = models.CharField("记录指纹", max_length=64, blank=True, default="")

    objects = ScopedQuerySet.as_manager()
    scope = Scope(
        township="card__person__township",
        village="card__person__village",
        card="card",
    )

    class Meta:
        verbose_name = "流转台账"
        verbose_name_plural = "流转台账"
        ordering = ["card_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["card", "sequence"], name="ledger_sequence_per_card"),
            models.CheckConstraint(
                name="ledger_issue_has_signee",
                condition=~Q(event=LedgerEvent.ISSUED) | ~Q(signee=""),
            ),
            models.CheckConstraint(
                name="ledger_activation_face_to_face",
                condition=~Q(event=LedgerEvent.ACTIVATED) | Q(face_to_face=True),
            ),
            models.CheckConstraint(
                name="ledger_activation_identity_checked",
                condition=~Q(event=LedgerEvent.ACTIVATED) | ~Q(identity_checked=False),
            ),
            models.CheckConstraint(
                name="ledger_issue_identity_checked",
                condition=~Q(event=LedgerEvent.ISSUED) | ~Q(identity_checked=False),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.get_event_display()}"


class LedgerDayHead(models.Model):
    """The sealed chain head of one past day of the ledger (``issuance.chain``): what the
    day's printed ledgers show, kept so that removing the day's newest entries shows."""

    day = models.DateField("日期", unique=True)
    head = models.CharField("日链头", max_length=64)
    entries = models.PositiveIntegerField("当日记录数")
    sealed_at = models.DateTimeField("封存时间")

    class Meta:
        verbose_name = "台账日链头"
        verbose_name_plural = "台账日链头"
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day:%Y年%m月%d日} {self.head[:12]}"


class CancellationRequest(models.Model):
    """A card queued for 注销 (holder deceased…); the bank carries it out."""

    class Status(models.TextChoices):
        PENDING = "pending", "待注销"
        DONE = "done", "已注销"
        WITHDRAWN = "withdrawn", "已撤回"

    card = models.ForeignKey(
        Card, verbose_name="社保卡", on_delete=models.PROTECT, related_name="cancellations"
    )
    reason = models.CharField("原因", max_length=200)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="申请人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_at = models.DateTimeField("申请时间", auto_now_add=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    close_note = models.CharField("办结说明", max_length=200, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(
        township="card__person__township",
        village="card__person__village",
        card="card",
    )

    class Meta:
        verbose_name = "注销申请"
        verbose_name_plural = "注销申请"
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["card"],
                condition=Q(status="pending"),
                name="one_pending_cancellation_per_card",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.card} {self.get_status_display()}"


class BatchStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    SENT = "sent", "已报送"
    CLOSED = "closed", "已回盘"


class ApplicationBatch(models.Model):
    """申领批次: persons sent together to a partner bank for batch card-making (批量制卡).

    Township staff make one for their township; the county may make one county-wide
    (no township). The bank's result file closes it once every member has an outcome.
    """

    number = models.CharField("批次号", max_length=40, unique=True)
    bank = models.ForeignKey(Bank, verbose_name="合作银行", on_delete=models.PROTECT)
    township = models.ForeignKey(
        "roster.Township",
        verbose_name="乡镇",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="为空表示全县批次",
    )
    status = models.CharField(
        "状态", max_length=16, choices=BatchStatus.choices, default=BatchStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="创建人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="报送人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    sent_at = models.DateTimeField("报送时间", null=True, blank=True)
    result_file_name = models.CharField("回盘文件", max_length=255, blank=True)
    result_file_sha256 = models.CharField("回盘文件指纹", max_length=64, blank=True)
    result_imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="回盘导入人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    result_imported_at = models.DateTimeField("回盘导入时间", null=True, blank=True)
    # What the last result import did (Chinese labels → figures) and the rows it could not
    # use (sheet, row, raw ID number, reason), shown again on the result page.
    result_counts = models.JSONField("回盘统计", default=dict, blank=True)
    result_problems = models.JSONField("回盘问题行", default=list, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(township="township")

    class Meta:
        verbose_name = "申领批次"
        verbose_name_plural = "申领批次"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="batch_sent_has_time",
                condition=Q(status=BatchStatus.DRAFT) | Q(sent_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def scope_label(self) -> str:
        return str(self.township) if self.township_id else "全县"


class MemberOutcome(models.TextChoices):
    PENDING = "pending", "待回盘"
    MADE = "made", "制卡成功"
    FAILED = "failed", "制卡失败"
    REMOVED = "removed", "已移出"


class BatchMember(models.Model):
    """A person in an application batch, the card applied for them and what became of it.

    While the outcome is pending the batch is open for the person: the database allows
    one such row per person (one open batch each).
    """

    batch = models.ForeignKey(
        ApplicationBatch, verbose_name="申领批次", on_delete=models.PROTECT, related_name="members"
    )
    person = models.ForeignKey(
        "roster.Person", verbose_name="人员", on_delete=models.PROTECT, related_name="+"
    )
    card = models.OneToOneField(
        Card, verbose_name="社保卡", on_delete=models.PROTECT, related_name="batch_member"
    )
    outcome = models.CharField(
        "结果", max_length=16, choices=MemberOutcome.choices, default=MemberOutcome.PENDING
    )
    outcome_at = models.DateTimeField("结果时间", null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(township="person__township", village="person__village")

    class Meta:
        verbose_name = "批次人员"
        verbose_name_plural = "批次人员"
        ordering = ["batch", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(outcome="pending"),
                name="one_open_batch_per_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch} {self.get_outcome_display()}"
