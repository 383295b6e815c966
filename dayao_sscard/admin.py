from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group

from . import services, two_factor
from .audit import audit_record, changed_fields, snapshot
from .lockout import username_is_locked
from .models import Campaign, User


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

    def save_formset(self, request, form, formset, change):
        """Rows edited inline (a branch's townships) are audited one by one, as above."""
        befores = {
            f.instance.pk: snapshot(type(f.instance).objects.get(pk=f.instance.pk))
            for f in formset.forms
            if f.instance.pk and f.has_changed()
        }
        removed = [
            (f.instance, snapshot(f.instance)) for f in formset.deleted_forms if f.instance.pk
        ]
        super().save_formset(request, form, formset, change)
        for obj, before in removed:
            audit_record(
                actor=request.user,
                action=f"{obj._meta.label_lower}.deleted",
                obj=obj,
                before=before,
            )
        for obj in formset.new_objects + [o for o, _ in formset.changed_objects]:
            old, new = changed_fields(befores.get(obj.pk, {}), snapshot(obj))
            audit_record(
                actor=request.user,
                action=f"{obj._meta.label_lower}.{'updated' if obj.pk in befores else 'created'}",
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
        "login_state",
    )
    list_filter = ("role", "township", "is_active")
    actions = ("unlock_login", "reset_second_factor")
    # What a user may do follows from the role (rules.py): no groups or per-user permissions.
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (
            "角色与管辖范围",
            {"fields": ("display_name", "role", "township", "village", "bank_branch")},
        ),
        ("账号状态", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("登录记录", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        *UserAdmin.add_fieldsets,
        (
            "角色与管辖范围",
            {"fields": ("display_name", "role", "township", "village", "bank_branch")},
        ),
    )

    @admin.display(description="登录")
    def login_state(self, user: User) -> str:
        states = []
        if username_is_locked(user.username):
            states.append("已锁定")
        if two_factor.required_for(user):
            has_device = two_factor.confirmed_device(user) is not None
            states.append("已绑定验证器" if has_device else "未绑定验证器")
        return "，".join(states) or "正常"

    @admin.action(description="解除所选账号的登录锁定", permissions=["change"])
    def unlock_login(self, request, queryset):
        for user in queryset:
            services.login_unlock(username=user.username, acting_user=request.user)
        self.message_user(request, f"已解除{queryset.count()}个账号的登录锁定。", messages.SUCCESS)

    @admin.action(description="重置所选账号的手机验证器（手机丢失或更换）", permissions=["change"])
    def reset_second_factor(self, request, queryset):
        for user in queryset:
            services.otp_reset(user=user, acting_user=request.user)
        self.message_user(
            request,
            f"已重置{queryset.count()}个账号的手机验证器：下次登录时重新扫码绑定。",
            messages.SUCCESS,
        )


@admin.register(Campaign)
class CampaignAdmin(AuditedAdmin):
    list_display = (
        "name",
        "starts_on",
        "compare_deadline",
        "activate_deadline",
        "custody_risk_days",
        "is_active",
    )
    # Each stage's deadline beside its target: the dashboards expect every township to
    # reach the target by the deadline at an even pace (docs/PROGRESS.md).
    fieldsets = (
        (None, {"fields": ("name", "document_number", "starts_on", "is_active")}),
        *(
            (label, {"fields": ((f"{code}_deadline", f"{code}_target"),)})
            for code, label in Campaign.STAGES
        ),
        ("代管风险", {"fields": ("custody_risk_days",)}),
    )


# The audit log and the background jobs are read on their own pages (/audit/, /jobs/),
# which say what happened in words; the admin would show action codes, module paths,
# JSON and file paths. Permissions follow the role (rules.py): groups have no use.
admin.site.unregister(Group)
