from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.accounts.views import admin_signin
from apps.core import health, views

api_v1 = [
    path("auth/", include("apps.accounts.api.urls")),
    path("", include("apps.flights.api.urls")),
    path("", include("apps.bookings.api.urls")),
    path("", include("apps.payments.api.urls")),
]

urlpatterns = [
    # The API first: it takes most requests, and each pattern before it costs every one of them a try.
    path("api/v1/", include(api_v1)),
    path("", include("apps.flights.urls")),
    path("", include("apps.accounts.urls")),
    path("", include("apps.bookings.urls")),
    path("", include("apps.payments.urls")),
    path("healthz", health.healthz, name="healthz"),
    # Browsers ask for /favicon.ico wherever a page names no icon (a PDF, an error from a proxy).
    path("favicon.ico", views.favicon, name="favicon"),
    path("readyz", health.readyz, name="readyz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    # Before the admin's own URLs: its login page, under the sign-in limit (apps/accounts/views.py).
    path(f"{settings.ADMIN_URL}login/", admin_signin, name="admin-signin"),
    # Before the admin's own URLs too: a flight's operations page (apps/bookings/flight_operations/).
    path(f"{settings.ADMIN_URL}flights/flight/", include("apps.bookings.flight_operations.urls")),
    # And the staff sales dashboard (apps/dashboard/).
    path(f"{settings.ADMIN_URL}sales-dashboard/", include("apps.dashboard.urls")),
    path(settings.ADMIN_URL, admin.site.urls),
    # The development mail viewer: answers only under DEBUG, to this machine (apps/core/devmail).
    path("dev/mail/", include("apps.core.devmail.urls")),
]

handler404 = "apps.core.views.page_not_found"
handler500 = "apps.core.views.server_error"
