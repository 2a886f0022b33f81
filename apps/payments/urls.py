from django.urls import path

from apps.payments import views

app_name = "payments"

urlpatterns = [
    path("bookings/<str:reference>/pay/", views.booking_pay, name="pay"),
]
