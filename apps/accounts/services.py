import uuid
from datetime import datetime

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import datetime_from_epoch

from apps.accounts.events import PasswordResetRequested, password_reset_requested
from apps.accounts.exceptions import SessionRefused
from apps.accounts.models import AuthSession, User
from apps.accounts.selectors import auth_session_user_get_live
from apps.accounts.tokens import SESSION_ID_CLAIM, SessionRefreshToken
from apps.core.exceptions import ValidationFailed

REGISTRATION_REFUSED = "Could not register this email address."
INVALID_REFRESH_TOKEN = "The refresh token is invalid or expired."


def user_create(*, email: str, password: str, name: str) -> User:
    """Create a customer account.

    The password must pass Django's validators. Raises ValidationFailed (400) for a weak password or
    an email that is already registered. The password is judged first and a registered email gets a
    generic message, so sign-up says no more about existing accounts than its 400 must; the per-IP
    rate limit bounds how many addresses one client can probe.
    """
    email = User.objects.normalize_email(email).strip().lower()
    candidate = User(email=email, name=name)
    try:
        validate_password(password, user=candidate)
    except DjangoValidationError as error:
        raise ValidationFailed(
            "The password is too weak.", errors={"password": list(error.messages)}
        ) from None
    try:
        with transaction.atomic():
            return User.objects.create_user(email=email, password=password, name=name)
    except IntegrityError:
        raise ValidationFailed(REGISTRATION_REFUSED, errors={"email": [REGISTRATION_REFUSED]}) from None


# --- Passwords -----------------------------------------------------------------------------------


def password_reset_send(*, user: User, link: str) -> None:
    """E-mail `user` the link to choose a new password (through the outbox: a subscriber writes the
    row in this transaction). `link` carries RESET_TOKEN_MARK where the token goes: the sender makes
    the token when it sends, so no usable link is stored."""
    with transaction.atomic():
        password_reset_requested.publish(PasswordResetRequested(user=user, link=link))


def user_password_changed(*, user: User) -> None:
    """After a password change or reset: end every API session of `user` at once.

    Their access tokens are refused from the next request on (JWT authentication reads the user
    through the session). The website's other sessions end by themselves: Django checks each session's
    password hash, and the page that changed the password renews only its own.
    """
    AuthSession.objects.filter(user=user).delete()


# --- API sessions (apps/accounts/models.py: AuthSession) -------------------------------------------------


def auth_session_start(*, user: User) -> SessionRefreshToken:
    """Sign-in (the password already checked): a new session and its first refresh token.

    `str(token)` is the refresh token, `str(token.access_token)` an access token of the session.
    """
    token = SessionRefreshToken.for_session(user_id=user.pk, sid=uuid.uuid4().hex)
    AuthSession.objects.create(
        sid=token[SESSION_ID_CLAIM],
        user=user,
        refresh_jti=token[api_settings.JTI_CLAIM],
        password_stamp=user.get_session_auth_hash(),
        expires_at=_expiry(token),
    )
    return token


def auth_session_refresh(*, refresh: str) -> SessionRefreshToken:
    """Rotation: the session's next refresh token, for its current one, which is spent from then on.

    The session must be live (`auth_session_user_get_live`). The swap of the current refresh token is one
    conditional UPDATE (autocommit; InnoDB re-checks the condition on the locked row): of concurrent
    redemptions of one token exactly one matches and wins, the others match nothing. Raises
    SessionRefused (401) for a malformed, expired, spent or logged-out token, and one whose user is
    deactivated, deleted or has changed password since sign-in.
    """
    presented = _refresh_token(refresh)
    if presented is None:
        raise SessionRefused("The refresh token is invalid, spent or expired; sign in again.")
    sid = presented[SESSION_ID_CLAIM]
    user = auth_session_user_get_live(sid=sid, user_id=presented[api_settings.USER_ID_CLAIM])
    if user is None:
        raise SessionRefused("The session has ended; sign in again.")
    rotated = SessionRefreshToken.for_session(user_id=user.pk, sid=sid)
    current = AuthSession.objects.filter(sid=sid, user=user, refresh_jti=presented[api_settings.JTI_CLAIM])
    won = current.update(refresh_jti=rotated[api_settings.JTI_CLAIM], expires_at=_expiry(rotated))
    if won != 1:
        raise SessionRefused("The refresh token is invalid, spent or expired; sign in again.")
    return rotated


def auth_session_end(*, user: User, refresh: str) -> None:
    """Logout: delete the session `refresh` belongs to; every token of it is refused from then on.

    Any refresh token of the session will do, even one already rotated (the caller holds it and is
    signed in as its user). The user's other sessions go on. Ending a session that already ended does
    nothing. Raises ValidationFailed (400) for a token that is malformed, expired or another user's.
    """
    token = _refresh_token(refresh)
    if token is None or token[api_settings.USER_ID_CLAIM] != str(user.pk):
        raise ValidationFailed(INVALID_REFRESH_TOKEN, errors={"refresh": ["Invalid or expired token."]})
    AuthSession.objects.filter(sid=token[SESSION_ID_CLAIM], user=user).delete()


def auth_sessions_purge_expired(*, now: datetime) -> int:
    """Delete sessions whose refresh token expired before `now` (none of their tokens works any more).

    Returns how many. Safe to run twice or concurrently.
    """
    deleted, _ = AuthSession.objects.filter(expires_at__lt=now).delete()
    return deleted


def _refresh_token(raw: str) -> SessionRefreshToken | None:
    """The decoded token if it is a well-signed, unexpired refresh token of a session; else None."""
    try:
        token = SessionRefreshToken(raw)
    except TokenError:
        return None
    claims = (SESSION_ID_CLAIM, api_settings.USER_ID_CLAIM, api_settings.JTI_CLAIM)
    if not all(isinstance(token.get(claim), str) for claim in claims):
        return None  # e.g. minted by simplejwt's RefreshToken.for_user: of no session
    return token


def _expiry(token: SessionRefreshToken) -> datetime:
    return datetime_from_epoch(token["exp"])
