"""Secrets out of URLs and text before anything is stored, logged or shown, and the size cap
of stored text.

A ``--base-url`` may carry credentials (``https://user:pass@host/v1`` or ``?api_key=...``);
runs.db keeps an experiment's configuration forever and exports copy it, so the stored form
has them replaced. The live value (from the command line or $CREWBENCH_BASE_URL) is used only
in memory to make the LLM.

``SECRET_PATTERN`` is the one pattern of API-key-shaped strings (OpenAI-style ``sk-…``, bearer
tokens, AWS access key ids, ``api_key=…``): the cassette masks it in recorded bodies, telemetry
and approvals in every trace text they store, the runner in a run's output and error, the CLI
in the provider log lines it summarises. ``storable_text`` is the storage rule for trace text: secrets
masked first, then at most ``TRACE_TEXT_LIMIT`` characters with a marker saying how many were cut;
``storable_error`` is the rule for an error message: secrets masked, a short cut without marker.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["REDACTED", "SECRET_MASK", "SECRET_PATTERN", "TRACE_TEXT_LIMIT", "cap_text", "redact_secrets",
           "redact_url", "storable_error", "storable_text"]

# The lookbehind keeps words like "risk-assessment" whole: a key never follows a letter or digit.
SECRET_PATTERN = re.compile(r"((?<![A-Za-z0-9])sk-[A-Za-z0-9_\-]{8,}|Bearer\s+[A-Za-z0-9._\-]+|AKIA[0-9A-Z]{16}"
                            r"|(?i:api[_-]?key)=[^\s&\"']+)")
SECRET_MASK = "<redacted>"
TRACE_TEXT_LIMIT = 20_000   # characters of one stored trace text (a message, a response, a tool result)

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


def redact_secrets(text: str) -> str:
    """``text`` with every API-key-shaped string replaced by ``SECRET_MASK``."""
    return SECRET_PATTERN.sub(SECRET_MASK, text)


def cap_text(text: str, limit: int | None = None) -> str:
    """At most ``limit`` (default ``TRACE_TEXT_LIMIT``) characters of ``text``, and a marker
    saying how many were cut — never a silent cut."""
    limit = TRACE_TEXT_LIMIT if limit is None else limit
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…[truncated {len(text) - limit} chars]"


def storable_text(text: str | None, limit: int | None = None) -> str | None:
    """The storage rule for trace text: secrets masked first, then capped (PII, when a policy
    asks for it, is the caller's redaction before this)."""
    if text is None:
        return None
    return cap_text(redact_secrets(text), limit)


def storable_error(text: str | None, limit: int) -> str | None:
    """The storage rule for an error message (a call's or a run's): secrets masked first, then
    its first ``limit`` characters (an error is a line to read, not a trace to page through)."""
    if text is None:
        return None
    return redact_secrets(text)[:limit]
