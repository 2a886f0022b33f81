from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from apps.core.permissions import staff_may
from apps.dashboard.panels import sales_panels
from apps.dashboard.periods import DEFAULT_PERIOD_DAYS, PERIOD_CHOICES, Days, business_time_zone
from apps.dashboard.selectors import sales_figures_get

PERMISSION = "dashboard.view_sales_dashboard"


class PeriodForm(forms.Form):
    days = forms.TypedChoiceField(
        label="Period",
        choices=[(days, f"Last {days} days") for days in PERIOD_CHOICES],
        coerce=int,
        initial=DEFAULT_PERIOD_DAYS,
    )


def sales_dashboard(request: HttpRequest) -> HttpResponse:
    """The staff sales dashboard (GET ?days=7|30|90; anything else shows the default period).

    Wrapped in the admin's own view guard (apps/dashboard/urls.py): signed-out visitors and
    customers are sent to the admin's sign-in; staff without the permission are refused (403).
    """
    if not staff_may(request.user, PERMISSION):
        raise PermissionDenied(f"The sales dashboard needs the permission {PERMISSION}.")
    form = PeriodForm(request.GET or {"days": DEFAULT_PERIOD_DAYS})
    period = form.cleaned_data["days"] if form.is_valid() else DEFAULT_PERIOD_DAYS
    zone = business_time_zone()
    now = timezone.now()
    days = Days.ending_on(timezone.localtime(now, zone).date(), period, zone)
    figures = sales_figures_get(days=days, now=now)
    context = {
        **admin.site.each_context(request),
        "title": "Sales dashboard",
        "form": PeriodForm(initial={"days": period}),
        "days": days,
        "time_zone": str(zone),
        "panels": sales_panels(figures),
    }
    return render(request, "dashboard/sales.html", context)
