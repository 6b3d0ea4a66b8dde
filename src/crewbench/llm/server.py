"""The simulator as an OpenAI-compatible HTTP endpoint on 127.0.0.1 (``crewbench sim-serve``).

It lets the real-provider path (CrewAI's own OpenAI provider, ``openai/<name>`` + ``base_url``)
be exercised without keys or network. Faults are switchable at run time: ``POST /_faults``
with ``{"faults": ["429", "500", "slow"]}`` queues one fault per upcoming request. ``GET
/_received`` returns the request bodies it has seen (for tests that check what a model was
sent, e.g. that PII was redacted). Everything it answers is simulated.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import deque
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

from crewbench.errors import ModelError
from crewbench.llm.profiles import sim_profile
from crewbench.llm.tokens import count_message_tokens, count_tokens

__all__ = ["SimServer", "serve"]

FAULTS = ("429", "500", "slow")
# Bounds: the endpoint is for tests, but a runaway client must not exhaust memory or threads.
MAX_BODY_BYTES = 8_000_000     # larger requests get 413 without being read
MAX_KEPT_BODY_BYTES = 256_000  # /_received keeps a marker instead of a body this big


class SimServer:
    """A running endpoint; ``start()`` returns once it accepts connections."""

    def __init__(self, *, port: int = 0, profile: str = "small", faults: list[str] | None = None,
                 latency_scale: float = 0.0, slow_s: float = 2.0, keep_bodies: int = 500,
                 fault_rate: float = 0.0, fault_seed: int = 0):
        from crewbench.llm.sim import SimLLM

        base = sim_profile(f"sim:{profile}")
        # Over HTTP, failures come only from the fault queue so a test controls them exactly.
        self.profile = replace(base, transient_rate=0.0, malformed_rate=0.0, native_tools=True)
        self.llm = SimLLM(model=f"sim/{self.profile.name}", profile=self.profile, latency_scale=latency_scale)
        self.faults: deque[str] = deque()
        self.set_faults(faults or [])
        self.slow_s = slow_s
        if not 0.0 <= fault_rate <= 1.0:
            raise ValueError(f"fault rate {fault_rate} is not a probability; use 0.0-1.0")
        # A fault feeder: with no queued fault, a request fails with this probability (half 429,
        # half 500), seeded so that a reliability probe is repeatable.
        self.fault_rate = fault_rate
        self._fault_rng = random.Random(fault_seed)
        self.received: deque[dict] = deque(maxlen=keep_bodies)
        self.stats = {"requests": 0, "429": 0, "500": 0, "slow": 0, "ok": 0}
        self.lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def set_faults(self, faults: list[str]) -> None:
        for fault in faults:
            if str(fault) not in FAULTS:
                raise ValueError(f"unknown fault {fault!r}; use one of {', '.join(FAULTS)}")
        self.faults.extend(str(f) for f in faults)

    def start(self) -> SimServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ------------------------------------------------------------------ completions
    def complete(self, body: dict) -> tuple[int, dict]:
        with self.lock:
            self.stats["requests"] += 1
            size = body.pop("_size", 0) if isinstance(body, dict) else 0
            self.received.append(body if size <= MAX_KEPT_BODY_BYTES
                                 else {"_not_kept": f"{size} bytes", "model": body.get("model")})
            fault = self.faults.popleft() if self.faults else None
            if fault is None and self.fault_rate and self._fault_rng.random() < self.fault_rate:
                fault = self._fault_rng.choice(("429", "500"))
        if fault == "429":
            with self.lock:
                self.stats["429"] += 1
            return 429, {"error": {"message": "Rate limit exceeded (simulated)", "type": "rate_limit_error",
                                   "code": "rate_limit_exceeded"}}
        if fault == "500":
            with self.lock:
                self.stats["500"] += 1
            return 500, {"error": {"message": "Internal server error (simulated)", "type": "server_error"}}
        if fault == "slow":
            with self.lock:
                self.stats["slow"] += 1
            time.sleep(self.slow_s)
        messages = body.get("messages") or []
        tools = body.get("tools") or None
        agent = SimpleNamespace(role=_role_from(messages), tools=[], allow_delegation=bool(tools))
        reply, _ = self.llm._respond(messages, tools, None, agent, None)
        prompt_tokens = count_message_tokens(messages) + (count_tokens(json.dumps(tools)) if tools else 0)
        message: dict = {"role": "assistant", "content": None}
        if isinstance(reply, list):
            message["tool_calls"] = reply
            finish = "tool_calls"
            completion_tokens = count_tokens(json.dumps(reply))
        else:
            message["content"] = reply
            finish = "stop"
            completion_tokens = count_tokens(reply)
        self.llm._sleep(completion_tokens)
        with self.lock:
            self.stats["ok"] += 1
        return 200, {
            "id": f"chatcmpl-{uuid.uuid4().hex[:16]}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "sim"), "system_fingerprint": "crewbench-sim",
            "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        }

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test and CLI output clean
                pass

            def _send(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if status == 429:
                    self.send_header("retry-after", "0")
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> dict | None:
                """The JSON object sent, or None after answering 400/413 for a bad request."""
                raw = self.headers.get("Content-Length") or "0"
                try:
                    length = int(raw)
                except ValueError:
                    length = -1
                if length < 0:  # rfile.read(-1) would wait for the client to close: a hung thread
                    self._send(400, {"error": {"message": f"bad Content-Length {raw[:40]!r}"}})
                    return None
                if length > MAX_BODY_BYTES:
                    self.close_connection = True
                    self._send(413, {"error": {"message": f"body over {MAX_BODY_BYTES} bytes"}})
                    return None
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except (ValueError, RecursionError):
                    self._send(400, {"error": {"message": "body is not JSON"}})
                    return None
                if not isinstance(body, dict):
                    self._send(400, {"error": {"message": "body must be a JSON object"}})
                    return None
                body["_size"] = length
                return body

            def do_GET(self):
                if self.path.rstrip("/") in ("/v1/models", "/models"):
                    self._send(200, {"object": "list", "data": [{"id": f"sim-{server.profile.name}", "object": "model",
                                                            "owned_by": "crewbench-sim"}]})
                elif self.path == "/_received":
                    self._send(200, {"received": list(server.received), "stats": server.stats})
                elif self.path == "/health":
                    self._send(200, {"ok": True, "simulated": True})
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}"}})

            def do_POST(self):
                body = self._body()
                if body is None:
                    return
                if self.path.rstrip("/").endswith("/chat/completions"):
                    try:
                        status, payload = server.complete(body)
                    except Exception as exc:  # noqa: BLE001 — a malformed request answers 400, never drops
                        status, payload = 400, {"error": {"message": f"cannot answer: {type(exc).__name__}: "
                                                                     f"{str(exc)[:200]}"}}
                    self._send(status, payload)
                elif self.path == "/_faults":
                    body.pop("_size", None)
                    try:
                        faults = body.get("faults", [])
                        server.set_faults([str(f) for f in faults] if isinstance(faults, list) else [faults])
                    except ValueError as exc:
                        self._send(400, {"error": {"message": str(exc)}})
                        return
                    self._send(200, {"queued": list(server.faults)})
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}"}})

        return Handler


def _role_from(messages: list[dict]) -> str | None:
    for message in messages:
        content = message.get("content")
        if message.get("role") == "system" and isinstance(content, str) and content.startswith("You are "):
            return content[len("You are "):].split(".", 1)[0].strip()
    return None


def serve(*, port: int, profile: str, faults: list[str], latency_scale: float) -> None:
    if not 0 <= port <= 65535:
        raise ModelError(f"--port {port} is not a port; use 1-65535 (0 picks a free one)")
    if latency_scale < 0:
        raise ModelError("--latency-scale must not be negative")
    try:
        server = SimServer(port=port, profile=profile, faults=faults, latency_scale=latency_scale)
    except ValueError as exc:
        raise ModelError(f"{exc}") from None
    except OSError as exc:
        raise ModelError(f"cannot listen on 127.0.0.1:{port} ({exc.strerror or exc}); "
                         "pick another --port") from None
    print(f"crewbench sim ({profile}, SIMULATED) on {server.base_url} — use --model openai/sim-{profile} "
          f"--base-url {server.base_url}; Ctrl-C stops it", flush=True)
    try:
        server._httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._httpd.server_close()
