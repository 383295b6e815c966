from django import forms

from .models import FAILED_OUTCOMES, AttemptMethod, AttemptOutcome, Bank


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
