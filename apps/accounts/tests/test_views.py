"""Sign up, sign in and sign out pages (session auth with CSRF)."""

import pytest
from django.test import Client

from apps.accounts.models import User
from apps.accounts.tests.factories import TEST_PASSWORD, UserFactory
from apps.accounts.views import SIGNUP_REFUSED

pytestmark = pytest.mark.django_db


def test_sign_up_creates_the_account_and_signs_in():
    client = Client()

    response = client.post(
        "/signup/",
        {"name": "Asha Rao", "email": "Asha@Example.com", "password": TEST_PASSWORD, "next": "/bookings/"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/bookings/"
    user = User.objects.get(email="asha@example.com")
    assert user.name == "Asha Rao"
    assert client.get("/bookings/").context["user"] == user


def test_sign_up_with_a_weak_password_shows_why_and_creates_nobody(client):
    response = client.post("/signup/", {"name": "Asha", "email": "asha@example.com", "password": "12345678"})

    assert response.status_code == 200
    assert response.context["form"].errors["password"]
    assert not User.objects.filter(email="asha@example.com").exists()


def test_sign_up_with_a_registered_email_is_an_error_on_the_email(client):
    UserFactory(email="taken@example.com")

    response = client.post("/signup/", {"name": "X", "email": "taken@example.com", "password": TEST_PASSWORD})

    assert response.context["form"].errors["email"] == [SIGNUP_REFUSED]
    assert "already" not in response.content.decode()
    assert User.objects.filter(email="taken@example.com").count() == 1


def test_sign_in_goes_to_next_and_a_wrong_password_does_not(client):
    user = UserFactory(email="asha@example.com")

    wrong = client.post("/signin/", {"username": "asha@example.com", "password": "nope"})
    right = client.post(
        "/signin/?next=/bookings/", {"username": "ASHA@example.com", "password": TEST_PASSWORD}
    )

    assert wrong.status_code == 200
    assert wrong.context["form"].non_field_errors()
    assert right.status_code == 302
    assert right["Location"] == "/bookings/"
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_wrong_password_and_an_unknown_email_get_the_same_plain_answer(client):
    UserFactory(email="asha@example.com")

    wrong_password = client.post("/signin/", {"username": "asha@example.com", "password": "nope-nope"})
    unknown_email = client.post("/signin/", {"username": "nobody@example.com", "password": "nope-nope"})

    assert wrong_password.context["form"].non_field_errors() == ["The email or password is wrong."]
    assert unknown_email.context["form"].non_field_errors() == ["The email or password is wrong."]
    assert "case-sensitive" not in wrong_password.content.decode()
    assert wrong_password.content.decode().count("The email or password is wrong.") == 1
    assert "_auth_user_id" not in client.session


def test_a_registered_email_offers_to_sign_in_instead(client):
    UserFactory(email="taken@example.com")

    response = client.post(
        "/signup/?next=/bookings/", {"name": "X", "email": "taken@example.com", "password": TEST_PASSWORD}
    )

    html = response.content.decode()
    assert "We could not create an account with this email address. If it is yours, sign in instead." in html
    assert 'href="/signin/?next=/bookings/" data-testid="signin-instead">Sign in instead</a>' in html
    assert User.objects.filter(email="taken@example.com").count() == 1


def test_sign_in_refuses_an_offsite_next(client):
    UserFactory(email="asha@example.com")

    response = client.post(
        "/signin/?next=https://evil.example/", {"username": "asha@example.com", "password": TEST_PASSWORD}
    )

    assert response["Location"] == "/"


def test_forms_need_the_csrf_token():
    client = Client(enforce_csrf_checks=True)

    response = client.post("/signup/", {"name": "A", "email": "a@example.com", "password": TEST_PASSWORD})

    assert response.status_code == 403
    assert not User.objects.filter(email="a@example.com").exists()


def test_sign_out_is_a_post_and_ends_the_session(client, customer):
    client.force_login(customer)

    response = client.post("/signout/", follow=True)

    assert response.redirect_chain[-1][0] == "/"
    assert "_auth_user_id" not in client.session
    assert "You are signed out." in response.content.decode()
    assert client.get("/bookings/")["Location"].startswith("/signin/?next=")


def test_sign_in_attempts_share_the_apis_per_ip_limit_and_say_so_on_the_page(client, settings):
    settings.RATELIMIT_SIGNIN = "2/m"
    user = UserFactory(email="asha@example.com")
    for _ in range(2):
        client.post("/signin/", {"username": "asha@example.com", "password": "wrong"})

    response = client.post(
        "/signin/", {"username": "asha@example.com", "password": TEST_PASSWORD}, follow=True
    )

    assert response.redirect_chain == [("/signin/", 302)]
    assert "Please wait a minute" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/signin/").status_code == 200  # reading the page is not limited
    assert user.last_login is None
