"""The audit log in the admin: read-only, filterable by event, actor, kind of object and date."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEntry
from core.admin import ReadOnlyAdmin


class ActorKindFilter(admin.SimpleListFilter):
    """Admins, the system and holders, by the actor's prefix (``admin:alice``)."""

    title = _("actor")
    parameter_name = "actor_kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("admin", _("administrators")),
            ("system", _("the system")),
            ("holder", _("certificate holders")),
        ]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[AuditEntry]
    ) -> QuerySet[AuditEntry]:
        if self.value() in {"admin", "system", "holder"}:
            return queryset.filter(actor__startswith=f"{self.value()}:")
        return queryset


class ObjectTypeFilter(admin.SimpleListFilter):
    title = _("object type")
    parameter_name = "object_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        types = (
            AuditEntry.objects.exclude(object_type="")
            .order_by("object_type")
            .values_list("object_type", flat=True)
            .distinct()
        )
        return [(name, name) for name in types]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[AuditEntry]
    ) -> QuerySet[AuditEntry]:
        return queryset.filter(object_type=self.value()) if self.value() else queryset


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
        "summary",
    ]
    list_filter = ("event", ActorKindFilter, ObjectTypeFilter, "created_at")
    search_fields = ["actor", "object_id", "client_address", "details__user_number"]
    date_hierarchy = "created_at"
    list_per_page = 50
    fields = (
        "seq",
        "created_at",
        "event",
        "actor",
        "client_address",
        "object_type",
        "object_id",
        "details_text",
        "prev_hash",
        "entry_hash",
    )
    readonly_fields = fields

    @admin.display(description=_("details"))
    def summary(self, entry: AuditEntry) -> str:
        text = ", ".join(f"{key}: {value}" for key, value in sorted(entry.details.items()))
        return text[:120] + ("…" if len(text) > 120 else "")

    @admin.display(description=_("details"))
    def details_text(self, entry: AuditEntry) -> str:
        return format_html(
            "<pre>{}</pre>", json.dumps(entry.details, indent=2, sort_keys=True, ensure_ascii=False)
        )
