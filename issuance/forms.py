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
