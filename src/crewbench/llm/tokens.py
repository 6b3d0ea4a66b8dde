"""Token counts for the simulator, estimated from the actual prompt text.

tiktoken needs a network download for its encodings (see shared/library-notes.md), so the
simulator uses a documented estimate instead: text is split the way BPE pre-tokenizers split
it (words, numbers, single punctuation marks) and a word costs one token per started four
characters. On English prose this lands within ~10-15% of cl100k counts, which is enough for
the simulator's purpose: extra calls, handoffs and longer contexts cost proportionally more.
Real providers report exact usage; this estimate is only ever used for simulated runs.
"""

from __future__ import annotations

import re

__all__ = ["count_message_tokens", "count_tokens"]

_PIECES = re.compile(r"[A-Za-z]+|\d{1,3}|[^\sA-Za-z\d]")
# Chat formats add a few tokens of framing per message (role markers, separators).
MESSAGE_OVERHEAD = 4


def count_tokens(text: str) -> int:
    total = 0
    for piece in _PIECES.findall(text or ""):
        total += (len(piece) + 3) // 4 if piece[0].isalpha() else 1
    return total


def count_message_tokens(messages) -> int:
    if isinstance(messages, str):
        return count_tokens(messages)
    total = 0
    for message in messages or []:
        content = message.get("content") if isinstance(message, dict) else str(message)
        if isinstance(content, list):
            content = " ".join(str(part.get("text", "")) if isinstance(part, dict) else str(part) for part in content)
        total += count_tokens(str(content or "")) + MESSAGE_OVERHEAD
    return total
