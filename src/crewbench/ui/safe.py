"""Showing untrusted text in Streamlit without it turning into markup.

Scenario descriptions, case ids, crew and role names, grader reasons, run errors and approval
cards come from definition files, imports and model output. Streamlit renders markdown in
``st.markdown``, ``st.caption``, ``st.error``/``info``/``warning``; Plotly renders a subset of
HTML (``<a href>``, ``<img>`` is dropped, but links are live) in labels and hovers. Unescaped,
``![x](https://attacker/p.png)`` makes the browser fetch a URL and ``[approve](…)`` spoofs
what a human approves. Every such value goes through one of these helpers.
"""

from __future__ import annotations

import html
import re

__all__ = ["code", "label", "md", "plain_lines"]

# CommonMark lets any ASCII punctuation be backslash-escaped; Streamlit's directives
# (:red[...], :material/x:) use ':' and '[' which are covered too.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$=&\"'])")


def md(value: object, *, limit: int = 2000) -> str:
    """``value`` as literal text inside markdown: one line, every markup character escaped."""
    text = " ".join(str(value if value is not None else "").split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def plain_lines(value: object, *, limit: int = 4000) -> str:
    """Like ``md`` but keeps line breaks (markdown hard breaks), for multi-line messages."""
    lines = str(value if value is not None else "")[:limit].splitlines() or [""]
    return "  \n".join(md(line, limit=limit) for line in lines)


def code(value: object, *, limit: int = 200) -> str:
    """Text for inside a single-backtick code span: a backtick would end the span."""
    text = " ".join(str(value if value is not None else "").split()).replace("`", "'")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def label(value: object, *, limit: int = 200) -> str:
    """Text for a Plotly label, legend or hover: HTML-escaped so no tag or link renders."""
    text = str(value if value is not None else "")
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(text, quote=True)
