from django.utils.crypto import constant_time_compare

from apps.accounts.models import AuthSession, User

# The session and its user in one indexed lookup (unique sid, then the user's primary key). Written as
# SQL because this runs on every authenticated request: the ORM spends more building a join than
# MariaDB spends answering it (measured: the ORM's select_related join took twice the CPU of the
# primary-key get it replaces; this raw query takes less than that get).
_LIVE_SESSION_USER_SQL = (
    f"SELECT u.*, s.password_stamp AS session_password_stamp FROM {User._meta.db_table} u"
    f" JOIN {AuthSession._meta.db_table} s ON s.user_id = u.{User._meta.pk.column}"
    " WHERE s.sid = %s AND s.user_id = %s"
)


def auth_session_user_get_live(*, sid: str, user_id: str) -> User | None:
    """The user of session `sid` of `user_id` if the session's tokens may still be used; else None.

    Live means: not logged out (the row exists), the user active, and the password unchanged since
    sign-in. One query: it replaces the user lookup simplejwt makes for every authenticated request,
    so checking the session costs no extra query.
    """
    user = next(iter(User.objects.raw(_LIVE_SESSION_USER_SQL, [sid, user_id])), None)
    if user is None or not user.is_active:
        return None
    if not constant_time_compare(user.session_password_stamp, user.get_session_auth_hash()):
        return None
    return user
