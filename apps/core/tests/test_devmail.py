"""The development mail outbox: one file and one console line per email, read at /dev/mail/."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from apps.core.devmail.selectors import stored_email_list
from apps.core.devmail.views import OUTBOX_BACKEND
from apps.core.logging import RequestIdFilter
from apps.core.testing import browser as browser_fixtures
from apps.core.tests.test_security_headers import RECORD_VIOLATIONS, policy

SUBJECT = "Seats held on AI101: pay by Tue 1 Dec 2026, 15:39 IST (booking K7PQ2M)"
HTML = (
    '<!DOCTYPE html><html><body style="background:#eef2f7;">'
    '<h1 id="title" style="color:rgb(11, 61, 110);">Your seats are held</h1>'
    "<p>Dear Demo Traveller,</p></body></html>"
)


@pytest.fixture
def outbox(settings, tmp_path):
    """The embedded default's mail settings, into a folder of this test's own."""
    settings.DEBUG = True
    settings.EMAIL_BACKEND = OUTBOX_BACKEND
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    settings.SITE_URL = "http://127.0.0.1:8000"
    return tmp_path / "mail"


def send_held_email() -> None:
    """An email built the way the notification outbox builds its own: text with an HTML alternative."""
    message = EmailMultiAlternatives(
        subject=SUBJECT, body="Your seats are held.\n", to=["traveller@airline.example"]
    )
    message.attach_alternative(HTML, "text/html")
    message.send()


def test_each_email_is_one_file_and_one_console_line_with_its_link(outbox, caplog):
    # when an email is sent
    send_held_email()

    # then it is one .eml file, and one log line names it and links to it
    (stored,) = stored_email_list()
    assert [path.name for path in outbox.iterdir()] == [f"{stored.id}.eml"]
    (record,) = caplog.records
    link = f"http://127.0.0.1:8000/dev/mail/{stored.id}/"
    assert record.getMessage() == f"Email to traveller@airline.example: {SUBJECT}  {link}"
    # the console's filter scrubs card numbers and tokens; the line comes through whole
    RequestIdFilter().filter(record)
    assert record.getMessage().endswith(link)
    assert stored.subject == SUBJECT
    assert stored.text == "Your seats are held.\n"
    assert "Your seats are held</h1>" in stored.html


def test_the_viewer_lists_the_emails_and_shows_the_html_in_a_sandboxed_frame(outbox, client):
    send_held_email()
    (stored,) = stored_email_list()

    listing = client.get("/dev/mail/")
    page = client.get(f"/dev/mail/{stored.id}/")
    html = client.get(f"/dev/mail/{stored.id}/html")
    raw = client.get(f"/dev/mail/{stored.id}.eml")

    assert listing.status_code == 200
    assert f'href="/dev/mail/{stored.id}/"' in listing.content.decode()
    assert page.status_code == 200
    frame = f'title="The email as the traveller sees it" sandbox src="/dev/mail/{stored.id}/html"'
    assert frame in page.content.decode()
    assert "Your seats are held." in page.content.decode()
    # The HTML part under a policy of its own: its inline styles only, no script, framed by the viewer.
    assert html.status_code == 200
    assert html.content.decode() == HTML
    html_policy = policy(html)
    assert html_policy["default-src"] == ["'none'"]
    assert html_policy["style-src"] == ["'unsafe-inline'"]
    assert html_policy["frame-ancestors"] == ["'self'"]
    assert html_policy["sandbox"] == []
    assert "script-src" not in html_policy
    assert html["X-Frame-Options"] == "SAMEORIGIN"
    # The viewer page itself keeps the site's policy.
    assert policy(page)["frame-ancestors"] == ["'none'"]
    assert raw.content == stored.raw


@pytest.mark.parametrize(
    ("setting", "value", "remote_addr"),
    [
        ("DEBUG", False, "127.0.0.1"),
        ("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend", "127.0.0.1"),
        (None, None, "203.0.113.7"),
    ],
    ids=["without DEBUG", "while SMTP sends the mail", "from another machine"],
)
def test_the_viewer_is_not_there(outbox, settings, client, setting, value, remote_addr):
    send_held_email()
    (stored,) = stored_email_list()
    if setting:
        setattr(settings, setting, value)

    answers = [
        client.get(url, REMOTE_ADDR=remote_addr).status_code
        for url in ("/dev/mail/", f"/dev/mail/{stored.id}/", f"/dev/mail/{stored.id}/html")
    ]

    assert answers == [404, 404, 404]


def test_an_id_that_is_not_one_of_ours_is_a_404(outbox, client):
    (outbox.parent / "secret.eml").write_text("Subject: not yours\n\nsecret\n")

    answers = [
        client.get(url).status_code
        for url in (
            "/dev/mail/..%2Fsecret/",
            "/dev/mail/../secret.eml",
            "/dev/mail/20261201T095933.123456Z-0000000a/",
        )
    ]

    assert answers == [404, 404, 404]


@pytest.mark.slow
def test_the_embedded_default_keeps_its_mail_in_the_outbox():
    environment = {
        key: value for key, value in os.environ.items() if key not in {"EMAIL_URL", "DJANGO_SETTINGS_MODULE"}
    }
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.EMAIL_BACKEND)"],
        cwd=settings.BASE_DIR,
        env={**environment, "DJANGO_SETTINGS_MODULE": "airline.settings.local"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert result.stdout.strip() == OUTBOX_BACKEND


# --- In a real browser ------------------------------------------------------------------------------

chromium = browser_fixtures.chromium
browser_page = browser_fixtures.browser_page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_viewer_shows_the_email_as_rendered_breaking_no_policy_rule(outbox, browser_page):
    send_held_email()
    (stored,) = stored_email_list()
    web, page = browser_page, browser_page.page
    web.context.add_init_script(RECORD_VIOLATIONS)

    web.goto("/dev/mail/")
    page.get_by_role("link", name=SUBJECT).click()
    title = page.frame_locator("iframe.mail-frame").locator("#title")

    # the email's HTML renders in the frame with its own inline style, and nothing was blocked
    assert title.inner_text() == "Your seats are held"
    assert title.evaluate("element => getComputedStyle(element).color") == "rgb(11, 61, 110)"
    assert page.evaluate("window.__cspViolations") == []
    assert page.url == web.url(f"/dev/mail/{stored.id}/")
    web.snap("an email in the mail viewer")
