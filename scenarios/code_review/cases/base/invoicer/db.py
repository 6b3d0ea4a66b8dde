"""Database access for invoices and customers."""

import sqlite3
from contextlib import closing

DB_PATH = "invoicer.db"


def connect(path=DB_PATH):
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    return conn


def get_customer(conn, customer_id):
    with closing(conn.cursor()) as cur:
        cur.execute("SELECT * FROM customers WHERE id = ?", (customer_id,))
        return cur.fetchone()


def list_invoices(conn, customer_id, page=1, page_size=20):
    offset = (page - 1) * page_size
    with closing(conn.cursor()) as cur:
        cur.execute(
            "SELECT * FROM invoices WHERE customer_id = ? ORDER BY issued_at DESC LIMIT ? OFFSET ?",
            (customer_id, page_size, offset),
        )
        return cur.fetchall()


def mark_paid(conn, invoice_id, paid_at):
    with conn:
        conn.execute("UPDATE invoices SET paid_at = ? WHERE id = ?", (paid_at, invoice_id))
