from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from apps.core.admin_display import utc_moment
from apps.core.email_preview import email_html_view
from apps.notifications.emails import RENDERED_AT_SEND, render_at_send
from apps.notifications.exceptions import NotificationInFlight
from apps.notifications.models import Notification
from apps.notifications.services import notification_resend


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The outbox, read-only: what was sent to whom, what failed and why; "resend" queues again."""

    list_display = ["created", "kind", "recipient", "booking_reference", "status", "attempts", "sent"]
    list_filter = ["status", "kind"]
    # Exact: the unique reference and the recipient (the traveller's address as staff are told it).
    search_fields = ["=booking__reference", "=recipient"]
    search_help_text = "Booking reference or recipient's address (exact)."
    list_select_related = ["booking"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    show_full_result_count = False
    list_per_page = 50
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

    @admin.display(description="Created (UTC)", ordering="created_at")
    def created(self, obj: Notification) -> str:
        return utc_moment(obj.created_at)

    @admin.display(description="Sent (UTC)", ordering="sent_at")
    def sent(self, obj: Notification) -> str:
        return utc_moment(obj.sent_at)

    @admin.display(description="HTML body")
    def html_preview(self, obj: Notification) -> str:
        # A frame of its own under its own policy (apps/core/email_preview.py); a srcdoc frame would
        # inherit the admin's policy, which refuses the e-mail's inline styles.
        if not obj.body_html and obj.kind not in RENDERED_AT_SEND:
            return "–"
        url = reverse("admin:notifications_notification_html", args=[obj.pk])
        return format_html(
            '<iframe class="airline-email-preview" title="The e-mail as its recipient sees it" '
            'sandbox src="{}"></iframe>',
            url,
        )

    def get_urls(self) -> list[URLPattern]:
        html = path(
            "<int:object_id>/html/",
            self.admin_site.admin_view(email_html_view(self.html_view)),
            name="notifications_notification_html",
        )
        return [html, *super().get_urls()]

    def html_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        notification = self.get_object(request, str(object_id))
        if notification is None:
            raise Http404("No such e-mail.")
        if not self.has_view_permission(request, notification):
            raise PermissionDenied
        html = notification.body_html
        if not html and notification.kind in RENDERED_AT_SEND and notification.booking_id:
            # Not sent yet, so not rendered yet: shown as the sender will render it (nothing is stored).
            html = render_at_send(notification).html
        if not html:
            raise Http404("This e-mail has no HTML part.")
        return HttpResponse(html, content_type="text/html; charset=utf-8")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Notification | None = None) -> bool:
        # An e-mail is a record of what was sent: its page has nothing to save. Resending (the list's
        # action) is what the change permission grants.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Notification | None = None) -> bool:
        return False  # the purge job removes old sent e-mails (apps/notifications/tasks.py)

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
