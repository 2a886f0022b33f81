from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction

from apps.accounts.models import User
from apps.core.exceptions import ValidationFailed


def user_create(*, email: str, password: str, name: str) -> User:
    """Create a customer account.

    The password must pass Django's validators. Raises ValidationFailed (400) for a weak password or
    an email that is already registered.
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
        raise ValidationFailed(
            "An account with this email already exists.",
            errors={"email": ["This email is already registered."]},
        ) from None
