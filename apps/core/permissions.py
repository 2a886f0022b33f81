"""Staff rights, decided as the admin decides them, and the API's permission class built on them."""

from typing import Any

from rest_framework.permissions import SAFE_METHODS, DjangoModelPermissions
from rest_framework.request import Request
from rest_framework.views import APIView


def staff_may(user: Any, *permissions: str) -> bool:
    """Whether `user` holds every one of `permissions` ("app_label.codename") as airline staff.

    The admin's two checks: an active staff account (`AdminSite.has_permission`), holding the model
    permissions through its groups or its own grants (`ModelAdmin.has_*_permission`, `has_perm`). A
    superuser holds them all; `is_staff` alone holds none. Every service and selector that gives
    staff more than a customer asks this, so the API, the website and the admin agree.
    """
    return bool(user and user.is_active and user.is_staff and user.has_perms(permissions))


class ModelPermissionsOrReadOnly(DjangoModelPermissions):
    """Anyone may read; a write needs the model permission the admin asks for the same change.

    POST needs `add_<model>`, PUT and PATCH `change_<model>`, DELETE `delete_<model>` (DRF's
    `perms_map`), of the view's `permission_model`, held as `staff_may` says. An anonymous write is
    refused as 401 (DRF answers NotAuthenticated when no credentials were given), anyone else without
    the permission as 403.
    """

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in SAFE_METHODS:
            return True
        if not (request.user and request.user.is_authenticated):
            return False
        model = view.permission_model  # type: ignore[attr-defined]
        required = self.get_required_permissions(request.method, model)
        self.message = f"This needs the permission {', '.join(required)}."
        return staff_may(request.user, *required)
