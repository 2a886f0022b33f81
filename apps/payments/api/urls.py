from django.urls import path

from apps.payments.api.views import PaymentCreateApi, PaymentDetailApi

app_name = "payments-api"

urlpatterns = [
    path("payments", PaymentCreateApi.as_view(), name="create"),
    path("payments/<int:payment_id>", PaymentDetailApi.as_view(), name="detail"),
]
