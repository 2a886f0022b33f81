from django.contrib import admin
from django.urls import path

from apps.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", admin.site.admin_view(views.sales_dashboard), name="sales"),
]
