from django.urls import path

from apps.payments.api.views import BookingChangeApi, PaymentCreateApi, PaymentDetailApi

app_name = "payments-api"

urlpatterns = [
    path("payments", PaymentCreateApi.as_view(), name="create"),
    path("payments/<int:payment_id>", PaymentDetailApi.as_view(), name="detail"),
    # Under the booking, beside its cancel: changing a flight moves money, so payments answers it.
    path("bookings/<str:reference>/change", BookingChangeApi.as_view(), name="booking-change"),
]
