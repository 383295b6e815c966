from django import forms

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
