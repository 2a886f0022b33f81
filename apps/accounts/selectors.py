from django.db import connection
from django.utils.crypto import constant_time_compare

from apps.accounts.models import AuthSession, User
from apps.core.rows import model_from_row

# The session and its user in one indexed lookup (unique sid, then the user's primary key). Written as
# SQL because this runs on every authenticated request: the ORM spends more building a join than
# MariaDB spends answering it (measured: the ORM's select_related join took twice the CPU of the
# primary-key get it replaces; this query takes less than that get), and the user is built as a
# queryset would build it (apps/core/rows.py), without `Manager.raw()`'s per-call set-up.
_USER_COLUMNS = tuple(field.attname for field in User._meta.concrete_fields)
_LIVE_SESSION_USER_SQL = (
    f"SELECT {', '.join(f'u.{field.column}' for field in User._meta.concrete_fields)},"
    f" s.password_stamp FROM {User._meta.db_table} u"
    f" JOIN {AuthSession._meta.db_table} s ON s.user_id = u.{User._meta.pk.column}"
    " WHERE s.sid = %s AND s.user_id = %s"
)


def auth_session_user_get_live(*, sid: str, user_id: str) -> User | None:
    """The user of session `sid` of `user_id` if the session's tokens may still be used; else None.

    Live means: not logged out (the row exists), the user active, and the password unchanged since
    sign-in. One query: it replaces the user lookup simplejwt makes for every authenticated request,
    so checking the session costs no extra query.
    """
    with connection.cursor() as cursor:
        cursor.execute(_LIVE_SESSION_USER_SQL, [sid, user_id])
        row = cursor.fetchone()
    if row is None:
        return None
    user = model_from_row(User, _USER_COLUMNS, row[:-1])
    if not user.is_active or not constant_time_compare(row[-1], user.get_session_auth_hash()):
        return None
    return user
