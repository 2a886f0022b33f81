from django.contrib import admin
from django.http import HttpRequest

from apps.core.models import AuditEvent, IdempotencyKey


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    """Read-only: keys are written by the idempotency layer only."""

    list_display = ["key", "owner", "method", "route", "state", "response_status", "created_at"]
    list_filter = ["state", "method"]
    search_fields = ["key", "owner__email", "route"]
    list_select_related = ["owner"]
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in IdempotencyKey._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: IdempotencyKey | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: IdempotencyKey | None = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only for everyone, superusers included: the trail is written by services only."""

    list_display = ["created_at", "action", "subject_type", "subject_ref", "actor", "request_id"]
    list_filter = ["action", "subject_type"]
    # Exact matches use the indexes; a payment's events are found by their booking's reference too.
    search_fields = ["=subject_ref", "=request_id", "=detail__booking_reference"]
    list_select_related = ["actor"]
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in AuditEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False
