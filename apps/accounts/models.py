from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone

STAFF_GROUP_NAME = "Airline staff"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        if not email:
            raise ValueError("Users must have an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """An account that signs in with its email address."""

    class Role(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        STAFF = "staff", "Staff"
        ADMIN = "admin", "Admin"

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    def __str__(self) -> str:
        return self.email

    @property
    def role(self) -> str:
        if self.is_superuser:
            return self.Role.ADMIN
        if self.is_staff:
            return self.Role.STAFF
        return self.Role.CUSTOMER


class AuthSession(models.Model):
    """One API sign-in: the chain of tokens a password sign-in starts, until logout or expiry.

    Every token of the chain carries the session's `sid` claim. The row existing is what lets them in:
    JWT authentication reads the user through it (one query per request), and logout deletes it, so
    the session's access tokens are refused from the next request on. Only the chain's current refresh
    token (`refresh_jti`) can be redeemed; redeeming it replaces `refresh_jti` in one conditional
    UPDATE, so of concurrent redemptions exactly one wins. `password_stamp` is the user's
    `get_session_auth_hash()` at sign-in: once the password changes, it no longer matches and the
    session is refused, as Django refuses website sessions. Rows whose refresh token has expired are
    purged (`auth_sessions_purge_expired`).
    """

    sid = models.CharField(max_length=32, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="auth_sessions")
    refresh_jti = models.CharField(max_length=32)
    password_stamp = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)  # when the current refresh token expires

    def __str__(self) -> str:
        return f"{self.user_id}:{self.sid}"
