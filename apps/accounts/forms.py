from django import forms
from django.contrib.auth.forms import AuthenticationForm


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
