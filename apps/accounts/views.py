import copy

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters

from apps.accounts.forms import PasswordResetRequestForm, SignInForm, SignUpForm
from apps.accounts.ratelimits import SIGNIN_RATE_LIMIT
from apps.accounts.services import REGISTRATION_REFUSED, user_create, user_password_changed
from apps.core.exceptions import ValidationFailed
from apps.core.ratelimit import RateLimited, RateLimiterUnavailable, ip_key, rate_limit_check
from apps.core.views import page_rate_limit, rate_limit_message

SIGNUP_REFUSED = "We could not create an account with this email address. If it is yours, sign in instead."


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


@sensitive_post_parameters("password")
@page_rate_limit(group="signup", key=ip_key, rate_setting="RATELIMIT_SIGNUP", fail_open=False)
def signup(request: HttpRequest) -> HttpResponse:
    form = SignUpForm(request.POST or None)
    offer_signin = False
    if request.method == "POST" and form.is_valid():
        try:
            user = user_create(**form.cleaned_data)
        except ValidationFailed as error:
            for field, field_errors in (error.errors or {"__all__": [error.detail]}).items():
                for message in field_errors:
                    if message == REGISTRATION_REFUSED:
                        # The API's generic refusal, in words: no more than it says (a registered
                        # address is refused only once the password passed), and the way forward.
                        message, offer_signin = SIGNUP_REFUSED, True
                    form.add_error(field if field in form.fields else None, message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome aboard, {user.name}. Your account is ready.")
            return redirect(_safe_next(request))
    return render(
        request,
        "accounts/signup.html",
        {"form": form, "next": _safe_next(request), "offer_signin": offer_signin},
    )


class SignInView(auth_views.LoginView):
    template_name = "accounts/signin.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are signed out.")
        return response


signin = page_rate_limit(**SIGNIN_RATE_LIMIT)(SignInView.as_view())


@sensitive_post_parameters("password")
def admin_signin(request: HttpRequest) -> HttpResponse:
    """The admin's login page (admin.site.login) under the sign-in limit the API and website share.

    A refused attempt gets the login page again, with an empty form and the reason as a message, and
    status 429 (503 while the limiter is unreachable): an admin page, never an error page.
    """
    if request.method != "POST":
        return admin.site.login(request)
    try:
        rate_limit_check(request, **SIGNIN_RATE_LIMIT)
    except (RateLimited, RateLimiterUnavailable) as error:
        messages.error(request, rate_limit_message(error))
        # Django's page as on a first visit (an unbound form: no password is checked), rendered for a
        # copy, so that the request itself stays a POST for the middleware and the access log.
        first_visit = copy.copy(request)
        first_visit.method = "GET"
        response = admin.site.login(first_visit)
        if response.status_code == 200:  # an already signed-in admin is sent on to the index
            response.status_code = error.http_status
            response["Retry-After"] = str(error.retry_after)
        return response
    return admin.site.login(request)


# --- Passwords: Django's own views and tokens; the e-mail goes through the outbox ------------------


class PasswordResetRequestView(auth_views.PasswordResetView):
    """The same page follows for every address, known or not (PasswordResetRequestForm)."""

    template_name = "accounts/password_reset_form.html"
    form_class = PasswordResetRequestForm
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetSentView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs, valid_minutes=settings.PASSWORD_RESET_TIMEOUT // 60)


class _EndsOtherSessions:
    """A password form's view that ends the user's API sessions once the new password is saved."""

    def form_valid(self, form):
        response = super().form_valid(form)
        user_password_changed(user=form.user)
        return response


class PasswordResetConfirmView(_EndsOtherSessions, auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


class PasswordChangeView(_EndsOtherSessions, auth_views.PasswordChangeView):
    """Keeps this browser signed in (Django renews its session); every other session ends."""

    template_name = "accounts/password_change_form.html"
    success_url = reverse_lazy("accounts:password_change_done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


password_reset = sensitive_post_parameters()(
    page_rate_limit(
        group="password_reset", key=ip_key, rate_setting="RATELIMIT_PASSWORD_RESET", fail_open=False
    )(PasswordResetRequestView.as_view())
)
# Guessing the current password is signing in: the same per-IP limit.
password_change = page_rate_limit(**SIGNIN_RATE_LIMIT)(PasswordChangeView.as_view())
