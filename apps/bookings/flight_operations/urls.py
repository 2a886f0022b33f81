"""Mounted under the admin's flight URLs (airline/urls.py), behind the admin's own sign-in check."""

from django.contrib import admin
from django.urls import path

from apps.bookings.flight_operations import views

app_name = "flight_operations"

urlpatterns = [
    path("<int:flight_id>/operations/", admin.site.admin_view(views.flight_operations_page), name="page"),
    path(
        "<int:flight_id>/operations/manifest.csv",
        admin.site.admin_view(views.flight_manifest_csv),
        name="manifest_csv",
    ),
    path(
        "<int:flight_id>/operations/cancel/", admin.site.admin_view(views.flight_cancel_page), name="cancel"
    ),
]
