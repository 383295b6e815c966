from django import forms

from .models import CardClass, Category, Person, VitalStatus
from .validators import normalize_phone, phone_problem


class PersonFilterForm(forms.Form):
    q = forms.CharField(label="姓名/身份证号/村", required=False)
    township = forms.ChoiceField(label="乡镇", required=False)
    village = forms.ChoiceField(label="村（社区）", required=False)
    card_class = forms.ChoiceField(
        label="比对结果",
        required=False,
        choices=[("", "全部"), *CardClass.choices, ("unclassified", "未比对")],
    )
    vital_status = forms.ChoiceField(
        label="生存状态", required=False, choices=[("", "全部"), *VitalStatus.choices]
    )
    category = forms.ChoiceField(
        label="人员类别", required=False, choices=[("", "全部"), *Category.choices]
    )

    def __init__(self, *args, townships, villages, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["township"].choices = [("", "全部")] + [(t.code, t.name) for t in townships]
        self.fields["village"].choices = [("", "全部")] + [
            (str(v.pk), f"{v.township.short_name}·{v.name}") for v in villages
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
