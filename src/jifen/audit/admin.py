"""A read-only view of the audit log for the audit administrator."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from jifen.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """List and read entries; nobody adds, changes or deletes them here."""

    list_display = ("sequence", "occurred_local", "action", "actor_kind", "actor_id", "result")
    list_filter = ("result", "actor_kind")
    search_fields = ("action", "actor_id", "object_type", "object_id", "request_id")
    ordering = ("-sequence",)
    actions = None

    @admin.display(description=_("occurred at (+08:00)"), ordering="occurred_at")
    def occurred_local(self, entry: AuditEntry) -> str:
        return entry.occurred_at_local().isoformat()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
