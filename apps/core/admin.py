from django.contrib import admin
from django.http import HttpRequest

from apps.core.admin_display import utc_moment
from apps.core.models import AuditEvent, IdempotencyKey

# The staff admin's name (templates/admin/base_site.html shows it with the airline's icon).
admin.site.site_header = "Airline staff"
admin.site.site_title = "Airline staff"
admin.site.index_title = "Flights, bookings, payments and e-mails"
# The app list beside every page took a third of a 1366 px screen from the lists; the index page and
# the breadcrumbs lead everywhere it did.
admin.site.enable_nav_sidebar = False


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    """Read-only: keys are written by the idempotency layer only."""

    list_display = ["key", "owner", "method", "route", "state", "response_status", "created_at"]
    list_filter = ["state", "method"]
    search_fields = ["key", "owner__email", "route"]
    list_select_related = ["owner"]
    show_full_result_count = False
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

    list_display = ["created", "action", "subject_type", "subject_ref", "actor", "request_id"]
    list_filter = ["action", "subject_type"]
    # Exact matches use the indexes; a payment's events are found by their booking's reference too.
    search_fields = ["=subject_ref", "=request_id", "=detail__booking_reference"]
    search_help_text = "Booking reference, payment or flight id, or request id (exact)."
    list_select_related = ["actor"]
    ordering = ["-created_at", "-id"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    list_per_page = 50
    readonly_fields = [field.name for field in AuditEvent._meta.fields]

    @admin.display(description="When (UTC)", ordering="created_at")
    def created(self, event: AuditEvent) -> str:
        return utc_moment(event.created_at)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False
