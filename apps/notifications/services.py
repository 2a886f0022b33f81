"""The email outbox: writing rows with the change they announce, sending each at most once at a time.

A row is written in the transaction of the change it announces, and nothing else happens on that
request: the outbox relay in the Celery worker (apps/notifications/relay.py) finds new rows within
about a second and queues their send tasks, so the request path never waits for the broker.
Delivery is at least once: the row is claimed (pending → sending) in a short transaction, the email
is sent with no lock held, then the result is recorded. Only a crash between the SMTP server
accepting the message and recording it can repeat an email (after the claim's lease), which is the
price of never losing one; a row whose task was lost is queued again by the retry job.
"""

import logging
import smtplib
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.constants import OnConflict
from django.utils import timezone

from apps.accounts.events import RESET_TOKEN_MARK
from apps.accounts.models import User
from apps.bookings.boarding import boarding_passes
from apps.bookings.calendar import CONTENT_TYPE as CALENDAR_CONTENT_TYPE
from apps.bookings.calendar import booking_calendar, booking_calendar_filename
from apps.bookings.events import BookingSegmentMoved, PaymentReceipt
from apps.bookings.models import Booking, SeatAssignment
from apps.core.locking import lock_rows, locked_transaction
from apps.flights.models import Flight
from apps.notifications.emails import (
    RENDERED_AT_SEND,
    RenderedEmail,
    booking_email_context,
    render_at_send,
    render_booking_email,
    render_flight_changed_email,
    render_password_reset_email,
)
from apps.notifications.exceptions import EmailDeliveryDeferred, NotificationInFlight
from apps.notifications.models import Notification

logger = logging.getLogger(__name__)

Status = Notification.Status
Kind = Notification.Kind

# The relay queues a new row within about a second; the retry job looks at it only after this, so
# the two rarely race (and the send's claim makes a race harmless).
FIRST_SEND_GRACE = timedelta(minutes=2)
REMINDER_WINDOW = timedelta(hours=24)


def notification_bare_create(*, booking: Booking, kind: str) -> None:
    """Write an outbox email of a kind rendered at send time (RENDERED_AT_SEND) in one statement.

    This runs on the hot path (a hold's transaction, the sweeper's batches), so no template, no read
    and no savepoint: an INSERT that skips the row if this email about this booking exists already
    ((kind, booking) is unique), leaving the caller's transaction untouched. The recipient is the
    booking's owner; the sender renders the subject and bodies.
    """
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    insert = connection.ops.insert_statement(on_conflict=OnConflict.IGNORE)  # INSERT IGNORE / OR IGNORE
    # Written here rather than built by the ORM: a hold writes it under its flight's lock.
    with connection.cursor() as cursor:
        cursor.execute(
            f"{insert} {Notification._meta.db_table} (created_at, updated_at, kind, recipient, subject,"
            " body_text, body_html, status, attempts, last_error, next_attempt_at, booking_id)"
            " VALUES (%s, %s, %s, %s, '', '', '', %s, 0, '', %s, %s)",
            [
                adapt(now),
                adapt(now),
                kind,
                booking.owner.email,
                Status.PENDING,
                adapt(now + FIRST_SEND_GRACE),
                booking.pk,
            ],
        )


def notifications_create(
    *,
    booking: Booking,
    kinds: Sequence[str],
    receipt: PaymentReceipt | None = None,
    refunded: bool = False,
    refund_amount: Decimal | None = None,
    segment: int | None = None,
) -> list[Notification]:
    """Write the outbox emails `kinds` about `booking` in the caller's transaction; with `segment`,
    e-mails about that one flight of its journey (a reminder before each flight).

    (kind, booking, segment) is unique: an email that already exists is not written again, and the caller's
    transaction carries on (each insert runs in a savepoint). Returns the rows written. The
    recipient is the booking's owner; subject and bodies are rendered now, so they say what was
    true when the change was made, except for kinds in RENDERED_AT_SEND (the hot path's email: no
    query or template here, the sender renders it). The relay queues the rows once they commit.
    """
    rendered_now = [kind for kind in kinds if kind not in RENDERED_AT_SEND]
    context = (
        booking_email_context(
            booking, receipt=receipt, refunded=refunded, refund_amount=refund_amount, segment=segment
        )
        if rendered_now
        else None
    )
    written = []
    for kind in kinds:
        email = render_booking_email(kind, context) if kind in rendered_now else RenderedEmail("", "", "")
        try:
            with transaction.atomic():
                notification = Notification.objects.create(
                    kind=kind,
                    booking=booking,
                    segment=segment or 1,
                    recipient=booking.owner.email,
                    subject=email.subject,
                    body_text=email.text,
                    body_html=email.html,
                    next_attempt_at=timezone.now() + FIRST_SEND_GRACE,
                )
        except IntegrityError:
            # The same email was written before (a repeated event, a concurrent job); anything else
            # is a real error.
            if Notification.objects.filter(kind=kind, booking=booking, segment=segment or 1).exists():
                continue
            raise
        written.append(notification)
    return written


def notification_send(*, notification_id: int) -> bool:
    """Send one outbox email; True if this call sent it.

    Two runs send once: a run first claims the row (pending → sending, attempts + 1, for
    NOTIFICATIONS_CLAIM_LEASE_SECONDS) with one conditional UPDATE and does nothing if another run
    holds it, or if it is sent, failed, or backing off after a failure. No lock is held while
    talking to the SMTP server.
    A transient failure (SMTP 4xx, connection refused or dropped, timeout) puts the row back to
    pending with an exponential backoff and raises EmailDeliveryDeferred, until
    NOTIFICATIONS_MAX_ATTEMPTS; then, or at once for a permanent failure (SMTP 5xx such as an
    unknown recipient), the row is failed with the error recorded and False is returned.
    """
    now = timezone.now()
    with transaction.atomic(durable=True):
        claimed = (
            Notification.objects.filter(pk=notification_id)
            .filter(_claimable(now))
            .update(
                status=Status.SENDING,
                attempts=F("attempts") + 1,
                next_attempt_at=now + timedelta(seconds=settings.NOTIFICATIONS_CLAIM_LEASE_SECONDS),
            )
        )
    if not claimed:
        return False
    notification = Notification.objects.get(pk=notification_id)
    try:
        if not notification.subject and notification.kind in RENDERED_AT_SEND:
            _render_stored(notification)
        text, html = _with_secrets(notification)
        message = EmailMultiAlternatives(
            subject=notification.subject,
            body=text,
            to=[notification.recipient],
            headers={"X-Airline-Notification": f"{notification.kind}/{notification.pk}"},
        )
        if html:
            message.attach_alternative(html, "text/html")
        for attachment in _attachments(notification):
            message.attach(*attachment)
        message.send()
    except Exception as error:  # every failure is recorded on the row; transient ones are retried
        _failure_record(notification, error)
        return False
    Notification.objects.filter(pk=notification.pk, status=Status.SENDING).update(
        status=Status.SENT, sent_at=timezone.now(), next_attempt_at=None, last_error=""
    )
    return True


def notifications_claim_unqueued(*, limit: int = 500) -> list[int]:
    """Mark up to `limit` pending emails that no send task was queued for as queued; return their ids.

    The outbox relay calls this, then queues a send task for each id. Rows another relay is claiming
    are skipped (SKIP LOCKED), so two relays never queue one row twice. A relay that dies between
    this commit and queueing leaves rows marked but unqueued: the retry job sends them later.
    """
    with locked_transaction():
        rows = lock_rows(
            Notification.objects.filter(status=Status.PENDING, queued_at__isnull=True)
            .only("pk")
            .order_by("pk")[:limit],
            skip_locked=True,
        )
        ids = [row.pk for row in rows]
        if ids:
            Notification.objects.filter(pk__in=ids).update(queued_at=timezone.now())
    return ids


def notifications_claim_due(*, limit: int = 500) -> list[int]:
    """The ids of up to `limit` emails due again, marked as queued now (the retry job queues them).

    Due: pending with its next attempt time passed (backing off after a transient failure, or its
    first task lost), or sending with its claim's lease run out (the worker died). Safe to run twice
    or concurrently: the send task's claim lets one run send. Failed rows are final (permanent error
    or attempts exhausted) until staff resend them.
    """
    now = timezone.now()
    due = list(
        Notification.objects.filter(status__in=[Status.PENDING, Status.SENDING], next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    if due:
        Notification.objects.filter(pk__in=due).update(queued_at=now)
    return due


def flight_reminders_queue(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Write a `flight_reminder` for each flight of a confirmed booking (each flight of a journey) that
    is scheduled and departs in the next 24 hours; returns how many were written.

    Each flight of a booking gets one reminder, however often or concurrently this runs ((kind,
    booking, segment) unique).
    """
    now = now or timezone.now()
    reminded = Notification.objects.filter(
        kind=Notification.Kind.FLIGHT_REMINDER, booking_id=OuterRef("booking_id"), segment=OuterRef("segment")
    )
    due = (
        SeatAssignment.objects.filter(
            active=True,
            booking__status=Booking.Status.CONFIRMED,
            flight__status=Flight.Status.SCHEDULED,
            flight__departure_time__gt=now,
            flight__departure_time__lte=now + REMINDER_WINDOW,
        )
        .filter(~Exists(reminded))
        .values_list("booking_id", "segment", "flight__departure_time")
        .distinct()
        .order_by("flight__departure_time", "booking_id")
    )
    pending = [(booking_id, segment) for booking_id, segment, _ in due[:limit]]
    written = 0
    for booking_id, segment in pending:
        with transaction.atomic():
            # Re-read: the booking may have been cancelled since the query above.
            booking = (
                Booking.objects.select_related("owner", "flight")
                .filter(pk=booking_id, status=Booking.Status.CONFIRMED)
                .first()
            )
            if booking is None:
                continue
            written += len(
                notifications_create(
                    booking=booking, kinds=[Notification.Kind.FLIGHT_REMINDER], segment=segment
                )
            )
    return written


def notifications_purge_sent(*, older_than: timedelta | None = None, batch_size: int = 1000) -> int:
    """Delete sent emails sent longer ago than `older_than` (default NOTIFICATIONS_RETENTION_DAYS).

    Deletes in small batches so no long lock is held; pending and failed rows are kept. Returns the
    number deleted; safe to run twice or concurrently.
    """
    cutoff = timezone.now() - (older_than or timedelta(days=settings.NOTIFICATIONS_RETENTION_DAYS))
    deleted = 0
    while True:
        batch = list(
            Notification.objects.filter(status=Status.SENT, sent_at__lt=cutoff).values_list("pk", flat=True)[
                :batch_size
            ]
        )
        if not batch:
            return deleted
        count, _ = Notification.objects.filter(pk__in=batch, status=Status.SENT, sent_at__lt=cutoff).delete()
        deleted += count


def notification_resend(*, notification: Notification) -> None:
    """Put an email back in the outbox with a fresh set of attempts (staff "resend"); the relay queues it.

    Any status may be resent, a sent one too (the traveller lost it). Raises NotificationInFlight
    while a send attempt holds its claim.
    """
    now = timezone.now()
    with transaction.atomic():
        reset = (
            Notification.objects.filter(pk=notification.pk)
            .exclude(status=Status.SENDING, next_attempt_at__gt=now)
            .update(
                status=Status.PENDING,
                attempts=0,
                last_error="",
                sent_at=None,
                next_attempt_at=now + FIRST_SEND_GRACE,
                queued_at=None,
            )
        )
        if not reset:
            raise NotificationInFlight(f"Email {notification.pk} is being sent right now; try again shortly.")


def retry_delay(attempts: int) -> timedelta:
    """Backoff after the `attempts`-th failed attempt: base, 2 × base, 4 × base, …

    The send task's Celery retry uses the same schedule (retry_backoff = base, no jitter), so its
    retry finds the row due.
    """
    return timedelta(seconds=settings.NOTIFICATIONS_RETRY_BASE_SECONDS * 2 ** (attempts - 1))


def is_transient(error: BaseException) -> bool:
    """Whether sending the same email later may succeed.

    Permanent: the server refused this very message for good (5xx to its sender, recipient or
    content), or building it failed. Everything else is transient: the server unreachable or
    dropping us, a 4xx, DNS, socket timeouts, even refused credentials or TLS (configuration that
    staff fix, after which the email goes out), and the task's soft time limit.
    """
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return any(400 <= code < 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPSenderRefused | smtplib.SMTPDataError):
        return not 500 <= error.smtp_code < 600
    # A database hiccup while rendering at send time passes too; the row is rendered again then.
    return isinstance(error, OSError | SoftTimeLimitExceeded | DatabaseError)


def _claimable(now: datetime) -> Q:
    never_tried = Q(attempts=0)
    backoff_over = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    return Q(status=Status.PENDING) & (never_tried | backoff_over) | Q(
        status=Status.SENDING, next_attempt_at__lte=now
    )


def _failure_record(notification: Notification, error: Exception) -> None:
    description = f"{type(error).__name__}: {error}"[:2000]
    attempts = notification.attempts
    claimed = Notification.objects.filter(pk=notification.pk, status=Status.SENDING)
    if is_transient(error) and attempts < settings.NOTIFICATIONS_MAX_ATTEMPTS:
        next_attempt_at = timezone.now() + retry_delay(attempts)
        claimed.update(status=Status.PENDING, next_attempt_at=next_attempt_at, last_error=description)
        logger.info("Email %s deferred after attempt %s: %s", notification.pk, attempts, description)
        raise EmailDeliveryDeferred(description) from error
    claimed.update(status=Status.FAILED, next_attempt_at=None, last_error=description)
    logger.warning("Email %s failed after %s attempt(s): %s", notification.pk, attempts, description)


def password_reset_notification_create(*, user: User, link: str) -> Notification:
    """Write the password reset e-mail for `user` to the outbox. The row keeps `link` with the token's
    mark in it; the sender puts a token made at sending time in its place (`_with_secrets`)."""
    email = render_password_reset_email(name=user.name, link=link)
    return Notification.objects.create(
        kind=Kind.PASSWORD_RESET,
        user=user,
        recipient=user.email,
        subject=email.subject,
        body_text=email.text,
        body_html=email.html,
    )


ATTACHING_KINDS = (Kind.BOOKING_CONFIRMED, Kind.BOARDING_PASSES)
PNG = "image/png"


def _attachments(notification: Notification) -> list[tuple[str, bytes, str]]:
    """(filename, content, type) of what goes with the e-mail: the e-ticket carries a calendar entry,
    the boarding passes e-mail a barcode image per checked-in passenger."""
    if notification.booking_id is None or notification.kind not in (
        Kind.BOOKING_CONFIRMED,
        Kind.BOARDING_PASSES,
    ):
        return []
    booking = Booking.objects.select_related(
        "flight__departure_airport__city", "flight__arrival_airport__city"
    ).get(pk=notification.booking_id)
    if notification.kind == Kind.BOOKING_CONFIRMED:
        return [(booking_calendar_filename(booking), booking_calendar(booking), CALENDAR_CONTENT_TYPE)]
    return [
        (
            f"boarding-pass-{booking.reference}-{boarding.passenger.position}.png",
            boarding.qr_png(),
            "image/png",
        )
        for boarding in boarding_passes(booking)
    ]


def boarding_passes_notification_write(*, booking: Booking) -> None:
    """Write (or write again) the boarding passes e-mail of `booking`, rendered when it is sent.

    One row per booking ((kind, booking) is unique): when more passengers check in later, the row goes
    back to pending with its text cleared, so the next send shows every pass.
    """
    again = Notification.objects.filter(kind=Kind.BOARDING_PASSES, booking=booking).update(
        status=Status.PENDING,
        subject="",
        body_text="",
        body_html="",
        attempts=0,
        last_error="",
        next_attempt_at=None,
        sent_at=None,
        queued_at=None,
    )
    if not again:
        notification_bare_create(booking=booking, kind=Kind.BOARDING_PASSES)


def flight_changed_notification_write(*, moved: BookingSegmentMoved) -> None:
    """Write (or write again) the "your flight has changed" e-mail of a segment move, rendered now.

    One row per booking ((kind, booking) is unique): a booking moved again gets the row rewritten with
    the latest change and put back to pending, so the traveller is told of every move.
    """
    booking = moved.booking
    email = render_flight_changed_email(booking, moved)
    fields = {
        "recipient": booking.owner.email,
        "subject": email.subject,
        "body_text": email.text,
        "body_html": email.html,
        "status": Status.PENDING,
        "attempts": 0,
        "last_error": "",
        "next_attempt_at": timezone.now() + FIRST_SEND_GRACE,
        "sent_at": None,
        "queued_at": None,
    }
    # Two moves of one booking are serialised by the booking's lock, so update-else-insert is safe here.
    if not Notification.objects.filter(kind=Kind.FLIGHT_CHANGED, booking=booking).update(**fields):
        Notification.objects.create(kind=Kind.FLIGHT_CHANGED, booking=booking, **fields)


def _with_secrets(notification: Notification) -> tuple[str, str]:
    """The bodies to send: as stored, except that a password reset link gets its token now, so the
    outbox (and the admin that shows it) never holds a usable link."""
    if notification.kind != Kind.PASSWORD_RESET:
        return notification.body_text, notification.body_html
    token = default_token_generator.make_token(notification.user)
    return (
        notification.body_text.replace(RESET_TOKEN_MARK, token),
        notification.body_html.replace(RESET_TOKEN_MARK, token),
    )


def _render_stored(notification: Notification) -> None:
    """Render an email written without its text and keep the text on the row (admin, resends)."""
    email = render_at_send(notification)
    notification.subject, notification.body_text = email.subject, email.text
    notification.body_html = email.html
    Notification.objects.filter(pk=notification.pk).update(
        subject=email.subject, body_text=email.text, body_html=email.html
    )
