from __future__ import annotations

from django.contrib import admin

from audit.models import AuditEntry
from core.admin import ReadOnlyAdmin


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "seq",
        "created_at",
        "event",
        "actor",
        "client_address",
        "object_type",
        "object_id",
    ]
    list_filter = ["event"]
    search_fields = ["actor", "object_id", "client_address"]
