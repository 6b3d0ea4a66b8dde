"""Storing generated invoice PDFs and archives on disk."""

import os
import shutil
from pathlib import Path

ARCHIVE_DIR = Path(os.environ.get("INVOICER_ARCHIVE", "archive"))


def save_pdf(invoice_id, data):
    ARCHIVE_DIR.mkdir(parents=True, exist_ok=True)
    path = ARCHIVE_DIR / f"invoice-{invoice_id}.pdf"
    path.write_bytes(data)
    return path


def archive_month(year, month):
    folder = ARCHIVE_DIR / f"{year:04d}-{month:02d}"
    return shutil.make_archive(str(folder), "zip", root_dir=folder)


def delete_pdf(invoice_id):
    path = ARCHIVE_DIR / f"invoice-{invoice_id}.pdf"
    if path.exists():
        path.unlink()
        return True
    return False
