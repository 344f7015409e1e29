from django.contrib import admin

from accounts.models import ApiToken, Membership, MonthlyUsage, Organization, UsageRecord


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "plan", "custom_monthly_calls", "created_at")
    list_filter = ("plan",)
    search_fields = ("name",)
    inlines = [MembershipInline]


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
