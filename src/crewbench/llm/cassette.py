"""Record and replay real provider traffic: one paid run becomes a free, offline CI test.

The cassette sits at the HTTP layer, under the OpenAI SDK client that CrewAI's OpenAI provider
builds (``openai/<model>``, with or without ``base_url``): an httpx transport that either
forwards a request and writes the exchange (``--record``) or answers it from the file without
touching the network (``--replay``). A request is matched on its method, path and JSON body
(keys sorted); headers — where the API key lives — are never stored, and secrets that appear in
bodies are masked in the readable copy. Identical requests replay their recorded answers in
order (the last one again once they run out); a request with no recording fails loudly, naming it.

File: JSON lines, one exchange each: ``{"key", "method", "path", "request", "status",
"headers", "body"}``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import defaultdict
from pathlib import Path

from crewbench.errors import ModelError
from crewbench.llm.redact import redact_secrets

__all__ = ["Cassette", "MissingRecording", "request_key"]

_KEPT_HEADERS = ("content-type",)


class MissingRecording(ModelError):
    """A replayed experiment made a request the cassette has no answer for."""


def _canonical_body(content: bytes) -> str:
    if not content:
        return ""
    try:
        return json.dumps(json.loads(content), sort_keys=True, separators=(",", ":"))
    except ValueError:
        return content.decode("utf-8", "replace")


def request_key(method: str, path: str, content: bytes) -> str:
    text = f"{method.upper()} {path}\n{_canonical_body(content)}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _describe(body: str) -> str:
    """A short, readable name for a request: its model and the start of its last message."""
    try:
        data = json.loads(body)
        last = (data.get("messages") or [{}])[-1]
        content = last.get("content") if isinstance(last, dict) else ""
        if isinstance(content, list):
            content = " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
        return f"model {data.get('model')!r}, last message {str(content)[:120]!r}"
    except (ValueError, AttributeError, TypeError):
        return body[:160]


class Cassette:
    def __init__(self, path: str | Path, mode: str):
        self.path = Path(path)
        self.mode = mode
        self._lock = threading.Lock()
        self._answers: dict[str, list[dict]] = defaultdict(list)
        self._served: dict[str, int] = defaultdict(int)
        self.recorded = 0
        self.replayed = 0
        self.missing: list[str] = []
        self.on_missing = None  # the runner stops the experiment at the first missing recording
        if mode == "replay":
            if not self.path.is_file():
                raise ModelError(f"{self.path}: no such cassette; record one with 'crewbench run --record'")
            for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                    self._answers[entry["key"]].append(entry)
                except (ValueError, KeyError):
                    raise ModelError(f"{self.path}: line {number} is not a cassette entry; "
                                     "record the cassette again") from None
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    @classmethod
    def open(cls, *, record: str | None = None, replay: str | None = None) -> Cassette:
        return cls(replay, "replay") if replay else cls(record, "record")

    # -- the transport's two halves --------------------------------------------------------
    def answer(self, request):
        import httpx

        content = request.read()
        key = request_key(request.method, request.url.path, content)
        with self._lock:
            entries = self._answers.get(key)
            if not entries:
                message = (f"{self.path}: no recording for {request.method} {request.url.path} "
                           f"({_describe(_canonical_body(content))}); the crews, cases or model "
                           "changed since it was recorded: record it again with --record")
                self.missing.append(message)
                if self.on_missing is not None:
                    self.on_missing()
                raise MissingRecording(message)
            index = min(self._served[key], len(entries) - 1)
            self._served[key] += 1
            self.replayed += 1
            entry = entries[index]
        return httpx.Response(entry["status"], headers=entry.get("headers") or {},
                              content=entry["body"].encode("utf-8"), request=request)

    def write(self, request, content: bytes, response) -> None:
        body = response.read().decode("utf-8", "replace")
        canonical = _canonical_body(content)
        entry = {
            "key": request_key(request.method, request.url.path, content),
            "method": request.method, "path": request.url.path,
            "request": redact_secrets(canonical),
            "status": response.status_code,
            "headers": {k: v for k, v in response.headers.items() if k.lower() in _KEPT_HEADERS},
            "body": redact_secrets(body),
        }
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, sort_keys=True) + "\n")
            self.recorded += 1

    # -- wiring into CrewAI's OpenAI provider ---------------------------------------------
    def transports(self):
        import httpx

        cassette = self

        class SyncTransport(httpx.HTTPTransport):
            def handle_request(self, request):
                if cassette.mode == "replay":
                    return cassette.answer(request)
                content = request.read()
                response = super().handle_request(request)
                response.read()
                cassette.write(request, content, response)
                return response

        class AsyncTransport(httpx.AsyncHTTPTransport):
            async def handle_async_request(self, request):
                if cassette.mode == "replay":
                    return cassette.answer(request)
                content = request.read()
                response = await super().handle_async_request(request)
                await response.aread()
                cassette.write(request, content, response)
                return response

        return SyncTransport(), AsyncTransport()

    def attach(self, llm) -> None:
        """Route ``llm``'s HTTP traffic through the cassette (OpenAI-compatible models only)."""
        if not hasattr(llm, "_get_client_params") or getattr(llm, "provider", None) not in (None, "openai"):
            raise ModelError(f"--record/--replay support openai/<model> models (any OpenAI-compatible "
                             f"server with --base-url); {getattr(llm, 'model', llm)!r} is not one")
        import httpx
        from openai import AsyncOpenAI, OpenAI

        if self.mode == "replay" and not llm.api_key:
            llm.api_key = "replay-needs-no-key"  # nothing leaves the machine in replay
        params = llm._get_client_params()
        sync, asynchronous = self.transports()
        llm._client = OpenAI(**params, http_client=httpx.Client(transport=sync))
        llm._async_client = AsyncOpenAI(**params, http_client=httpx.AsyncClient(transport=asynchronous))
