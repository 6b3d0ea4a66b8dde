"""Invoice arithmetic: totals, tax and overdue checks."""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

VAT_RATE = Decimal("0.20")
PAYMENT_TERMS_DAYS = 30


def line_total(quantity, unit_price):
    return (Decimal(quantity) * Decimal(unit_price)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def invoice_totals(lines):
    net = sum((line_total(q, p) for q, p in lines), Decimal("0"))
    vat = (net * VAT_RATE).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return {"net": net, "vat": vat, "gross": net + vat}


def due_date(issued_on):
    return issued_on + timedelta(days=PAYMENT_TERMS_DAYS)


def is_overdue(issued_on, today=None):
    today = today or date.today()
    return today > due_date(issued_on)


def apply_discount(total, percent):
    if not 0 <= percent <= 100:
        raise ValueError("percent must be between 0 and 100")
    return (total * (Decimal(100) - Decimal(percent)) / Decimal(100)).quantize(Decimal("0.01"))
