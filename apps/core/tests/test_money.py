"""Money as people read it (apps/core/money.py): one rule for every page and email."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from apps.core.money import money_display


@pytest.mark.parametrize(
    ("amount", "currency", "written"),
    [
        (Decimal("6720.00"), "INR", "₹6,720"),
        (Decimal("10070"), "INR", "₹10,070"),
        (Decimal("1234567.00"), "INR", "₹1,234,567"),
        (Decimal("6720.50"), "INR", "₹6,720.50"),  # minor units shown when there are any, never rounded
        (Decimal("6720.05"), "INR", "₹6,720.05"),
        (Decimal("0.00"), "INR", "₹0"),
        (Decimal("12000.00"), "JPY", "¥12,000"),
        (Decimal("120.00"), "USD", "$120.00"),
        (Decimal("99.5"), "EUR", "€99.50"),
        (Decimal("1500.00"), "CHF", "1,500.00 CHF"),
        (Decimal("-250.00"), "INR", "-₹250"),
    ],
)
def test_amounts_are_written_whole_where_the_currency_is_and_never_rounded(amount, currency, written):
    assert money_display(amount, currency) == written


def test_the_ascii_form_for_email_subjects_writes_the_code_first():
    assert money_display(Decimal("9000.00"), "INR", symbol=False) == "INR 9,000"
    assert money_display(Decimal("9000.25"), "INR", symbol=False) == "INR 9,000.25"


def test_digits_are_grouped_as_the_active_language_writes_numbers():
    with translation.override("de"):
        assert money_display(Decimal("6720.50"), "INR") == "₹6.720,50"
    with translation.override("en-gb"):
        assert money_display(Decimal("6720.50"), "INR") == "₹6,720.50"


def test_the_template_filter_is_the_same_rule():
    template = Template("{% load airline %}{{ amount|money:'INR' }}|{{ missing|money:'INR' }}")

    assert template.render(Context({"amount": Decimal("6720.00"), "missing": None})) == "₹6,720|"
