from django import forms
from django.utils import timezone

from roster.id_numbers import IdNumberError, normalize_id_number

from .models import FAILED_OUTCOMES, AttemptMethod, AttemptOutcome, Bank, ProxyGround
from .proxies import DOCUMENT_MAX_BYTES, document_problem


class BatchCreateForm(forms.Form):
    """The batch's bank and, for the county, its township (none: a county-wide batch).

    The persons come from the checkboxes of the candidate list (``person``), or, with
    ``all_matching``, every 待制卡 person the filters select.
    """

    bank = forms.ModelChoiceField(
        label="合作银行", queryset=Bank.objects.order_by("name"), empty_label="请选择银行"
    )
    township = forms.ChoiceField(label="批次所属乡镇", required=False)
    village = forms.CharField(required=False, widget=forms.HiddenInput)
    all_matching = forms.BooleanField(label="加入全部符合条件的待制卡人员", required=False)

    def __init__(self, *args, townships, county_wide: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if county_wide:
            choices = [(t.code, t.name) for t in townships]
            self.fields["township"].choices = [("", "全县（不限乡镇）"), *choices]
        else:
            # A township's clerk makes batches of their own township only.
            del self.fields["township"]


class BatchResultForm(forms.Form):
    file = forms.FileField(
        label="银行回盘文件",
        help_text="Excel（.xlsx/.xls）或 CSV（UTF-8、GBK），需含身份证号码（或社会保障号码）、"
        "制卡结果（成功/失败）、社会保障卡卡号、失败原因等列。",
    )


class AttemptForm(forms.Form):
    """One second-issuance attempt as the clerk writes it down."""

    attempted_at = forms.DateTimeField(
        label="联系时间",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    method = forms.ChoiceField(label="联系方式", choices=AttemptMethod.choices)
    contacted = forms.CharField(
        label="联系对象", max_length=50, required=False, help_text="如：本人、其子张某、村小组长"
    )
    outcome = forms.ChoiceField(label="联系结果", choices=AttemptOutcome.choices)
    note = forms.CharField(
        label="原因/备注",
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="未能发放时必须写明原因",
    )

    def clean(self):
        data = super().clean()
        if data.get("outcome") in FAILED_OUTCOMES and not data.get("note", "").strip():
            self.add_error(
                "note",
                f"结果为“{AttemptOutcome(data['outcome']).label}”时必须写明原因。",
            )
        return data


class StockIssueForm(forms.Form):
    """Issue to the holder in person; the holder signs (the signee is the holder's name)."""

    method = forms.ChoiceField(label="发放方式")
    location = forms.CharField(label="发放地点", max_length=200)
    tracking_number = forms.CharField(
        label="邮寄单号（邮寄发放时填写）", max_length=60, required=False
    )
    identity_checked = forms.BooleanField(label="已核验持卡人本人身份证件", required=False)

    def __init__(self, *args, methods, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["method"].choices = methods


class RecoverForm(forms.Form):
    reason = forms.CharField(
        label="回收原因", max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    location = forms.CharField(label="保管地点", max_length=200, required=False)


class DormantForm(forms.Form):
    reason = forms.CharField(label="认定原因", max_length=500)


class ProxyRegisterForm(forms.Form):
    """代管（代领）审批 as registered: the holder (by ID number unless the page names one),
    why, the document, the custodian and the period. The service checks the rules."""

    holder_id_number = forms.CharField(
        label="持卡人身份证号码", max_length=30, help_text="输入完整的18位身份证号码"
    )
    ground = forms.ChoiceField(label="代管依据", choices=ProxyGround.choices)
    requested_by_name = forms.CharField(label="申请人", max_length=50)
    request_reason = forms.CharField(
        label="申请理由", max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    document = forms.FileField(
        label="书面委托书或监护证明",
        help_text="PDF、JPG 或 PNG，不超过10MB；请上传签字（按手印）的委托书或监护关系证明。",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )
    custodian_name = forms.CharField(label="代管人姓名", max_length=50)
    custodian_id_number = forms.CharField(label="代管人身份证号码", max_length=30)
    custodian_relationship = forms.CharField(
        label="与持卡人关系", max_length=50, help_text="如：父母（监护人）、子女、配偶"
    )
    custodian_is_cadre = forms.BooleanField(label="代管人是乡镇或村干部", required=False)
    cadre_reason = forms.CharField(
        label="由干部代管的理由",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    valid_from = forms.DateField(
        label="有效期起", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    valid_until = forms.DateField(
        label="有效期止", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args, holder=None, **kwargs):
        super().__init__(*args, **kwargs)
        if holder is not None:
            # The page was opened from the person's page: the holder is known.
            del self.fields["holder_id_number"]

    def clean_holder_id_number(self) -> str:
        return _id_number(self.cleaned_data["holder_id_number"], "持卡人身份证号码")

    def clean_custodian_id_number(self) -> str:
        return _id_number(self.cleaned_data["custodian_id_number"], "代管人身份证号码")

    def clean_document(self) -> bytes:
        upload = self.cleaned_data["document"]
        if upload.size > DOCUMENT_MAX_BYTES:
            raise forms.ValidationError("证明材料文件超过10MB，请压缩后重新上传。")
        data = upload.read()
        problem, _ = document_problem(data)
        if problem:
            raise forms.ValidationError(problem)
        self.document_name = upload.name
        return data


class ProxyRevokeForm(forms.Form):
    reason = forms.CharField(label="撤销原因", max_length=500)


class ProxyIssueForm(forms.Form):
    location = forms.CharField(label="发放地点", max_length=200)
    identity_checked = forms.BooleanField(
        label="已核验代领人的身份证件（与审批登记的代管人一致）", required=False
    )
    note = forms.CharField(label="备注", max_length=500, required=False)


def _id_number(raw: str, label: str) -> str:
    try:
        return normalize_id_number(raw)
    except IdNumberError as exc:
        raise forms.ValidationError(f"{label}{exc.reason}。") from None


# ---- 发放 and 集中发放 ---------------------------------------------------------------------

LOCAL_MINUTE = "%Y-%m-%dT%H:%M"


def local_now_minute() -> str:
    return timezone.localtime().strftime(LOCAL_MINUTE)


class LocalDateTimeField(forms.DateTimeField):
    """A date and time as the county's clock shows it (``<input type="datetime-local">``)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_MINUTE)

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", [LOCAL_MINUTE, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"])
        kwargs.setdefault(
            "error_messages",
            {"required": "请填写发放时间。", "invalid": "发放时间格式不对，应为 年-月-日 时:分。"},
        )
        super().__init__(**kwargs)


class CardIssueForm(forms.Form):
    """发放 on the card page. The ledger's own checks (signee, ID document, state, proxy
    approval) are left to it, so each refusal is said once, in its words."""

    method = forms.ChoiceField(
        label="发放方式",
        error_messages={"required": "请选择发放方式。", "invalid_choice": "请选择发放方式。"},
    )
    place = forms.CharField(
        label="发放地点", max_length=200, error_messages={"required": "请填写发放地点。"}
    )
    signee = forms.CharField(label="签收人", max_length=50, required=False)
    proxy_name = forms.CharField(label="代领人姓名", max_length=50, required=False)
    proxy_id_number = forms.CharField(label="代领人身份证号码", max_length=30, required=False)
    tracking_number = forms.CharField(label="邮寄单号", max_length=60, required=False)
    identity_checked = forms.BooleanField(label="已核验身份证件", required=False)
    occurred_at = LocalDateTimeField(label="发放时间")
    note = forms.CharField(label="备注", max_length=200, required=False)

    def __init__(self, *args, methods: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["method"].choices = list(methods.items())
        self.fields["occurred_at"].initial = local_now_minute


class SignOffCreateForm(forms.Form):
    village = forms.TypedChoiceField(
        label="村（社区）",
        coerce=int,
        error_messages={"required": "请选择村（社区）。", "invalid_choice": "请选择村（社区）。"},
    )
    day = forms.DateField(
        label="发放日期",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": "请填写发放日期。", "invalid": "发放日期格式不对。"},
    )
    place = forms.CharField(
        label="发放地点", max_length=200, error_messages={"required": "请填写发放地点。"}
    )

    def __init__(self, *args, villages, waiting: dict[int, int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].choices = [("", "请选择")] + [
            (v.pk, f"{v.township.name} {v.name}（待发放 {waiting.get(v.pk, 0)} 张）")
            for v in villages
        ]
        self.fields["day"].initial = timezone.localdate


class SignOffRecordForm(forms.Form):
    """One tick (已签收), 本人 or 代领 per row; one ID check for the day.

    A 代领 row names its proxy by one of the holder's approvals valid that day (offered as a
    choice, the first one preselected; its full ID number never leaves the server) or, with
    “其他代领人”, by name and ID number typed in — which the ledger then checks.
    """

    identity_checked = forms.BooleanField(label="已核验每位签收人的身份证件", required=False)
    occurred_at = LocalDateTimeField(label="发放时间")

    def __init__(self, *args, rows, day, approvals=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        self.approvals = {row.pk: (approvals or {}).get(row.card.person_id, []) for row in rows}
        for row in rows:
            self.fields[f"signed_{row.pk}"] = forms.BooleanField(required=False)
            self.fields[f"who_{row.pk}"] = forms.ChoiceField(
                choices=[("self", "本人"), ("proxy", "代领")], initial="self", required=False
            )
            if offered := self.approvals[row.pk]:
                self.fields[f"approval_{row.pk}"] = forms.TypedChoiceField(
                    choices=[(a.pk, approval_label(a)) for a in offered]
                    + [("", "其他代领人（手工填写）")],
                    coerce=int,
                    empty_value=None,
                    initial=offered[0].pk,
                    required=False,
                    error_messages={
                        "invalid_choice": f"第{row.position}行 {row.card.person.name}："
                        "所选代管审批已不在有效审批中，请重新选择。"
                    },
                )
            self.fields[f"proxy_name_{row.pk}"] = forms.CharField(max_length=50, required=False)
            self.fields[f"proxy_id_{row.pk}"] = forms.CharField(max_length=30, required=False)
        self.fields["occurred_at"].initial = lambda: _day_moment(day)

    def clean(self):
        data = super().clean()
        for row in self.rows:
            name = row.card.person.name
            by_proxy = data.get(f"who_{row.pk}") == "proxy"
            if by_proxy and not data.get(f"signed_{row.pk}"):
                # Else the card would silently stay in stock though a proxy was named.
                self.add_error(
                    None,
                    f"第{row.position}行 {name}：选择了代领，但未勾选“已签收”；"
                    "代领人已签收的请勾选，未领取的请把签收方式改回“本人”。",
                )
                continue
            if not (by_proxy and data.get(f"signed_{row.pk}")):
                continue
            if (pk := data.get(f"approval_{row.pk}")) is not None:
                self._proxy_from_approval(row, data, pk)
                continue
            if not (data.get(f"proxy_name_{row.pk}") or "").strip():
                self.add_error(
                    f"proxy_name_{row.pk}", f"第{row.position}行 {name}：请填写代领人姓名。"
                )
            if not (data.get(f"proxy_id_{row.pk}") or "").strip():
                self.add_error(
                    f"proxy_id_{row.pk}", f"第{row.position}行 {name}：请填写代领人身份证号码。"
                )
        return data

    def _proxy_from_approval(self, row, data, pk: int) -> None:
        approval = next(a for a in self.approvals[row.pk] if a.pk == pk)
        typed = "".join((data.get(f"proxy_name_{row.pk}") or "").split())
        typed_id = "".join((data.get(f"proxy_id_{row.pk}") or "").split()).upper()
        if (typed and typed != "".join(approval.custodian_name.split())) or (
            typed_id and typed_id != approval.custodian_id_number
        ):
            # Two different proxies on one row: which one signed is not for us to guess.
            self.add_error(
                f"proxy_name_{row.pk}",
                f"第{row.position}行 {row.card.person.name}：已选择审批的代领人"
                f"{approval.custodian_name}，又填写了另一位代领人{typed}；"
                "请只选其一（其他代领人请选择“其他代领人（手工填写）”）。",
            )
            return
        data[f"proxy_name_{row.pk}"] = approval.custodian_name
        data[f"proxy_id_{row.pk}"] = approval.custodian_id_number

    def bound_rows(self) -> list[dict]:
        """Each row with its fields, for the template."""
        return [
            {
                "row": row,
                "signed": self[f"signed_{row.pk}"],
                "who": self[f"who_{row.pk}"],
                "approval": self[f"approval_{row.pk}"] if self.approvals[row.pk] else None,
                "proxy_name": self[f"proxy_name_{row.pk}"],
                "proxy_id": self[f"proxy_id_{row.pk}"],
            }
            for row in self.rows
        ]


def approval_label(approval) -> str:
    """An approval as a clerk picks it: the custodian, relationship, masked ID number."""
    return (
        f"{approval.custodian_name}（{approval.custodian_relationship}，"
        f"{approval.masked_custodian_id_number}）"
    )


def _day_moment(day) -> str:
    """The sheet's day: now if it is today, else noon of that day (recorded afterwards)."""
    if day == timezone.localdate():
        return local_now_minute()
    return f"{day:%Y-%m-%d}T12:00"


class HandoverCreateForm(forms.Form):
    """The receiving unit, both responsible persons, the place; the cards come from the
    textarea (scanned or typed, one number a line) and the ticked rows of the list
    (``card``), or with ``all_matching`` every card the list's filters select."""

    receiver = forms.ChoiceField(label="接收方")
    sender_person = forms.CharField(label="交出方责任人", max_length=50)
    receiver_person = forms.CharField(label="接收方责任人", max_length=50)
    location = forms.CharField(
        label="保管地点",
        max_length=200,
        help_text="接收方存放这批卡的地点，如“金碧镇社保中心档案室”。",
    )
    card_numbers = forms.CharField(
        label="社保卡卡号（扫描或输入，每行一个）",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    note = forms.CharField(label="备注", max_length=500, required=False)
    all_matching = forms.BooleanField(
        label="交接下方列表筛选出的全部卡（不限本页）", required=False
    )

    def __init__(self, *args, receivers, **kwargs):
        super().__init__(*args, **kwargs)
        groups: dict[str, list] = {}
        for unit in receivers:
            groups.setdefault(unit.group_label, []).append((unit.key, unit.name))
        self.fields["receiver"].choices = [("", "请选择接收方"), *groups.items()]


class HandoverSheetForm(forms.Form):
    file = forms.FileField(label="签字交接单扫描件", help_text="PDF、JPG 或 PNG，不超过20MB。")
