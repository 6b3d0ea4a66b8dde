"""CSV and summary reports over invoices."""

import csv
import io


def to_csv(rows, columns):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue()


def summarise(invoices):
    total = sum(inv["gross"] for inv in invoices)
    unpaid = [inv for inv in invoices if inv.get("paid_at") is None]
    return {"count": len(invoices), "total": total, "unpaid": len(unpaid)}


def top_customers(invoices, n=5):
    by_customer = {}
    for inv in invoices:
        by_customer[inv["customer_id"]] = by_customer.get(inv["customer_id"], 0) + inv["gross"]
    ranked = sorted(by_customer.items(), key=lambda item: item[1], reverse=True)
    return ranked[:n]
