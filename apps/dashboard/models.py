from django.db import models


class SalesDashboard(models.Model):
    """No table: the holder of the right to see the sales dashboard.

    A Django permission belongs to a model; the dashboard reads other apps' tables and owns none, so
    this unmanaged model exists only to carry `dashboard.view_sales_dashboard`, granted to the staff
    group in apps/accounts/roles.py. Revenue is a right of its own, not seeing bookings or payments.
    """

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_sales_dashboard", "Can view the sales dashboard")]

    def __str__(self) -> str:
        return "Sales dashboard"
