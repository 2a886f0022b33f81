"""Who may act on a booking's pages: its signed-in owner (or staff who may see it), or a visitor who
proved they know it, without an account ("Manage booking": its reference and a passenger's last name,
or the signed link in its e-mails). The proof is kept in the visitor's session as a grant for that
booking; acting through a grant is acting for the booking's owner.
"""

import unicodedata
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse

from apps.accounts.models import User
from apps.bookings.exceptions import BookingNotFound
from apps.bookings.models import Booking
from apps.bookings.selectors import booking_get_by_reference, booking_get_for_user

GRANTS_SESSION_KEY = "managed_bookings"
MAX_GRANTS = 20  # the newest are kept
LINK_SALT = "apps.bookings.access.manage-link"
LINK_MAX_AGE_SECONDS = 400 * 24 * 3600  # a link in an e-mail works for as long as a booking can matter


def booking_for_visitor(request: HttpRequest, reference: str) -> tuple[Booking, User]:
    """The booking `reference` and who acts on it: the signed-in user when it is theirs to see, else
    its owner when this session holds a grant for it. Raises Http404 otherwise (nothing about whether
    the booking exists)."""
    if request.user.is_authenticated:
        try:
            return booking_get_for_user(reference=reference, user=request.user), request.user
        except BookingNotFound:
            pass
    if reference.strip().upper() in request.session.get(GRANTS_SESSION_KEY, []):
        booking = booking_get_by_reference(reference=reference)
        if booking is not None:
            return booking, booking.owner
    raise Http404("No such booking")


def booking_visitor_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A booking page for a signed-in user or a visitor holding a grant; anyone else is sent to sign in."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated and not request.session.get(GRANTS_SESSION_KEY):
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapped


def booking_find(*, reference: str, last_name: str) -> Booking | None:
    """The booking with this reference if one of its passengers has this last name (compared without
    case or accents), else None: a wrong reference and a wrong name are the same answer."""
    booking = Booking.objects.filter(reference=reference.strip().upper()).first()
    wanted = _name_key(last_name)
    if booking is None or not wanted:
        return None
    names = booking.passengers.values_list("last_name", flat=True)
    return booking if any(_name_key(name) == wanted for name in names) else None


def booking_access_grant(request: HttpRequest, booking: Booking) -> None:
    grants = [ref for ref in request.session.get(GRANTS_SESSION_KEY, []) if ref != booking.reference]
    request.session[GRANTS_SESSION_KEY] = [*grants, booking.reference][-MAX_GRANTS:]


def manage_link_token(booking: Booking) -> str:
    """The token of the signed link that opens `booking`'s page without an account (in its e-mails)."""
    return signing.dumps(booking.reference, salt=LINK_SALT, compress=True)


def manage_link_reference(token: str) -> str | None:
    """The booking reference a link's token was signed for, or None when it is forged or too old."""
    try:
        return signing.loads(token, salt=LINK_SALT, max_age=LINK_MAX_AGE_SECONDS)
    except signing.BadSignature:
        return None


def _name_key(name: str) -> str:
    """The name without case, accents (combining marks) or extra spaces: "Núñez" matches "NUNEZ"."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.casefold().split())
