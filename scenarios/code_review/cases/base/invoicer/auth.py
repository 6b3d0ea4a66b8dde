"""API tokens for the invoicer's customer portal."""

import hashlib
import hmac
import os
import secrets


def new_token():
    return secrets.token_urlsafe(32)


def hash_password(password, salt=None):
    salt = salt or os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 310_000)
    return salt, digest


def check_password(password, salt, digest):
    _, candidate = hash_password(password, salt)
    return hmac.compare_digest(candidate, digest)
