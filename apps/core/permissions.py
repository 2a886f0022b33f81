"""Permission classes shared by every app's API."""

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView


class IsStaffOrReadOnly(BasePermission):
    """Anyone may read; only staff (`user.is_staff`) may write.

    An anonymous write is refused as 401 (DRF answers NotAuthenticated when no credentials were
    given), an authenticated customer's write as 403.
    """

    message = "Only airline staff may change the catalogue."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in SAFE_METHODS:
            return True
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff)
