from django.contrib import admin
from django.http import HttpRequest

from apps.core.models import IdempotencyKey


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    """Read-only: keys are written by the idempotency layer only (SPEC §8)."""

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
