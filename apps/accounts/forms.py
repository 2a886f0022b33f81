import logging
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.http import HttpRequest
from django.urls import reverse

from apps.accounts.events import RESET_TOKEN_MARK
from apps.accounts.services import password_reset_send
from apps.core.ratelimit import RateLimited, RateLimiterUnavailable, rate_limit_check

logger = logging.getLogger(__name__)


class SignUpForm(forms.Form):
    name = forms.CharField(max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters; not a common or all-numeric password.",
    )


class SignInForm(AuthenticationForm):
    """Django's sign-in form with the email address as the username.

    One answer for an unknown email and a wrong password, as the API's sign-in gives (the hasher runs
    for both: Django's ModelBackend), so the page never tells which addresses have an account.
    """

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "The email or password is wrong.",
    }

    username = forms.EmailField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()


class PasswordResetRequestForm(PasswordResetForm):
    """Django's reset form (it finds the active users with that address and makes their links), sending
    through the outbox instead of at once. Each address gets at most RATELIMIT_PASSWORD_RESET_EMAIL
    e-mails; past that, and for an unknown address, nothing is sent and the page says the same."""

    email = forms.EmailField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def save(self, *args: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
        self.request = request
        super().save(*args, request=request, **kwargs)

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        try:
            rate_limit_check(
                self.request,
                group="password_reset_email",
                key=lambda group, request: f"email:{to_email.lower()}",
                rate_setting="RATELIMIT_PASSWORD_RESET_EMAIL",
                fail_open=False,
            )
        except (RateLimited, RateLimiterUnavailable):
            logger.info("Password reset e-mail not sent: the address's limit is reached")
            return
        path = reverse(
            "accounts:password_reset_confirm", kwargs={"uidb64": context["uid"], "token": RESET_TOKEN_MARK}
        )
        origin = settings.SITE_URL.rstrip("/") or f"{context['protocol']}://{context['domain']}"
        password_reset_send(user=context["user"], link=f"{origin}{path}")
