"""Bearer-token authentication of the API: simplejwt's access tokens, accepted while their session lives."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

from apps.accounts.models import User
from apps.accounts.selectors import auth_session_user_get_live
from apps.accounts.tokens import SESSION_ID_CLAIM


class SessionJWTAuthentication(JWTAuthentication):
    """simplejwt's JWTAuthentication, with its user lookup replaced by a lookup through the session.

    The token's signature, type and expiry are checked by simplejwt, without the database. The one
    query then reads the user through the token's AuthSession (`auth_session_user_get_live`), so a
    token of a logged-out session, of a deactivated user or from before a password change is refused
    at once. A token without a session claim (not minted by a sign-in) is refused too.
    """

    def get_user(self, validated_token: Token) -> User:
        sid = validated_token.get(SESSION_ID_CLAIM)
        user_id = validated_token.get(api_settings.USER_ID_CLAIM)
        user = None
        if isinstance(sid, str) and isinstance(user_id, str):
            user = auth_session_user_get_live(sid=sid, user_id=user_id)
        if user is None:
            raise AuthenticationFailed("The session has ended; sign in again.", code="session_ended")
        return user


class SessionJWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme of SessionJWTAuthentication: simplejwt's bearer JWT."""

    target_class = SessionJWTAuthentication
