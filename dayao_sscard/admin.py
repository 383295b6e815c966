from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .audit import audit_record, changed_fields, snapshot
from .models import AuditEvent, Campaign, Job, User


class AuditedAdmin(admin.ModelAdmin):
    """Reference data edited in the admin is audited like every other write."""

    def save_model(self, request, obj, form, change):
        before = snapshot(type(obj).objects.get(pk=obj.pk)) if change else {}
        super().save_model(request, obj, form, change)
        old, new = changed_fields(before, snapshot(obj))
        action = "updated" if change else "created"
        audit_record(
            actor=request.user,
            action=f"{obj._meta.label_lower}.{action}",
            obj=obj,
            before=old or None,
            after=new,
        )

    def delete_model(self, request, obj):
        audit_record(
            actor=request.user,
            action=f"{obj._meta.label_lower}.deleted",
            obj=obj,
            before=snapshot(obj),
        )
        super().delete_model(request, obj)

    def has_delete_permission(self, request, obj=None):
        # Bulk deletes would bypass delete_model and so the audit log.
        return super().has_delete_permission(request, obj) and obj is not None


@admin.register(User)
class StaffUserAdmin(UserAdmin, AuditedAdmin):
    list_display = (
        "username",
        "display_name",
        "role",
        "township",
        "village",
        "bank_branch",
        "is_active",
    )
    list_filter = ("role", "township", "is_active")
    fieldsets = (
        *UserAdmin.fieldsets,
        (
            "角色与管辖范围",
            {"fields": ("display_name", "role", "township", "village", "bank_branch")},
        ),
    )
    add_fieldsets = (
        *UserAdmin.add_fieldsets,
        (
            "角色与管辖范围",
            {"fields": ("display_name", "role", "township", "village", "bank_branch")},
        ),
    )


@admin.register(Campaign)
class CampaignAdmin(AuditedAdmin):
    list_display = ("name", "starts_on", "compare_deadline", "activate_deadline", "is_active")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_username", "action", "object_repr")
    list_filter = ("action",)
    search_fields = ("actor_username", "object_repr", "action")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "status", "started_by", "created_at", "finished_at")
    list_filter = ("kind", "status")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
