from django import forms
from django.contrib import admin
from django.forms.models import BaseInlineFormSet

from dayao_sscard.admin import AuditedAdmin

from .models import Bank, BankBranch, BranchTownship, Cadre


@admin.register(Bank)
class BankAdmin(AuditedAdmin):
    list_display = ("name", "short_name", "aliases")


class BranchTownshipForm(forms.ModelForm):
    class Meta:
        model = BranchTownship
        fields = ("township",)

    def _get_validation_exclusions(self):
        # The bank comes from the branch, not the form; it must still take part in the
        # one-branch-of-a-bank-per-township check, so the clash shows as a form error.
        exclusions = super()._get_validation_exclusions()
        exclusions.discard("bank")
        return exclusions


class BranchTownshipFormSet(BaseInlineFormSet):
    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        form.instance.bank_id = self.instance.bank_id
        return form


class BranchTownshipInline(admin.TabularInline):
    model = BranchTownship
    form = BranchTownshipForm
    formset = BranchTownshipFormSet
    extra = 1
    verbose_name = "服务乡镇"
    verbose_name_plural = "服务乡镇（该行在这些乡镇的社保卡由本网点负责）"


@admin.register(BankBranch)
class BankBranchAdmin(AuditedAdmin):
    list_display = ("name", "bank", "township", "served_townships", "address")
    list_filter = ("bank", "township")
    inlines = (BranchTownshipInline,)

    def get_readonly_fields(self, request, obj=None):
        # A branch's served townships are kept per bank; moving it to another bank would
        # carry them along unchecked.
        return ("bank",) if obj is not None else ()

    @admin.display(description="服务乡镇")
    def served_townships(self, branch: BankBranch) -> str:
        return "、".join(t.name for t in branch.townships.all()) or "—"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("townships")


@admin.register(Cadre)
class CadreAdmin(AuditedAdmin):
    """乡镇、村干部 the county marks: they may not keep residents' cards unless an approval
    names them with a reason (``issuance/proxies.py``)."""

    list_display = ("name", "township", "village", "post")
    list_filter = ("township",)
    search_fields = ("name", "id_number")
