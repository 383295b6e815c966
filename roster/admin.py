from django.contrib import admin

from dayao_sscard.admin import AuditedAdmin

from .models import County, Township, Village
from .places import township_cache_clear


@admin.register(County)
class CountyAdmin(AuditedAdmin):
    list_display = ("code", "name", "prefecture", "province")


@admin.register(Township)
class TownshipAdmin(AuditedAdmin):
    list_display = ("code", "name", "short_name", "aliases")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        township_cache_clear()


@admin.register(Village)
class VillageAdmin(AuditedAdmin):
    list_display = ("name", "township", "code")
    list_filter = ("township",)
    search_fields = ("name",)
