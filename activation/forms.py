from datetime import date, datetime, time

from django import forms
from django.utils import timezone

from issuance.card_numbers import card_number_normalize

from .services import ECARD_CHANNELS


class CounterLookupForm(forms.Form):
    q = forms.CharField(
        label="身份证号码或社保卡卡号",
        max_length=40,
        error_messages={"required": "请输入或扫描身份证号码、社保卡卡号。"},
    )


class InstantCardForm(forms.Form):
    card_number = forms.CharField(
        label="新卡卡号",
        max_length=40,
        required=False,  # the service's checks say in Chinese what is wrong, once
    )

    def clean_card_number(self) -> str:
        return card_number_normalize(self.cleaned_data.get("card_number", ""))


class IssueForm(forms.Form):
    signee = forms.CharField(
        label="签收人", max_length=50, error_messages={"required": "请填写签收人。"}
    )
    # Not required here: the ledger refuses issuance without it, in its own words.
    identity_checked = forms.BooleanField(label="已核验签收人身份证件", required=False)
    note = forms.CharField(label="备注", max_length=200, required=False)


class ActivateForm(forms.Form):
    # Not required here: the ledger refuses a non-face-to-face activation on every path.
    face_to_face = forms.BooleanField(label="持卡人本人在场（面签）", required=False)
    identity_checked = forms.BooleanField(label="已核验本人身份证件", required=False)
    note = forms.CharField(label="备注", max_length=200, required=False)


class EcardForm(forms.Form):
    channel = forms.ChoiceField(
        label="签发渠道",
        choices=[(c, c) for c in ECARD_CHANNELS],
        initial=ECARD_CHANNELS[0],
        error_messages={"required": "请选择签发渠道。", "invalid_choice": "请选择签发渠道。"},
    )
    signed_on = forms.DateField(
        label="签发日期",
        widget=forms.DateInput(attrs={"type": "date", "id": "ecard-date"}, format="%Y-%m-%d"),
        error_messages={"required": "请填写签发日期。", "invalid": "签发日期格式不对。"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["signed_on"].initial = timezone.localdate

    def clean_signed_on(self) -> date:
        signed_on = self.cleaned_data["signed_on"]
        if signed_on > timezone.localdate():
            raise forms.ValidationError("签发日期不能晚于今天。")
        return signed_on

    def signed_at(self) -> datetime:
        """Today: now; an earlier day (recorded afterwards): noon of that day."""
        signed_on = self.cleaned_data["signed_on"]
        if signed_on == timezone.localdate():
            return timezone.now()
        return timezone.make_aware(datetime.combine(signed_on, time(12)))
