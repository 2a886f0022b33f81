"""How the staff admin writes times and money in its lists (one way for every changelist)."""

from datetime import UTC, datetime
from decimal import Decimal

from django.utils import dateformat
from django.utils.html import format_html
from django.utils.safestring import SafeString

from apps.core.templatetags.airline import Located, local_time, money

# Short enough for a column at 1366 px; the year and the UTC instant are in the title.
LIST_TIME_FORMAT = "D j M H:i T"
UTC_TIME_FORMAT = "D j M Y, H:i \\U\\T\\C"


def utc_text(moment: datetime) -> str:
    """ "Sat 19 Dec 2026, 23:15 UTC"."""
    return dateformat.format(moment.astimezone(UTC), UTC_TIME_FORMAT)


def local_moment(moment: datetime | None, place: Located) -> SafeString | str:
    """`moment` on the clock of `place` with its zone ("Sun 20 Dec 10:15 AEDT"), the UTC instant on hover."""
    if moment is None:
        return "–"
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        moment.astimezone(UTC).isoformat(),
        utc_text(moment),
        local_time(moment, place, LIST_TIME_FORMAT),
    )


def local_and_utc(moment: datetime, place: Located) -> SafeString:
    """A detail page's time: on the clock of `place`, then the UTC instant written out."""
    return format_html("{} ({})", local_moment(moment, place), utc_text(moment))


def utc_moment(moment: datetime | None) -> SafeString | str:
    """An instant with no place of its own (an audit row, an e-mail sent) in UTC, labelled so."""
    if moment is None:
        return "–"
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        moment.astimezone(UTC).isoformat(),
        utc_text(moment),
        dateformat.format(moment.astimezone(UTC), "j M H:i \\U\\T\\C"),
    )


def amount(value: Decimal | None, currency: str) -> str:
    return money(value, currency) or "–"
