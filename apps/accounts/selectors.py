from django.utils.crypto import constant_time_compare

from apps.accounts.models import AuthSession


def auth_session_get_live(*, sid: str, user_id: str) -> AuthSession | None:
    """The session `sid` of `user_id`, with its user, if its tokens may still be used; else None.

    Live means: not logged out (the row exists), the user active, and the password unchanged since
    sign-in. One query (the session joined to its user): it replaces the user lookup simplejwt makes
    for every authenticated request, so checking the session costs no extra query.
    """
    session = AuthSession.objects.select_related("user").filter(sid=sid, user_id=user_id).first()
    if session is None or not session.user.is_active:
        return None
    if not constant_time_compare(session.password_stamp, session.user.get_session_auth_hash()):
        return None
    return session
