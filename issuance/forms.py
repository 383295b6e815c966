from django import forms
from django.utils import timezone

from .models import Bank


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
    """One tick (已签收), 本人 or 代领 (name, ID number) per row; one ID check for the day."""

    identity_checked = forms.BooleanField(label="已核验每位签收人的身份证件", required=False)
    occurred_at = LocalDateTimeField(label="发放时间")

    def __init__(self, *args, rows, day, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        for row in rows:
            self.fields[f"signed_{row.pk}"] = forms.BooleanField(required=False)
            self.fields[f"who_{row.pk}"] = forms.ChoiceField(
                choices=[("self", "本人"), ("proxy", "代领")], initial="self", required=False
            )
            self.fields[f"proxy_name_{row.pk}"] = forms.CharField(max_length=50, required=False)
            self.fields[f"proxy_id_{row.pk}"] = forms.CharField(max_length=30, required=False)
        self.fields["occurred_at"].initial = lambda: _day_moment(day)

    def clean(self):
        data = super().clean()
        for row in self.rows:
            if data.get(f"signed_{row.pk}") and data.get(f"who_{row.pk}") == "proxy":
                name = row.card.person.name
                if not (data.get(f"proxy_name_{row.pk}") or "").strip():
                    self.add_error(
                        f"proxy_name_{row.pk}", f"第{row.position}行 {name}：请填写代领人姓名。"
                    )
                if not (data.get(f"proxy_id_{row.pk}") or "").strip():
                    self.add_error(
                        f"proxy_id_{row.pk}", f"第{row.position}行 {name}：请填写代领人身份证号码。"
                    )
        return data

    def bound_rows(self) -> list[dict]:
        """Each row with its four fields, for the template."""
        return [
            {
                "row": row,
                "signed": self[f"signed_{row.pk}"],
                "who": self[f"who_{row.pk}"],
                "proxy_name": self[f"proxy_name_{row.pk}"],
                "proxy_id": self[f"proxy_id_{row.pk}"],
            }
            for row in self.rows
        ]


def _day_moment(day) -> str:
    """The sheet's day: now if it is today, else noon of that day (recorded afterwards)."""
    if day == timezone.localdate():
        return local_now_minute()
    return f"{day:%Y-%m-%d}T12:00"
