"""Secrets out of URLs before anything is stored, logged or shown.

A ``--base-url`` may carry credentials (``https://user:pass@host/v1`` or ``?api_key=...``);
runs.db keeps an experiment's configuration forever and exports copy it, so the stored form
has them replaced. The live value (from the command line or $CREWBENCH_BASE_URL) is used only
in memory to make the LLM.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["REDACTED", "redact_url"]

REDACTED = "REDACTED"
_SECRET_PARAMS = ("key", "api_key", "apikey", "token", "access_token", "secret", "password",
                  "sig", "signature", "auth")


def redact_url(url: str | None) -> str | None:
    """``url`` with any user:password and secret-looking query values replaced."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, host = netloc.rpartition("@")
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}:{REDACTED}@{host}" if ":" in userinfo else f"{REDACTED}@{host}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            query = urlencode([(k, REDACTED if k.lower() in _SECRET_PARAMS else v) for k, v in pairs])
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:  # not a URL we can take apart: store nothing of it
        return REDACTED
