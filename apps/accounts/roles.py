"""The "Airline staff" group and what it may do in the admin."""

from typing import Any

# Staff manage the catalogue and look after bookings; they never edit payments or keys.
STAFF_PERMISSIONS: dict[str, list[str]] = {
    "flights": [
        "view_city",
        "add_city",
        "change_city",
        "view_airport",
        "add_airport",
        "change_airport",
        "view_airplane",
        "add_airplane",
        "change_airplane",
        "view_cabinsection",
        "add_cabinsection",
        "change_cabinsection",
        "delete_cabinsection",
        "view_flight",
        "add_flight",
        "change_flight",
    ],
    "bookings": [
        "view_booking",
        "change_booking",
        "view_passenger",
        "view_seatassignment",
        "view_flightchange",
    ],
    "payments": ["view_payment", "refund_payment", "view_refund"],
    "dashboard": ["view_sales_dashboard"],
    "notifications": ["view_notification", "change_notification"],
    "core": ["view_idempotencykey", "view_auditevent"],
    "django_celery_beat": ["view_periodictask"],
}


def staff_group_grant_permissions(sender: Any = None, **kwargs: Any) -> None:
    """Idempotently give the staff group its permissions (those that exist yet)."""
    from django.contrib.auth.models import Group, Permission

    from apps.accounts.models import STAFF_GROUP_NAME

    group, _ = Group.objects.get_or_create(name=STAFF_GROUP_NAME)
    for app_label, codenames in STAFF_PERMISSIONS.items():
        permissions = Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        group.permissions.add(*permissions)
