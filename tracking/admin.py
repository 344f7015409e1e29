from django.contrib import admin

from tracking.models import Upload, UploadEvent


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = ("id", "organization", "kind", "exercise", "status", "progress", "created_at")
    list_filter = ("status", "kind", "organization")
    readonly_fields = ("id", "created_at", "started_at", "finished_at", "summary", "stats")


@admin.register(UploadEvent)
class UploadEventAdmin(admin.ModelAdmin):
    list_display = ("upload", "seq", "type")
    list_filter = ("type",)
