"""Cards and their custody ledger. A card's status is the result of its ledger."""

from django.conf import settings
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from dayao_sscard.roles import Role
from dayao_sscard.row_audit import statement_audit
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
    # The holder's village, copied from the person by ``card_places_keep`` on every
    # recount of them (a card opened, a person moved, an import): the 库存卡 work list
    # reads a village's page off ``card_village_work_order`` in its order instead of
    # sorting every card of the county on the list (322,000 at a million persons).
    holder_village = models.ForeignKey(
        "roster.Village",
        verbose_name="持卡人所在村（社区）",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )

    objects = ScopedQuerySet.as_manager()
    scope = Scope(township="person__township", village="person__village", card="")

    class Meta:
        triggers = statement_audit(personal=("person", "card_number", "bank"))
        verbose_name = "社保卡"
        verbose_name_plural = "社保卡"
        ordering = ["-created_at", "-id"]
        # A plain index: db_index on a CharField adds a second one for LIKE on PostgreSQL,
        # which no query of a status needs and the export's bulk opening paid for.
        indexes = [
            models.Index(fields=["status"], name="card_status"),
            # A unit's stock to hand over (issuance.handover_selectors.handover_candidates):
            # the cards in stock in a kind of keeping (of a bank), read from the index alone,
            # not every card of the bank from the table.
            models.Index(
                fields=["custody_kind", "bank", "person", "id"],
                name="card_stock_by_keeper",
                condition=Q(status="in_stock"),
            ),
            # The branch's lists in their order (activation.selectors.cards_waiting,
            # cards_not_activated): page 1 reads 50 entries instead of sorting every card
            # of the county in stock (97,000 at 300,000 persons).
            models.Index(
                fields=["made_on", "id"],
                name="card_waiting_order",
                condition=Q(status__in=["in_stock", "in_transit"]),
            ),
            models.Index(
                fields=["custody_since", "id"],
                name="card_not_activated_order",
                condition=Q(status__in=["issued", "dormant"]),
            ),
            models.Index(
                fields=["holder_village", "made_on", "id"],
                name="card_village_work_order",
                condition=Q(
                    status__in=["in_stock", "in_transit", "dormant", "issued", "recovered"]
                ),
            ),
        ]
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
    WINDOW = "window", "窗口发放"
    MAIL = "mail", "邮寄发放"


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
    # None: written by an import run at the command line (shown as 系统导入). Its index is
    # ledger_recorded_by_day's leading column.
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
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
        indexes = [
            # A branch's work of the day (activation.selectors.todays_work): its clerks'
            # entries recorded today, instead of every entry of the ledger.
            models.Index(fields=["recorded_by", "recorded_at"], name="ledger_recorded_by_day"),
            # 回收清单 (issuance.selectors.recovery_list): the few recoveries in their order,
            # instead of reading the whole ledger for them.
            models.Index(
                fields=["occurred_at", "id"],
                name="ledger_recoveries",
                condition=Q(event="recovered"),
            ),
        ]
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


class AttemptMethod(models.TextChoices):
    PHONE = "phone", "电话联系"
    VISIT = "visit", "上门"
    SMS = "sms", "短信通知"
    VILLAGE_NOTICE = "village_notice", "村组通知"
    OTHER = "other", "其他"


class AttemptOutcome(models.TextChoices):
    AGREED = "agreed", "联系上，约定领取"
    COLLECTED = "collected", "已领取"
    UNREACHABLE = "unreachable", "联系不上"
    REFUSED = "refused", "拒绝领取"
    MOVED_AWAY = "moved_away", "已迁出"
    DECEASED = "deceased", "已死亡"
    OTHER = "other", "其他"


# Outcomes after which the card does not reach its holder this time: the reason is written
# down, and the card is registered as recovered (回收登记) or, for a dead holder, cancelled.
FAILED_OUTCOMES = (
    AttemptOutcome.UNREACHABLE,
    AttemptOutcome.REFUSED,
    AttemptOutcome.MOVED_AWAY,
    AttemptOutcome.DECEASED,
    AttemptOutcome.OTHER,
)


class SecondIssuanceAttempt(models.Model):
    """One try to get a stock or dormant card to its holder (二次发放) and what came of it."""

    card = models.ForeignKey(
        Card,
        verbose_name="社保卡",
        on_delete=models.PROTECT,
        related_name="second_issuance_attempts",
    )
    attempted_at = models.DateTimeField("联系时间")
    method = models.CharField("联系方式", max_length=16, choices=AttemptMethod.choices)
    attempted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="联系人（工作人员）",
        on_delete=models.PROTECT,
        related_name="+",
    )
    contacted = models.CharField("联系对象", max_length=50, blank=True)
    outcome = models.CharField("结果", max_length=16, choices=AttemptOutcome.choices)
    note = models.CharField("原因/备注", max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(
        township="card__person__township",
        village="card__person__village",
        card="card",
    )

    class Meta:
        verbose_name = "二次发放联系记录"
        verbose_name_plural = "二次发放联系记录"
        ordering = ["-attempted_at", "-id"]
        indexes = [models.Index(fields=["card", "-attempted_at"], name="attempt_card_latest")]
        constraints = [
            models.CheckConstraint(
                name="attempt_failure_has_reason",
                condition=~Q(outcome__in=FAILED_OUTCOMES) | ~Q(note=""),
            ),
            # The same attempt submitted twice (a double click) is one row.
            models.UniqueConstraint(
                fields=["card", "attempted_at", "method", "outcome"],
                name="attempt_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.get_outcome_display()}"

    @property
    def failed(self) -> bool:
        return self.outcome in FAILED_OUTCOMES


class ProvincialEntry(models.Model):
    """A recovery (回收登记) entered into the provincial card system (卡务管理系统)."""

    ledger_entry = models.OneToOneField(
        LedgerEntry,
        verbose_name="回收登记",
        on_delete=models.PROTECT,
        related_name="provincial_entry",
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="录入人", on_delete=models.PROTECT, related_name="+"
    )
    entered_at = models.DateTimeField("录入时间")

    objects = ScopedQuerySet.as_manager()
    scope = Scope(
        township="ledger_entry__card__person__township",
        village="ledger_entry__card__person__village",
        card="ledger_entry__card",
    )

    class Meta:
        verbose_name = "回收录入省系统"
        verbose_name_plural = "回收录入省系统"
        ordering = ["-entered_at", "-id"]

    def __str__(self) -> str:
        return f"{self.ledger_entry} 已录入省系统"


class ProxyGround(models.TextChoices):
    """Why someone else may keep a holder's card: only these groups, and only approved."""

    MINIMUM_LIVING = "minimum_living", "低保"
    EXTREME_POVERTY = "extreme_poverty", "特困"
    DISABLED = "disabled", "残疾人"
    MINOR = "minor", "未成年人"


class ProxyApproval(models.Model):
    """代管（代领）审批: a named custodian may receive and keep a holder's card.

    Registered by one account, approved by another, valid for a period, revocable; the
    written entrustment or guardianship document is kept with it. The ledger issues a card
    to a proxy only under an approval valid on that day naming that proxy
    (``issuance.proxies.proxy_issue_refusal``).
    """

    person = models.ForeignKey(
        "roster.Person",
        verbose_name="持卡人",
        on_delete=models.PROTECT,
        related_name="proxy_approvals",
        db_index=False,  # proxy_person_id leads with it
    )
    ground = models.CharField("代管依据", max_length=24, choices=ProxyGround.choices)
    requested_by_name = models.CharField("申请人", max_length=50)
    request_reason = models.CharField("申请理由", max_length=500)
    document = models.FileField("书面委托书或监护证明", upload_to="proxy_documents/%Y/%m/")
    document_name = models.CharField("证明材料文件名", max_length=200)
    custodian_name = models.CharField("代管人姓名", max_length=50)
    custodian_id_number = models.CharField("代管人身份证号码", max_length=18)
    custodian_relationship = models.CharField("与持卡人关系", max_length=50)
    custodian_is_cadre = models.BooleanField("代管人是乡镇或村干部", default=False)
    cadre_reason = models.CharField("由干部代管的理由", max_length=500, blank=True)
    valid_from = models.DateField("有效期起")
    valid_until = models.DateField("有效期止")
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        on_delete=models.PROTECT,
        related_name="+",
    )
    registered_at = models.DateTimeField("登记时间", auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审批人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField("审批时间", null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="撤销人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)
    revoke_reason = models.CharField("撤销原因", max_length=500, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(township="person__township", village="person__village")

    class Meta:
        verbose_name = "代管审批"
        verbose_name_plural = "代管审批"
        ordering = ["-registered_at", "-id"]
        indexes = [models.Index(fields=["person", "custodian_id_number"], name="proxy_person_id")]
        constraints = [
            models.CheckConstraint(
                name="proxy_period_in_order", condition=Q(valid_until__gte=F("valid_from"))
            ),
            models.CheckConstraint(
                name="proxy_approver_not_registrar",
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=F("registered_by")),
            ),
            models.CheckConstraint(
                name="proxy_cadre_has_reason",
                condition=Q(custodian_is_cadre=False) | ~Q(cadre_reason=""),
            ),
            models.CheckConstraint(
                name="proxy_revoked_has_reason",
                condition=Q(revoked_at__isnull=True) | ~Q(revoke_reason=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person.name}由{self.custodian_name}代管（{self.get_ground_display()}）"

    def status_on(self, day) -> str:
        """待审批 / 已撤销 / 未生效 / 有效 / 已到期 on ``day``."""
        if self.revoked_at is not None:
            return ProxyStatus.REVOKED
        if self.approved_at is None:
            return ProxyStatus.PENDING
        if day < self.valid_from:
            return ProxyStatus.NOT_YET_VALID
        if day > self.valid_until:
            return ProxyStatus.EXPIRED
        return ProxyStatus.VALID

    @property
    def masked_custodian_id_number(self) -> str:
        from roster.id_numbers import mask_id_number

        return mask_id_number(self.custodian_id_number)


class ProxyStatus(models.TextChoices):
    PENDING = "pending", "待审批"
    VALID = "valid", "有效"
    NOT_YET_VALID = "not_yet_valid", "未生效"
    EXPIRED = "expired", "已到期"
    REVOKED = "revoked", "已撤销"


class Cadre(models.Model):
    """A person the county marks as a township or village cadre (乡镇、村干部).

    A cadre may not keep a resident's card unless an approval names them as cadre with a
    reason. Staff accounts of a township count as its cadres too, without a row here
    (``issuance.proxies.custodian_cadre``).
    """

    name = models.CharField("姓名", max_length=50)
    id_number = models.CharField("身份证号码", max_length=18, unique=True)
    township = models.ForeignKey(
        "roster.Township", verbose_name="乡镇", on_delete=models.PROTECT, related_name="+"
    )
    village = models.ForeignKey(
        "roster.Village",
        verbose_name="村（社区）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    post = models.CharField("职务", max_length=50)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(township="township", village="village")

    class Meta:
        verbose_name = "乡镇村干部"
        verbose_name_plural = "乡镇村干部"
        ordering = ["township__code", "village__name", "name"]

    def __str__(self) -> str:
        return f"{self.name}（{self.post}）"

    @property
    def masked_id_number(self) -> str:
        from roster.id_numbers import mask_id_number

        return mask_id_number(self.id_number)

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from roster.id_numbers import IdNumberError, normalize_id_number

        try:
            self.id_number = normalize_id_number(self.id_number)
        except IdNumberError as exc:
            raise ValidationError({"id_number": f"身份证号码{exc.reason}。"}) from None
        if self.village_id and self.village.township_id != self.township_id:
            raise ValidationError({"village": "所选村（社区）不属于该乡镇。"})


class SignOffSheet(models.Model):
    """集中发放签收表: the cards of one village printed for one issuance day.

    The rows are fixed when the sheet is made, so the day is recorded against exactly the
    list the holders signed on paper; the results are recorded once.
    """

    number = models.CharField("签收表编号", max_length=60, unique=True)
    village = models.ForeignKey(
        "roster.Village", verbose_name="村（社区）", on_delete=models.PROTECT, related_name="+"
    )
    day = models.DateField("发放日期")
    place = models.CharField("发放地点", max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="制表人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("制表时间", auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="结果登记人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField("结果登记时间", null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(township="village__township", village="village")

    class Meta:
        verbose_name = "集中发放签收表"
        verbose_name_plural = "集中发放签收表"
        ordering = ["-day", "-id"]
        constraints = [
            models.CheckConstraint(
                name="sign_off_recorded_by_whom",
                condition=Q(recorded_at__isnull=True, recorded_by__isnull=True)
                | Q(recorded_at__isnull=False, recorded_by__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def township_id(self) -> int:
        """The township the audit log files the sheet under."""
        return self.village.township_id


class SignOffOutcome(models.TextChoices):
    PENDING = "pending", "待登记"
    SIGNED = "signed", "本人签收"
    PROXY = "proxy", "代领"
    NOT_COLLECTED = "not_collected", "未领取"
    ELSEWHERE = "elsewhere", "已另行办理"


class SignOffRow(models.Model):
    """One card on a sign-off sheet (序号 ``position``) and what became of it that day."""

    sheet = models.ForeignKey(
        SignOffSheet, verbose_name="签收表", on_delete=models.PROTECT, related_name="rows"
    )
    position = models.PositiveIntegerField("序号")
    card = models.ForeignKey(
        Card, verbose_name="社保卡", on_delete=models.PROTECT, related_name="sign_off_rows"
    )
    outcome = models.CharField(
        "结果", max_length=16, choices=SignOffOutcome.choices, default=SignOffOutcome.PENDING
    )
    signee = models.CharField("签收人", max_length=50, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(township="sheet__village__township", village="sheet__village", card="card")

    class Meta:
        verbose_name = "签收表行"
        verbose_name_plural = "签收表行"
        ordering = ["sheet", "position"]
        constraints = [
            models.UniqueConstraint(fields=["sheet", "card"], name="sign_off_card_once"),
            models.UniqueConstraint(fields=["sheet", "position"], name="sign_off_position_once"),
        ]

    def __str__(self) -> str:
        return f"{self.sheet} #{self.position}"


# ---- 交接 (handovers) ---------------------------------------------------------------------


class HandoverStatus(models.TextChoices):
    PENDING = "pending", "待接收"
    RECEIVED = "received", "已接收"
    RECEIVED_WITH_DIFFERENCES = "differences", "已接收（有差异）"


# The units a box of cards passes between: bank → county → township → village, or back.
HANDOVER_UNIT_KINDS = (
    CustodyKind.BANK,
    CustodyKind.COUNTY,
    CustodyKind.TOWNSHIP,
    CustodyKind.VILLAGE,
)


class HandoverCounter(models.Model):
    """The last 交接单号 given out on a day: its row lock makes numbers unique and gapless."""

    day = models.DateField("日期", primary_key=True)
    last = models.PositiveIntegerField("已用序号", default=0)

    class Meta:
        verbose_name = "交接单号计数"
        verbose_name_plural = "交接单号计数"

    def __str__(self) -> str:
        return f"{self.day} {self.last}"


class Handover(models.Model):
    """交接: a box of cards passing from one custodian unit to another in one act, with its
    numbered sheet (交接单). The receiver confirms it card by card or all at once; a card
    missing from the box or an extra one is a difference with its reason.

    ``township`` and ``village`` are those of every card on the sheet (empty when the
    cards span several): the handover is read by the clerks of that place, and by the
    bank clerks of either party's branch.
    """

    number = models.CharField("交接单号", max_length=20, unique=True)
    sender_kind = models.CharField("交出方类型", max_length=16, choices=CustodyKind.choices)
    sender_name = models.CharField("交出方", max_length=100)
    sender_township = models.ForeignKey(
        "roster.Township",
        verbose_name="交出方乡镇",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    sender_village = models.ForeignKey(
        "roster.Village",
        verbose_name="交出方村（社区）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    sender_branch = models.ForeignKey(
        BankBranch,
        verbose_name="交出方网点",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    sender_person = models.CharField("交出方责任人", max_length=50)
    receiver_kind = models.CharField("接收方类型", max_length=16, choices=CustodyKind.choices)
    receiver_name = models.CharField("接收方", max_length=100)
    receiver_township = models.ForeignKey(
        "roster.Township",
        verbose_name="接收方乡镇",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    receiver_village = models.ForeignKey(
        "roster.Village",
        verbose_name="接收方村（社区）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    receiver_branch = models.ForeignKey(
        BankBranch,
        verbose_name="接收方网点",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    receiver_person = models.CharField("接收方责任人", max_length=50)
    location = models.CharField("保管地点", max_length=200)
    township = models.ForeignKey(
        "roster.Township",
        verbose_name="所涉乡镇",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="为空表示涉及多个乡镇（全县）",
    )
    village = models.ForeignKey(
        "roster.Village",
        verbose_name="所涉村（社区）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.CharField("备注", max_length=500, blank=True)
    status = models.CharField(
        "状态", max_length=16, choices=HandoverStatus.choices, default=HandoverStatus.PENDING
    )
    card_count = models.PositiveIntegerField("卡数")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="交出登记人",
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("交出时间", auto_now_add=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="接收登记人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    received_at = models.DateTimeField("接收时间", null=True, blank=True)
    sheet = models.FileField("签字交接单扫描件", upload_to="handovers/%Y/%m/", blank=True)
    sheet_name = models.CharField("扫描件文件名", max_length=255, blank=True)
    sheet_sha256 = models.CharField("扫描件指纹", max_length=64, blank=True)
    sheet_uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="扫描件上传人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    sheet_uploaded_at = models.DateTimeField("扫描件上传时间", null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(
        township="township",
        village="village",
        branch=("sender_branch", "receiver_branch"),
    )

    class Meta:
        verbose_name = "交接单"
        verbose_name_plural = "交接单"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="handover_received_has_time",
                condition=Q(status=HandoverStatus.PENDING) | Q(received_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def has_differences(self) -> bool:
        return self.status == HandoverStatus.RECEIVED_WITH_DIFFERENCES


class HandoverOutcome(models.TextChoices):
    PENDING = "pending", "待接收"
    RECEIVED = "received", "已接收"
    MISSING = "missing", "未到卡"
    RECEIVED_LATE = "received_late", "后补接收"


class HandoverItem(models.Model):
    """A card on a handover sheet and what the receiver found. While it waits, the card is
    on no other open handover (the database keeps that)."""

    handover = models.ForeignKey(
        Handover, verbose_name="交接单", on_delete=models.PROTECT, related_name="items"
    )
    card = models.ForeignKey(
        Card, verbose_name="社保卡", on_delete=models.PROTECT, related_name="handover_items"
    )
    outcome = models.CharField(
        "接收结果", max_length=16, choices=HandoverOutcome.choices, default=HandoverOutcome.PENDING
    )
    reason = models.CharField("差异原因", max_length=200, blank=True)
    outcome_at = models.DateTimeField("结果时间", null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(
        township="card__person__township",
        village="card__person__village",
        card="card",
    )

    class Meta:
        verbose_name = "交接单卡片"
        verbose_name_plural = "交接单卡片"
        ordering = ["handover", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["card"],
                condition=Q(outcome="pending"),
                name="one_open_handover_per_card",
            ),
            models.UniqueConstraint(fields=["handover", "card"], name="handover_card_once"),
            models.CheckConstraint(
                name="handover_missing_has_reason",
                condition=~Q(outcome="missing") | ~Q(reason=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.handover} {self.get_outcome_display()}"


class HandoverExtra(models.Model):
    """A card number the receiver scanned that is not on the sheet, with the reason."""

    handover = models.ForeignKey(
        Handover, verbose_name="交接单", on_delete=models.PROTECT, related_name="extras"
    )
    raw_number = models.CharField("扫描卡号", max_length=40)
    card = models.ForeignKey(
        Card,
        verbose_name="社保卡",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField("原因", max_length=200)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(
        township="handover__township",
        village="handover__village",
        branch=("handover__sender_branch", "handover__receiver_branch"),
    )

    class Meta:
        verbose_name = "交接多出卡片"
        verbose_name_plural = "交接多出卡片"
        ordering = ["handover", "id"]
        constraints = [
            models.CheckConstraint(name="handover_extra_has_reason", condition=~Q(reason="")),
        ]

    def __str__(self) -> str:
        return f"{self.handover} {self.raw_number}"


# ---- 对账: the reconciliation with the card-system export, kept as rows -------------------
# See issuance/reconciliation.py: what the effective exports say (``ExportMadeCard``,
# ``ExportCardWord``) is read once per import; the disagreements (``ReconciliationItem``)
# are asked again of the persons every write recounts, and of the county after an import.
# ID numbers compare byte by byte on PostgreSQL (COLLATE "C", migration 0015, as
# roster_person's): keep it if these fields are ever altered.


class ExportMadeCard(models.Model):
    """One ID number's current 制卡成功 record in the effective exports
    (``roster.card_records.current_made_cards``)."""

    id_number = models.CharField("公民身份号码", max_length=18, unique=True)
    # The name the exports give the person (the latest in the alphabet, as before), for
    # persons our roster does not know.
    name = models.CharField("姓名", max_length=50, blank=True)
    card_number = models.CharField("社会保障卡卡号", max_length=30, blank=True)
    bank_name = models.CharField("发卡银行", max_length=100, blank=True)
    # The bank ``bank_name`` spells (``issuance.selectors.banks_by_spelling``), if any.
    bank = models.ForeignKey(
        Bank,
        verbose_name="对应合作银行",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )

    class Meta:
        verbose_name = "卡务系统当前制卡记录"
        verbose_name_plural = "卡务系统当前制卡记录"
        indexes = [models.Index(fields=["card_number"], name="export_made_card_number")]

    def __str__(self) -> str:
        return f"{self.id_number} {self.card_number}"


class ExportCardWord(models.Model):
    """What the effective exports say of one card number besides 正常: 注销 in every record
    naming it (``cancelled``), or another 卡状态 such as 挂失 (``odd_status``)."""

    card_number = models.CharField("社会保障卡卡号", max_length=30, unique=True)
    cancelled = models.BooleanField("已注销")
    odd_status = models.CharField("其他卡状态", max_length=20, blank=True)

    class Meta:
        verbose_name = "卡务系统卡状态"
        verbose_name_plural = "卡务系统卡状态"

    def __str__(self) -> str:
        return self.card_number


class ReconciliationBasis(models.Model):
    """What the stored reconciliation was last computed from, for the whole county (one
    row at most): the effective exports' ids, our banks, and when."""

    exports = models.CharField("卡务系统导出", max_length=500, blank=True)
    # Our banks as they were (a digest): the export's bank names were read against them.
    banks = models.CharField("合作银行", max_length=64, blank=True)
    rebuilt_at = models.DateTimeField("全部重新对账时间")

    class Meta:
        verbose_name = "对账依据"
        verbose_name_plural = "对账依据"

    def __str__(self) -> str:
        return self.exports


class ReconciliationItemQuerySet(ScopedQuerySet):
    def for_user(self, user) -> "ScopedQuerySet":
        """The items of the user's scope. A bank clerk's are read as the ledger and the
        roster scope them, from the item's own columns: an item about a card of ours as
        ``Card.objects.for_user`` (the card's bank has the branch, which serves the
        holder's township), an item about a person without one as
        ``Person.objects.for_user`` (a card of theirs at the branch's bank, ditto)."""
        if getattr(user, "role", None) != Role.BANK_STAFF or not user.is_active:
            return super().for_user(user)
        branch = user.bank_branch_id
        if branch is None:
            return self.none()
        persons_card = Card.objects.filter(person_id=OuterRef("person_id"), bank__branches=branch)
        return self.filter(
            Q(township__serving_branches=branch)
            & (
                Q(card__isnull=False, bank__branches=branch)
                | Q(card__isnull=True, person__isnull=False) & Q(Exists(persons_card))
            )
        )


class ReconciliationItem(models.Model):
    """One disagreement between the card-system export and our ledger (issuance/
    reconciliation.py's kinds), about a card of ours or a person the export names.

    What our ledger says is read from the card when shown; what the export says is kept
    here (``export_…``), with the place the item is scoped and counted by. Rows are
    rebuilt, never edited: no database keys, as for the other rows written in bulk.
    """

    kind = models.CharField("不一致类型", max_length=20)
    # The kind's place in the list (``Kind.rank``): the list's order is read off an index.
    rank = models.PositiveSmallIntegerField("类型顺序")
    card = models.ForeignKey(
        Card,
        verbose_name="社保卡",
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
    )
    # Left in place when the person is deleted: the recount that follows finds the
    # person's ID number on it and lists the export's record as not on our roster.
    person = models.ForeignKey(
        "roster.Person",
        verbose_name="人员",
        null=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
    )
    # The card's bank, for a bank clerk's scope (an event that changes it recounts).
    bank = models.ForeignKey(
        Bank,
        verbose_name="发卡银行",
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    # The person's township when the item was computed (kept with them: a move recounts),
    # and its code, by which the list is ordered and filtered.
    township = models.ForeignKey(
        "roster.Township",
        verbose_name="乡镇",
        null=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    township_code = models.CharField("乡镇区划代码", max_length=9, null=True)
    id_number = models.CharField("公民身份号码", max_length=18)
    # The person's name, or the export's for a person not on our roster: the list's order.
    name = models.CharField("姓名", max_length=50, blank=True)
    export_number = models.CharField("卡务系统卡号", max_length=30, blank=True)
    export_bank = models.CharField("卡务系统发卡银行", max_length=100, blank=True)
    # The export's 卡状态 (status_there) or the person's comparison class (absent_there).
    export_word = models.CharField("卡务系统状态", max_length=20, blank=True)

    objects = ReconciliationItemQuerySet.as_manager()
    scope = Scope(township="township", card="card")

    class Meta:
        verbose_name = "对账不一致"
        verbose_name_plural = "对账不一致"
        indexes = [
            # The county's list in its order, of all kinds or of one.
            models.Index(
                fields=["rank", "township_code", "name", "id"], name="recon_item_list_order"
            ),
            # A township's list in its order, and its counts.
            models.Index(
                fields=["township", "rank", "township_code", "name", "id"],
                name="recon_item_township_order",
            ),
            models.Index(fields=["id_number"], name="recon_item_id_number"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id_number}"
