from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from apps.notifications.exceptions import NotificationInFlight
from apps.notifications.models import Notification
from apps.notifications.services import notification_resend


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The outbox, read-only: what was sent to whom, what failed and why; "resend" queues again."""

    list_display = [
        "id",
        "kind",
        "recipient",
        "booking_reference",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "created_at",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["recipient", "booking__reference", "subject"]
    list_select_related = ["booking"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    actions = ["resend"]
    fields = [
        "kind",
        "booking",
        "recipient",
        "subject",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
        "created_at",
        "updated_at",
        "body_text",
        "html_preview",
    ]
    readonly_fields = fields

    @admin.display(description="Booking", ordering="booking__reference")
    def booking_reference(self, obj: Notification) -> str:
        return obj.booking.reference if obj.booking else "–"

    @admin.display(description="HTML body")
    def html_preview(self, obj: Notification) -> str:
        # srcdoc is escaped by format_html; sandbox keeps the email's markup away from the admin page.
        return format_html(
            '<iframe sandbox srcdoc="{}" '
            'style="width:100%;max-width:680px;height:640px;border:1px solid #ccc"></iframe>',
            obj.body_html,
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Resend selected emails", permissions=["change"])
    def resend(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        resent = 0
        for notification in queryset:
            try:
                notification_resend(notification=notification)
            except NotificationInFlight as error:
                self.message_user(request, error.detail, level=messages.WARNING)
            else:
                resent += 1
        if resent:
            self.message_user(request, f"{resent} email(s) queued to be sent again.", level=messages.SUCCESS)
