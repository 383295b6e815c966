from django import forms

from dayao_sscard.widgets import PlainSelect

from .figures import FIGURE_LABELS
from .models import CardClass, Category, ListKind, Person, UnreachableReason, VitalStatus
from .selectors import NO_VILLAGE
from .validators import normalize_phone, phone_problem
from .verification import ELEMENT_FIELDS, NINE_ELEMENTS, PHOTO_MAX_BYTES, Problem, photo_problem
from .witnesses import DISAGREEMENT, DISAGREEMENT_LABEL, UNCLASSIFIED


class PersonFilterForm(forms.Form):
    q = forms.CharField(label="姓名/身份证号/村", required=False)
    township = forms.ChoiceField(label="乡镇", required=False, widget=PlainSelect)
    village = forms.ChoiceField(label="村（社区）", required=False, widget=PlainSelect)
    card_class = forms.ChoiceField(
        label="比对结果",
        required=False,
        widget=PlainSelect,
        choices=[
            ("", "全部"),
            *CardClass.choices,
            (DISAGREEMENT, DISAGREEMENT_LABEL),
            (UNCLASSIFIED, "未比对"),
        ],
    )
    vital_status = forms.ChoiceField(
        label="生存状态",
        required=False,
        widget=PlainSelect,
        choices=[("", "全部"), *VitalStatus.choices],
    )
    category = forms.ChoiceField(
        label="人员类别",
        required=False,
        widget=PlainSelect,
        choices=[("", "全部"), *Category.choices],
    )
    on_list = forms.ChoiceField(
        label="所在名单",
        required=False,
        widget=PlainSelect,
        choices=[("", "全部"), *((k, v) for k, v in ListKind.choices if k != ListKind.CARD_EXPORT)],
    )
    project = forms.CharField(label="补贴项目", required=False, widget=forms.HiddenInput)
    without_card = forms.BooleanField(label="仅未持卡", required=False)
    # The persons behind one number of the supervision dashboards (roster.figures).
    figure = forms.ChoiceField(
        label="进度数字",
        required=False,
        widget=PlainSelect,
        choices=[("", "全部"), *FIGURE_LABELS.items()],
        error_messages={
            "invalid_choice": "没有名为“%(value)s”的进度数字，未列出任何人员："
            "请从进度督导页面上的数字进入，或在“进度数字”中重新选择。"
        },
    )

    MEMBERSHIP_FIELDS = ("category", "on_list", "project")

    def __init__(self, *args, townships, villages, with_membership: bool = True, **kwargs):
        """``villages``: (id, label) pairs, as ``roster.selectors.village_options`` gives."""
        super().__init__(*args, **kwargs)
        if not with_membership:
            for name in self.MEMBERSHIP_FIELDS:
                del self.fields[name]
        self.fields["township"].choices = [("", "全部")] + [(t.code, t.name) for t in townships]
        self.fields["village"].choices = [
            ("", "全部"),
            *villages,
            (NO_VILLAGE, "未填村（社区）"),
        ]


class PersonContactForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = Person
        fields = ["phone", "address", "occupation", "group_name"]

    def clean_phone(self) -> str:
        phone = normalize_phone(self.cleaned_data.get("phone", ""))
        if phone:
            problem = phone_problem(phone)
            if problem:
                raise forms.ValidationError(problem)
        return phone


class ListImportForm(forms.Form):
    kind = forms.ChoiceField(label="名单类型", choices=ListKind.choices)
    source = forms.CharField(
        label="来源/批次",
        max_length=100,
        required=False,
        help_text="如“省第一批”“州第二批”“耕地地力保护补贴”“民政火化信息”；卡务系统导出、12333采集结果可不填",
    )
    file = forms.FileField(label="文件", help_text="支持 .xlsx、.xls、.csv（UTF-8 或 GBK 编码）")

    MAX_BYTES = 200 * 1024 * 1024

    def clean_file(self):
        upload = self.cleaned_data["file"]
        suffix = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
        if suffix not in ("xlsx", "xlsm", "xls", "csv", "txt"):
            raise forms.ValidationError("只支持 .xlsx、.xls、.csv 文件。")
        if upload.size == 0:
            raise forms.ValidationError("文件是空的。")
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError("文件超过 200MB，请拆分后再导入。")
        return upload

    def __init__(self, *args, kinds: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if kinds is not None:
            self.fields["kind"].choices = [(k, v) for k, v in ListKind.choices if k in kinds]

    def clean(self):
        data = super().clean()
        if data.get("kind") in (ListKind.UNISSUED, ListKind.SUBSIDY) and not data.get("source"):
            self.add_error("source", "请填写批次或补贴项目名称。")
        if data.get("kind") == ListKind.DEATHS and not data.get("source"):
            self.add_error("source", "请填写死亡信息来源，如“民政火化信息”“公安户籍注销”。")
        return data


class PersonVerifyForm(forms.ModelForm):
    """The nine elements, photo and reachability, as a collector fills them in at the door."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    photo_upload = forms.FileField(
        label="拍照或选择照片",
        required=False,
        widget=forms.FileInput(
            attrs={
                "accept": "image/jpeg,image/png",
                "capture": "environment",
                "data-preview": "photo-preview",
            }
        ),
        help_text="竖版、正面免冠、白色或浅色背景",
    )
    unreachable_reason = forms.ChoiceField(
        label="无法联系",
        required=False,
        choices=[("", "—— 能联系到本人 ——"), *UnreachableReason.choices],
    )
    unreachable_note = forms.CharField(label="情况说明", required=False, max_length=200)

    class Meta:
        model = Person
        fields = list(ELEMENT_FIELDS)
        # Sized to what they hold: a whole address shows, a phone number is not a wide box.
        widgets = {
            "name": forms.TextInput(attrs={"size": 10, "autocomplete": "off"}),
            "nationality": forms.TextInput(attrs={"size": 10}),
            "occupation": forms.TextInput(attrs={"size": 16}),
            "address": forms.Textarea(attrs={"rows": 2, "cols": 40, "class": "wide"}),
            "id_valid_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "id_valid_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "phone": forms.TextInput(
                attrs={"inputmode": "tel", "autocomplete": "off", "size": 13, "maxlength": 20}
            ),
        }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def elements(self, problems: list[Problem]) -> list[dict]:
        """The nine elements in order, each with its fields and what is still wrong with it."""
        rows = []
        for number, (key, label, fields, problem_keys) in enumerate(NINE_ELEMENTS, start=1):
            bound = [self[name] for name in fields]
            messages = [p.message for p in problems if p.field in problem_keys]
            rows.append(
                {
                    "number": number,
                    "key": key,
                    "label": label,
                    "fields": bound,
                    "problems": messages,
                    "has_errors": any(field.errors for field in bound),
                }
            )
        return rows

    def clean_address(self) -> str:
        return " ".join(self.cleaned_data.get("address", "").split())

    def clean_phone(self) -> str:
        phone = normalize_phone(self.cleaned_data.get("phone", ""))
        if phone and phone_problem(phone):
            raise forms.ValidationError(phone_problem(phone))
        return phone

    def clean_photo_upload(self) -> bytes | None:
        upload = self.cleaned_data.get("photo_upload")
        if not upload:
            return None
        if upload.size > PHOTO_MAX_BYTES:
            raise forms.ValidationError("照片文件超过10MB，请压缩后重新上传。")
        data = upload.read()
        problem, _ = photo_problem(data)
        if problem:
            raise forms.ValidationError(problem)
        return data

    def clean(self):
        data = super().clean()
        if data.get("unreachable_reason") == UnreachableReason.OTHER and not data.get(
            "unreachable_note"
        ):
            self.add_error("unreachable_note", "选择“其他”时请说明情况。")
        return data


class DeceasedForm(forms.Form):
    death_date = forms.DateField(label="死亡日期", widget=forms.DateInput(attrs={"type": "date"}))
    source = forms.CharField(
        label="信息来源", max_length=100, help_text="如：村委会报告、民政火化信息、公安户籍注销"
    )
    note = forms.CharField(
        label="证明材料说明",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class UndoDeceasedForm(forms.Form):
    reason = forms.CharField(
        label="撤销原因", max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
