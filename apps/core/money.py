"""How an amount of money is written for people: the website's pages and the emails (the API writes
plain decimal strings, apps/flights/api/serializers.py: money_text).

The rule, in one place:
- Currencies whose prices are whole in practice (WHOLE_UNIT_CURRENCIES: the rupee and the yen) are
  written in whole units: ₹6,720, not ₹6,720.00. An amount that does have minor units is written
  with them (₹6,720.50): it is never rounded, so what is shown is what is charged.
- Other currencies always show their two minor digits ($120.00).
- Digits are grouped and separated as the active language writes numbers (Django's formats), the
  symbol goes first; a currency without a known symbol is written by its code after the number.
"""

from decimal import Decimal

from django.utils import formats

CURRENCY_SYMBOLS = {"INR": "₹", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
WHOLE_UNIT_CURRENCIES = frozenset({"INR", "JPY"})
MINOR_DIGITS = 2


def money_display(amount: Decimal | int | str, currency: str, *, symbol: bool = True) -> str:
    """6720 INR → "₹6,720"; 6720.5 INR → "₹6,720.50"; 120 USD → "$120.00".

    `symbol=False` writes the code first instead ("INR 6,720"): ASCII, for email subjects.
    """
    value = Decimal(amount)
    exponent = value.normalize().as_tuple().exponent
    places = max(0, -exponent) if isinstance(exponent, int) else 0
    # Whole units where the currency is written so; otherwise never fewer digits than the currency's
    # minor units or than the amount has (no rounding).
    decimals = 0 if currency in WHOLE_UNIT_CURRENCIES and places == 0 else max(MINOR_DIGITS, places)
    number = formats.number_format(value, decimal_pos=decimals, force_grouping=True)
    sign, number = ("-", number[1:]) if number.startswith("-") else ("", number)
    if not symbol:
        return f"{sign}{currency} {number}".strip()
    mark = CURRENCY_SYMBOLS.get(currency)
    return f"{sign}{mark}{number}" if mark else f"{sign}{number} {currency}".strip()
