from django.contrib import admin

from dayao_sscard.admin import AuditedAdmin

from .models import Bank, BankBranch


@admin.register(Bank)
class BankAdmin(AuditedAdmin):
    list_display = ("name", "short_name", "aliases")


@admin.register(BankBranch)
class BankBranchAdmin(AuditedAdmin):
    list_display = ("name", "bank", "township", "address")
    list_filter = ("bank", "township")
