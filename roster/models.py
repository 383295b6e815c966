"""Places and people: the county, its townships and villages, and each person once."""

from django.conf import settings
from django.db import connections, models
from django.db.models import F, Func, Q, Value
from django.db.models.functions import Length, Reverse

from dayao_sscard.row_audit import statement_audit
from dayao_sscard.scoping import Scope, ScopedQuerySet

from .elements import IdType, person_derive

models.CharField.register_lookup(Length)


class County(models.Model):
    code = models.CharField("区划代码", max_length=6, unique=True)
    name = models.CharField("名称", max_length=50)
    prefecture = models.CharField("州（市）", max_length=50)
    province = models.CharField("省", max_length=50)

    class Meta:
        verbose_name = "县"
        verbose_name_plural = "县"

    def __str__(self) -> str:
        return self.name


class Township(models.Model):
    """乡/镇. Lists name them loosely, so each also has a short name and aliases."""

    county = models.ForeignKey(County, verbose_name="县", on_delete=models.PROTECT)
    code = models.CharField("区划代码", max_length=9, unique=True)
    name = models.CharField("名称", max_length=50, unique=True)
    short_name = models.CharField("简称", max_length=20, unique=True)
    aliases = models.JSONField("别名", default=list, blank=True)

    class Meta:
        verbose_name = "乡镇"
        verbose_name_plural = "乡镇"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(name="township_code_9_digits", condition=Q(code__length=9)),
        ]

    def __str__(self) -> str:
        return self.name


class Village(models.Model):
    """村委会/社区, always inside one township."""

    township = models.ForeignKey(
        Township, verbose_name="乡镇", on_delete=models.PROTECT, related_name="villages"
    )
    name = models.CharField("名称", max_length=50)
    code = models.CharField("区划代码", max_length=12, blank=True)

    class Meta:
        verbose_name = "村（社区）"
        verbose_name_plural = "村（社区）"
        ordering = ["township__code", "name"]
        constraints = [
            models.UniqueConstraint(fields=["township", "name"], name="village_unique_in_township"),
        ]

    def __str__(self) -> str:
        return self.name


class Gender(models.TextChoices):
    MALE = "male", "男"
    FEMALE = "female", "女"


class VitalStatus(models.TextChoices):
    ALIVE = "alive", "健在"
    DECEASED = "deceased", "已死亡"
    UNKNOWN = "unknown", "未知"


class CardClass(models.TextChoices):
    """Result of comparing a person with the provincial card system (数据比对)."""

    CARD_MADE = "card_made", "已制卡"
    IN_PRODUCTION = "in_production", "制卡中"
    CARD_FAILED = "card_failed", "制卡失败"
    NO_CARD_INFO = "no_card_info", "无制卡信息"


class VerificationStatus(models.TextChoices):
    PENDING = "pending", "待核查"
    READY = "ready", "待制卡"
    UNREACHABLE = "unreachable", "无法联系"


class UnreachableReason(models.TextChoices):
    MOVED_AWAY = "moved_away", "已迁出"
    WORKING_ELSEWHERE = "working_elsewhere", "外出务工"
    REFUSED = "refused", "拒绝办理"
    NO_CONTACT = "no_contact", "联系不上"
    OTHER = "other", "其他"


class Category(models.TextChoices):
    MINIMUM_LIVING = "minimum_living", "低保"
    EXTREME_POVERTY = "extreme_poverty", "特困"
    DISABLED = "disabled", "残疾人"
    SUBSIDY_RECIPIENT = "subsidy_recipient", "补贴对象"


class _HasCharacters(Func):
    """PostgreSQL: the text's characters are all among the column's (``@>`` on the arrays
    of characters), which the GIN index ``person_name_characters`` answers."""

    # regexp_split_to_array(a, '') @> regexp_split_to_array(b, ''): the two expressions
    # are joined by the operator, so each keeps Django's quoting and parameters.
    template = "regexp_split_to_array(%(expressions)s, '')"
    arg_joiner = ", '') @> regexp_split_to_array("
    output_field = models.BooleanField()


class PersonQuerySet(ScopedQuerySet):
    def search(self, text: str) -> "PersonQuerySet":
        from .id_numbers import try_normalize_id_number

        text = (text or "").strip()
        if not text:
            return self
        id18, _ = try_normalize_id_number(text)
        if id18:
            return self.filter(id_number=id18)
        postgresql = connections[self.db].vendor == "postgresql"
        if text.isdigit() or (text[:-1].isdigit() and text[-1:] in "xX"):
            # Part of a number (often the last digits read off a card): a suffix search.
            # On PostgreSQL a prefix of the reversed number, which the index
            # person_id_number_reversed serves (LIKE '%…' reads every row).
            if postgresql:
                return self.alias(id_reversed=Reverse("id_number")).filter(
                    id_reversed__startswith=text.upper()[::-1]
                )
            return self.filter(id_number__endswith=text.upper())
        # A name holds every character of the text: the GIN index on the name's characters
        # finds those rows, LIKE keeps the ones with the text in one piece. The villages are
        # looked up first (a small table) and their persons found by the village index:
        # an OR over a joined column, or over a subquery, reads every person.
        name = Q(name__contains=text)
        if postgresql:
            name &= Q(_HasCharacters(F("name"), Value(text)))
        villages = list(Village.objects.filter(name__contains=text).values_list("pk", flat=True))
        return self.filter(name | Q(village_id__in=villages)) if villages else self.filter(name)


class Person(models.Model):
    """One citizen, one row, keyed by the (normalised) ID number."""

    # Every column a list does not supply has a database default (db_default) as well as
    # the model's: the import's COPY then names only the list's columns, which halves
    # PostgreSQL's work per imported person (3.3 s against 6.9 s per million, measured).
    # COLLATE "C" on PostgreSQL (migration 0012), which Django does not track: keep it
    # if this field is ever altered.
    id_number = models.CharField("公民身份号码", max_length=18, unique=True)
    name = models.CharField("姓名", max_length=50)
    gender = models.CharField("性别", max_length=8, choices=Gender.choices, blank=True)
    birth_date = models.DateField("出生日期", null=True, blank=True)
    ethnicity = models.CharField("民族", max_length=20, blank=True)
    nationality = models.CharField("国籍", max_length=30, default="中国", db_default="中国")
    occupation = models.CharField("职业", max_length=50, blank=True, db_default="")
    address = models.CharField("住所地或工作单位地址", max_length=200, blank=True)
    phone = models.CharField("联系电话", max_length=20, blank=True)
    id_type = models.CharField(
        "证件种类",
        max_length=32,
        choices=IdType.choices,
        default=IdType.RESIDENT_ID,
        db_default=IdType.RESIDENT_ID,
    )
    id_valid_from = models.DateField("证件有效期起", null=True, blank=True)
    id_valid_until = models.DateField("证件有效期止", null=True, blank=True)
    id_valid_long_term = models.BooleanField("证件长期有效", default=False, db_default=False)

    # The only index on township (lists, counts and scopes go by township); each further
    # index on this wide row slows the million-row imports.
    # No database foreign keys on township and village: PostgreSQL re-checks a deferred key
    # for each of a million imported persons at commit (about 5 s per key). Persons are
    # written by the import with ids taken from these tables in the same transaction, or
    # through the ORM; PROTECT still refuses to delete a place that persons live in.
    township = models.ForeignKey(
        Township,
        verbose_name="乡镇",
        on_delete=models.PROTECT,
        related_name="persons",
        db_constraint=False,
    )
    # Indexed with the walking order (person_walk_order), which leads with it.
    village = models.ForeignKey(
        Village,
        verbose_name="村（社区）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="persons",
        db_constraint=False,
        db_index=False,
    )
    group_name = models.CharField("村民小组", max_length=50, blank=True)

    vital_status = models.CharField(
        "生存状态",
        max_length=16,
        choices=VitalStatus.choices,
        default=VitalStatus.ALIVE,
        db_default=VitalStatus.ALIVE,
    )
    death_date = models.DateField("死亡日期", null=True, blank=True)
    death_source = models.CharField("死亡信息来源", max_length=100, blank=True, db_default="")
    death_note = models.CharField("死亡证明说明", max_length=500, blank=True, db_default="")

    verification_status = models.CharField(
        "核查状态",
        max_length=16,
        choices=VerificationStatus.choices,
        default=VerificationStatus.PENDING,
        db_default=VerificationStatus.PENDING,
    )
    unreachable_reason = models.CharField(
        "无法联系原因",
        max_length=32,
        choices=UnreachableReason.choices,
        blank=True,
        db_default="",
    )
    unreachable_note = models.CharField("无法联系说明", max_length=200, blank=True, db_default="")
    photo = models.FileField("照片", upload_to="photos/%Y/%m/", blank=True, db_default="")
    photo_thumbnail = models.FileField(
        "照片缩略图", upload_to="photos/thumbs/%Y/%m/", blank=True, db_default=""
    )
    photo_on_12333 = models.BooleanField("照片已在12333采集", default=False, db_default=False)
    verified_at = models.DateTimeField("核查时间", null=True, blank=True)
    # No database key either: PostgreSQL queues its check for every imported person, all
    # of them empty, and runs them at commit (1.4 s per million). Set only through the ORM.
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="核查人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )

    # Two columns worked out from the person's own fields, so that the verification queue
    # is grouped, counted and paged by the database (roster.selectors.WorkQueue) instead
    # of checking every person in Python: ``missing_bits``, the groups of person_problems that
    # hold whatever the day (verification.missing_elements; an ID document's expiry is
    # asked when the queue is read), and ``walk_key``, the order a collector walks a
    # village in (group as people count, 2组 before 10组, then name), COLLATE "C" on
    # PostgreSQL (migration 0020, not tracked by Django: keep it if this field is
    # altered). ``save()`` keeps both; the bulk writers call ``person_derive`` themselves.
    missing_bits = models.PositiveIntegerField("尚缺要素", default=0, db_default=0, editable=False)
    walk_key = models.CharField(
        "走访顺序", max_length=255, blank=True, default="", db_default="", editable=False
    )

    version = models.PositiveIntegerField("版本", default=1, db_default=1)
    created_at = models.DateTimeField("建档时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = PersonQuerySet.as_manager()
    scope = Scope(township="township", village="village", card="cards")

    class Meta:
        triggers = statement_audit()
        verbose_name = "人员"
        verbose_name_plural = "人员"
        ordering = ["township__code", "village__name", "name", "id"]
        # No index on name: search is by substring (LIKE '%…%'), which a b-tree cannot serve.
        indexes = [
            # A village's persons in walking order, and a township's persons without a
            # village (NULL, then the township): a queue page reads its rows in order.
            models.Index(
                fields=["village", "township", "walk_key", "id"], name="person_walk_order"
            ),
            # The few persons still to verify whose ID document has dates, which the day
            # may have put out of date: the queue counts them apart (WorkQueue).
            models.Index(
                fields=["township"],
                condition=Q(
                    verification_status="pending",
                    id_valid_long_term=False,
                    id_valid_from__isnull=False,
                    id_valid_until__isnull=False,
                ),
                name="person_pending_dated",
            ),
            # The few deceased: the 集中发放 form takes their waiting cards off the card
            # counters (issuance.selectors.village_awaiting_counts).
            models.Index(
                fields=["township", "village"],
                condition=Q(vital_status="deceased"),
                name="person_deceased",
            ),
            # A township's persons with what a card list sorts them by (village, name), read
            # from the index alone: 新建交接 joins a bank's stock to its townships' holders.
            models.Index(
                fields=["township", "id", "village", "name"],
                name="person_township_sorting",
            ),
            # Those verified complete, of whom 批量制卡 lists the 待制卡: a township's part of
            # them, not all its persons, is joined to their comparison class and cards.
            models.Index(
                fields=["township", "village", "id", "vital_status", "group_name", "name"],
                condition=Q(verification_status="ready"),
                name="person_verified_ready",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="person_id_number_18_chars", condition=Q(id_number__length=18)
            ),
            models.CheckConstraint(
                name="person_death_date_only_if_deceased",
                condition=Q(vital_status=VitalStatus.DECEASED, death_date__isnull=False)
                | (~Q(vital_status=VitalStatus.DECEASED) & Q(death_date__isnull=True)),
            ),
        ]

    def __str__(self) -> str:
        from .id_numbers import mask_id_number

        return f"{self.name}（{mask_id_number(self.id_number)}）"

    def save(self, *args, **kwargs) -> None:
        """Saves with ``missing_bits`` and ``walk_key`` worked out again: a save naming some
        fields also writes those of the two that changed."""
        changed = person_derive(self)
        if kwargs.get("update_fields") is not None and changed:
            kwargs["update_fields"] = [*kwargs["update_fields"], *changed]
        super().save(*args, **kwargs)

    @property
    def masked_id_number(self) -> str:
        from .id_numbers import mask_id_number

        return mask_id_number(self.id_number)

    @property
    def masked_phone(self) -> str:
        from .id_numbers import mask_phone

        return mask_phone(self.phone)

    @property
    def is_deceased(self) -> bool:
        return self.vital_status == VitalStatus.DECEASED

    # The comparison result lives in PersonClass; these read it for templates, exports and
    # the API. Select ``classification`` with the persons to avoid a query per person.
    @property
    def card_class(self) -> str:
        """The comparison class, '' when the person has not been classified (未比对)."""
        classification = self._classification()
        return classification.card_class if classification else ""

    @property
    def card_failure_reason(self) -> str:
        classification = self._classification()
        return classification.failure_reason if classification else ""

    def get_card_class_display(self) -> str:
        classification = self._classification()
        return classification.get_card_class_display() if classification else ""

    def _classification(self) -> "PersonClass | None":
        try:
            return self.classification
        except PersonClass.DoesNotExist:
            return None


class HasBit(models.Lookup):
    """``missing_bits__has_bit=bits``: the column has any of ``bits`` set (both databases)."""

    lookup_name = "has_bit"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"({lhs} & {rhs}) <> 0", [*lhs_params, *rhs_params]


Person._meta.get_field("missing_bits").register_lookup(HasBit)


class PersonClass(models.Model):
    """A person's result of the latest comparison with the card system; no row is 未比对."""

    # Apart from the person row so that a match rewrites only these narrow rows: updating
    # roster_person for a million persons adds an entry to each of its indexes (about 44 s
    # and 3 GB of WAL). Written in bulk by the match inside the import's transaction, so no
    # database foreign key: a deferred one re-checks every row at commit (about 5 s per
    # million; see ListEntry). Deleting a person still cascades in Django.
    person = models.OneToOneField(
        Person,
        verbose_name="人员",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="classification",
        db_constraint=False,
    )
    card_class = models.CharField("比对结果", max_length=16, choices=CardClass.choices)
    failure_reason = models.CharField("制卡失败原因", max_length=200, blank=True)
    # The export the person was classified against; empty only for results set without
    # one (demo data, results carried over from before any export was imported).
    snapshot = models.ForeignKey(
        "SourceList",
        verbose_name="卡务系统导出",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    classified_at = models.DateTimeField("比对时间")

    class Meta:
        triggers = statement_audit(personal=())
        verbose_name = "比对结果"
        verbose_name_plural = "比对结果"

    def __str__(self) -> str:
        return self.get_card_class_display()


class CardDisagreement(models.Model):
    """A person the two witnesses disagree about (``roster.witnesses``' DISAGREEMENT: our
    ledger shows their card made before the latest export, which classes them otherwise).

    Kept by every write that recounts the person's figures (``roster.disagreements``), so
    the 两方记录不一致 list reads these rows instead of asking the rule of every person.
    No database key, as for the other rows written in bulk about a person.
    """

    person = models.OneToOneField(
        Person,
        verbose_name="人员",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="card_disagreement",
        db_constraint=False,
    )

    class Meta:
        verbose_name = "两方记录不一致人员"
        verbose_name_plural = "两方记录不一致人员"

    def __str__(self) -> str:
        return str(self.person_id)


class ClassificationInputs(models.Model):
    """What the last whole-county classification was worked out from (one row at most).

    A ``manage.py match`` whose inputs are unchanged has nothing to write and skips the
    comparison; see roster.imports.matching.classification_inputs.
    """

    digest = models.CharField("比对依据摘要", max_length=64)
    recorded_at = models.DateTimeField("记录时间")

    class Meta:
        verbose_name = "比对依据"
        verbose_name_plural = "比对依据"

    def __str__(self) -> str:
        return self.digest


class PersonCategory(models.Model):
    """A category (低保, 特困…) a person belongs to, and which list said so."""

    # Written in bulk by the list imports, like ListEntry: no database foreign key (a
    # deferred one re-checked each of a subsidy list's rows at commit), and no index of its
    # own, since the unique constraint below leads with the person.
    person = models.ForeignKey(
        Person,
        on_delete=models.CASCADE,
        related_name="categories",
        db_constraint=False,
        db_index=False,
    )
    category = models.CharField("人员类别", max_length=32, choices=Category.choices)
    source = models.CharField("来源", max_length=100, blank=True)

    class Meta:
        triggers = statement_audit()
        verbose_name = "人员类别"
        verbose_name_plural = "人员类别"
        constraints = [
            models.UniqueConstraint(fields=["person", "category"], name="person_category_once"),
        ]

    def __str__(self) -> str:
        return self.get_category_display()


class ListKind(models.TextChoices):
    UNISSUED = "unissued", "未制卡人员名单"
    SUBSIDY = "subsidy", "补贴对象名单"
    CARD_EXPORT = "card_export", "卡务系统导出"
    DEATHS = "deaths", "死亡人员名单"
    COLLECTION_12333 = "collection_12333", "12333采集结果"


class SourceList(models.Model):
    """One imported file: a province/prefecture batch, a subsidy list or a card-system export."""

    kind = models.CharField("名单类型", max_length=16, choices=ListKind.choices)
    source = models.CharField("来源/批次", max_length=100)
    file_name = models.CharField("文件名", max_length=255)
    file_sha256 = models.CharField("文件指纹", max_length=64)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="导入人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    imported_at = models.DateTimeField("导入时间", auto_now_add=True)
    job = models.ForeignKey(
        "dayao_sscard.Job",
        verbose_name="后台任务",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    counts = models.JSONField("统计", default=dict, blank=True)
    # A card-system export that covers only part of the county: only the persons it names
    # were re-compared with it; everyone else keeps the latest complete export.
    is_partial = models.BooleanField("部分导出", default=False)

    class Meta:
        verbose_name = "导入名单"
        verbose_name_plural = "导入名单"
        ordering = ["-imported_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "file_sha256"], name="same_file_imported_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.source}（{self.file_name}）"


class ListEntry(models.Model):
    """A person named on a list; a person on two lists has two entries."""

    # Written only by the import, in the transaction that creates the list and joins to
    # existing persons: a database foreign key would re-check each of a million rows at
    # commit (about 6 s per million per key on PostgreSQL). Deletion still cascades in Django.
    source_list = models.ForeignKey(
        SourceList,
        on_delete=models.CASCADE,
        related_name="entries",
        db_constraint=False,
        db_index=False,
    )
    # Indexed through the unique constraint below, which leads with the person: every
    # query reads entries by person, and each index costs the import 1.3 s per million.
    person = models.ForeignKey(
        Person,
        on_delete=models.CASCADE,
        related_name="list_entries",
        db_constraint=False,
        db_index=False,
    )
    sheet = models.CharField("工作表", max_length=100, blank=True)
    row_number = models.PositiveIntegerField("行号")
    category = models.CharField("人员类别（原文）", max_length=50, blank=True)
    amount = models.CharField("补贴金额", max_length=30, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(township="person__township", village="person__village")

    class Meta:
        triggers = statement_audit()
        verbose_name = "名单人员"
        verbose_name_plural = "名单人员"
        constraints = [
            models.UniqueConstraint(fields=["person", "source_list"], name="person_once_per_list"),
        ]

    def __str__(self) -> str:
        return f"{self.source_list.source} 第{self.row_number}行"


class InvalidListRow(models.Model):
    """A row that could not become a person (unusable ID, no township…), kept for the report."""

    source_list = models.ForeignKey(
        SourceList, on_delete=models.CASCADE, related_name="invalid_rows"
    )
    sheet = models.CharField("工作表", max_length=100, blank=True)
    row_number = models.PositiveIntegerField("行号")
    name = models.CharField("姓名", max_length=50, blank=True)
    raw_id_number = models.CharField("原始身份证号码", max_length=100, blank=True)
    reason = models.CharField("问题", max_length=200)
    id_unusable = models.BooleanField("身份证号码无法使用", default=True)
    township = models.ForeignKey(
        Township, verbose_name="乡镇", null=True, blank=True, on_delete=models.SET_NULL
    )

    objects = ScopedQuerySet.as_manager()
    scope = Scope(township="township")

    class Meta:
        verbose_name = "问题行"
        verbose_name_plural = "问题行"
        ordering = ["source_list", "sheet", "row_number"]

    def __str__(self) -> str:
        return f"第{self.row_number}行：{self.reason}"


class CardSystemRecord(models.Model):
    """One row of a provincial card-system export (a person may have several)."""

    # See ListEntry: bulk rows owned by their import. Read only a whole export at a time
    # (the match), so the one index is on the export: an export's keys arrive in order,
    # while an index on the ID number took 3.5 s more per million scattered inserts.
    snapshot = models.ForeignKey(
        SourceList,
        on_delete=models.CASCADE,
        related_name="card_records",
        db_constraint=False,
    )
    row_number = models.PositiveIntegerField("行号")
    # COLLATE "C" on PostgreSQL, like Person.id_number (migration 0012).
    id_number = models.CharField("社会保障号码", max_length=18)
    name = models.CharField("姓名", max_length=50, blank=True)
    card_number = models.CharField("社会保障卡卡号", max_length=30, blank=True)
    bank_name = models.CharField("发卡银行", max_length=100, blank=True)
    production_type = models.CharField("制卡类型", max_length=20, blank=True)
    production_status = models.CharField("制卡状态", max_length=20, blank=True)
    failure_reason = models.CharField("失败原因", max_length=200, blank=True)
    card_status = models.CharField("卡状态", max_length=20, blank=True)
    made_on = models.DateField("制卡日期", null=True, blank=True)

    class Meta:
        triggers = statement_audit()
        verbose_name = "卡务系统记录"
        verbose_name_plural = "卡务系统记录"

    def __str__(self) -> str:
        return f"{self.name} {self.production_status} {self.card_status}"


class ClassificationChange(models.Model):
    """A person's comparison class changed when a newer card-system export was matched."""

    # See ListEntry: written in bulk by the match, inside the import's transaction.
    snapshot = models.ForeignKey(
        SourceList, on_delete=models.CASCADE, related_name="changes", db_constraint=False
    )
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="class_changes", db_constraint=False
    )
    previous_class = models.CharField("原比对结果", max_length=16, choices=CardClass.choices)
    new_class = models.CharField("新比对结果", max_length=16, choices=CardClass.choices)
    new_failure_reason = models.CharField("失败原因", max_length=200, blank=True)
    changed_at = models.DateTimeField("比对时间", auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(township="person__township", village="person__village")

    class Meta:
        verbose_name = "比对结果变化"
        verbose_name_plural = "比对结果变化"
        ordering = ["-changed_at", "person__township__code"]

    def __str__(self) -> str:
        return f"{self.previous_class} → {self.new_class}"


class CollectionConflict(models.Model):
    """A 12333 result that disagrees with what the system holds; a clerk chooses."""

    class Resolution(models.TextChoices):
        PENDING = "pending", "待处理"
        KEPT = "kept", "保留系统值"
        TAKEN = "taken", "采用12333值"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="conflicts")
    source_list = models.ForeignKey(SourceList, on_delete=models.CASCADE, related_name="conflicts")
    row_number = models.PositiveIntegerField("行号")
    field = models.CharField("字段", max_length=32)
    current_value = models.CharField("系统值", max_length=200, blank=True)
    incoming_value = models.CharField("12333值", max_length=200)
    resolution = models.CharField(
        "处理结果", max_length=16, choices=Resolution.choices, default=Resolution.PENDING
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="处理人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolved_at = models.DateTimeField("处理时间", null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope = Scope(township="person__township", village="person__village")

    class Meta:
        verbose_name = "采集结果冲突"
        verbose_name_plural = "采集结果冲突"
        ordering = ["person__township__code", "person_id", "field"]

    def __str__(self) -> str:
        return f"{self.person_id} {self.field}"


class FigureCount(models.Model):
    """One figure (``roster.figures``) counted for one village: kept current in the same
    transaction as every change of a person, their lists, comparison result or cards, so
    a page reads a few hundred rows instead of counting a million persons.

    ``village_id`` 0 holds the persons of a township without a village. Plain integers,
    not foreign keys: a counter row outlives nothing and is rebuilt from the persons.
    """

    township_id = models.IntegerField("乡镇")
    village_id = models.IntegerField("村（社区）", default=0)
    key = models.CharField("指标", max_length=200)
    n = models.IntegerField("人数", default=0)

    class Meta:
        verbose_name = "进度指标计数"
        verbose_name_plural = "进度指标计数"
        constraints = [
            models.UniqueConstraint(
                fields=["township_id", "village_id", "key"], name="figure_count_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.township_id}/{self.village_id} {self.key}={self.n}"


class DailyFigures(models.Model):
    """Every figure of one village as it stood at the end of a day (进度快照)."""

    day = models.DateField("日期")
    township_id = models.IntegerField("乡镇")
    village_id = models.IntegerField("村（社区）", default=0)
    figures = models.JSONField("指标", default=dict)
    taken_at = models.DateTimeField("快照时间")

    class Meta:
        verbose_name = "每日进度快照"
        verbose_name_plural = "每日进度快照"
        constraints = [
            models.UniqueConstraint(
                fields=["day", "township_id", "village_id"], name="daily_figures_unique"
            )
        ]
        indexes = [models.Index(fields=["township_id", "day"], name="daily_figures_township")]

    def __str__(self) -> str:
        return f"{self.day} {self.township_id}/{self.village_id}"
