from django.contrib import admin
from django.db import models

from accounts.models import (
    ApiToken,
    Invitation,
    Membership,
    MonthlyUsage,
    Organization,
    UsageRecord,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "plan", "custom_monthly_calls", "created_at")
    list_filter = ("plan",)
    search_fields = ("name",)
    inlines = [MembershipInline]
    # The session.completed endpoint: https unless typed otherwise (Django 6's default).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organization", "role", "created_at")
    list_filter = ("role",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "name", "organization", "created_at", "last_used_at", "revoked_at")
    list_filter = ("organization",)
    # The digest is never shown or edited: tokens are created by the service, shown once.
    exclude = ("digest",)
    readonly_fields = ("prefix", "created_at", "last_used_at")

    def has_add_permission(self, request):
        return False


@admin.register(MonthlyUsage)
class MonthlyUsageAdmin(admin.ModelAdmin):
    list_display = ("organization", "month", "calls")
    list_filter = ("organization",)


@admin.register(UsageRecord)
class UsageRecordAdmin(admin.ModelAdmin):
    list_display = ("organization", "day", "kind", "exercise", "token", "calls", "seconds_tracked")
    list_filter = ("kind", "organization")


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = (
        "email",
        "organization",
        "role",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
    )
    list_filter = ("role", "organization")
    search_fields = ("email",)
    # Only the link secret's hash is stored; it cannot be turned back into a link.
    exclude = ("token_hash",)
    readonly_fields = ("created_at", "accepted_at", "accepted_by")

    def has_add_permission(self, request):
        # Invitations are created from the dashboard, which e-mails the one copy of the link.
        return False
