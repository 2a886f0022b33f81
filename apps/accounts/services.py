from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction

from apps.accounts.models import User
from apps.core.exceptions import ValidationFailed

REGISTRATION_REFUSED = "Could not register this email address."


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
