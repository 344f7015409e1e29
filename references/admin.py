from django.contrib import admin

from references.models import ReferenceMovement


@admin.register(ReferenceMovement)
class ReferenceMovementAdmin(admin.ModelAdmin):
    list_display = ("name", "id", "organization", "status", "created_at")
    list_filter = ("status", "organization")
    search_fields = ("name",)
    readonly_fields = ("id", "created_at", "updated_at", "signature", "landmarks")
