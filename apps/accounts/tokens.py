"""The API's refresh token: simplejwt's JWT, bound to an AuthSession by its `sid` claim."""

from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, Token

SESSION_ID_CLAIM = "sid"  # the name OpenID Connect gives a session id claim


class SessionRefreshToken(Token):
    """A refresh token whose AuthSession row, not simplejwt's blacklist, decides whether it is redeemed.

    Its access tokens (simplejwt's `access_token`) copy every claim but the type, times and jti, so
    they carry the same `user_id` and `sid`.
    """

    token_type = "refresh"
    lifetime = api_settings.REFRESH_TOKEN_LIFETIME
    no_copy_claims = RefreshToken.no_copy_claims
    access_token_class = AccessToken
    access_token = RefreshToken.access_token

    @classmethod
    def for_session(cls, *, user_id: int, sid: str) -> "SessionRefreshToken":
        token = cls()
        token[api_settings.USER_ID_CLAIM] = str(user_id)
        token[SESSION_ID_CLAIM] = sid
        return token
