from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from apps.bookings.admin import BookingAdmin
from apps.bookings.models import Booking
from apps.core.admin_display import amount, utc_moment
from apps.core.exceptions import ApplicationError
from apps.payments.models import GatewayCharge, Payment, Refund
from apps.payments.services import payment_refund

User = get_user_model()


class ReadOnlyAdmin(admin.ModelAdmin):
    """Money records are written by services only; the admin shows them."""

    def has_refund_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("payments.refund_payment")

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "booking_reference",
        "owner",
        "kind",
        "amount_shown",
        "status",
        "gateway_reference",
        "created",
    ]
    list_filter = ["status", "kind", "currency"]
    search_fields = ["=gateway_reference"]  # the search itself: get_search_results
    search_help_text = "Booking reference, owner's email, gateway reference or gateway key (exact)."
    # Joined to its booking and owner, the page's query may start from another table and sort every
    # payment; they come in a query each for the page's rows instead (as apps/bookings/admin.py does).
    list_select_related = ()
    ordering = ["-created_at", "-id"]
    show_full_result_count = False
    list_per_page = 50
    actions = ["refund_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Payment]:
        return super().get_queryset(request).prefetch_related("booking", "owner")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Payment], search_term: str
    ) -> tuple[QuerySet[Payment], bool]:
        # Exact values, each on its own index (the unique reference, email and gateway key); the
        # gateway reference is what staff copy from the gateway's dashboard.
        term = search_term.strip()
        if not term:
            return queryset, False
        condition = (
            Q(booking__in=Booking.objects.filter(reference=term.upper()).values("pk"))
            | Q(owner__in=User.objects.filter(email=term).values("pk"))
            | Q(gateway_idempotency_key=term)
            | Q(gateway_reference=term)
        )
        return queryset.filter(condition), False

    @admin.display(description="Booking", ordering="booking__reference")
    def booking_reference(self, payment: Payment) -> str:
        return payment.booking.reference

    @admin.display(description="Amount", ordering="amount")
    def amount_shown(self, payment: Payment) -> str:
        return amount(payment.amount, payment.currency)

    @admin.display(description="Created (UTC)", ordering="created_at")
    def created(self, payment: Payment) -> str:
        return utc_moment(payment.created_at)

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return [*super().get_readonly_fields(request, obj), "audit_trail"]

    @admin.display(description="Audit trail")
    def audit_trail(self, obj: Payment) -> str:
        query = urlencode({"subject_type__exact": "payment", "subject_ref": obj.pk})
        url = f"{reverse('admin:core_auditevent_changelist')}?{query}"
        return format_html('<a href="{}">Who did what to payment {}</a>', url, obj.pk)

    @admin.action(description="Refund the selected payments (cancels their bookings)", permissions=["refund"])
    def refund_selected(self, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
        refunded = 0
        for payment in queryset.select_related("booking"):
            try:
                payment_refund(payment=payment, actor=request.user)
            except ApplicationError as error:
                self.message_user(request, f"Payment {payment.pk}: {error.detail}", messages.ERROR)
                continue
            refunded += 1
        if refunded:
            self.message_user(request, f"{refunded} payment(s) refunded.", messages.SUCCESS)


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "payment",
        "kind",
        "status",
        "amount",
        "currency",
        "gateway_reference",
        "created_at",
    ]
    list_filter = ["kind", "status"]
    search_fields = ["=payment__booking__reference", "=gateway_reference"]
    list_select_related = ["payment"]
    show_full_result_count = False


@admin.register(GatewayCharge)
class GatewayChargeAdmin(ReadOnlyAdmin):
    """The simulated gateway's ledger, for development: what the outside world charged."""

    list_display = ["reference", "idempotency_key", "token", "amount", "currency", "status", "created_at"]
    list_filter = ["status", "token"]
    search_fields = ["reference", "idempotency_key"]


class BookingPaymentInline(admin.TabularInline):
    """A booking's payments on its admin page: its own, and each flight change's (kind "change"), with
    what was refunded of each; read-only, a link to each payment's page (and its refund action)."""

    model = Payment
    fk_name = "booking"
    extra = 0
    can_delete = False
    verbose_name_plural = "Payments (the booking's and its flight changes')"
    fields = ["payment", "kind", "amount_shown", "status", "refunded", "created"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Payment]:
        return super().get_queryset(request).prefetch_related("refunds").order_by("created_at", "id")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="Payment")
    def payment(self, payment: Payment) -> str:
        url = reverse("admin:payments_payment_change", args=[payment.pk])
        return format_html('<a href="{}">Payment {}</a>', url, payment.pk)

    @admin.display(description="Amount")
    def amount_shown(self, payment: Payment) -> str:
        return amount(payment.amount, payment.currency)

    @admin.display(description="Refunded")
    def refunded(self, payment: Payment) -> str:
        refunds = list(payment.refunds.all())
        if not refunds:
            return "–"
        return "; ".join(
            f"{amount(refund.amount, refund.currency)} ({refund.get_kind_display().lower()}"
            f"{', pending' if refund.status == Refund.Status.PENDING else ''})"
            for refund in refunds
        )

    @admin.display(description="Created (UTC)")
    def created(self, payment: Payment) -> str:
        return utc_moment(payment.created_at)


# Bookings must not import payments: the payments app adds its inline to the booking's page.
BookingAdmin.inlines = [*BookingAdmin.inlines, BookingPaymentInline]
