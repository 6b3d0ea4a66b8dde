"""An OpenAI-compatible endpoint that lists its models and then never answers a completion.

Shared by tests/test_reliability_probes.py and bench/bench_hardening.py (a support module,
like browser_support.py: no test module imports another).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

__all__ = ["HangingEndpoint"]


class HangingEndpoint:
    """``with HangingEndpoint() as endpoint:`` — ``endpoint.url`` (``…/v1``) and ``endpoint.posts``,
    the monotonic time of every completion request it received (each one hangs for 60 s)."""

    def __init__(self) -> None:
        self.posts: list[float] = []
        posts = self.posts

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # the preflight's model list answers, so the run starts
                body = json.dumps({"object": "list", "data": [{"id": "x", "object": "model"}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                posts.append(time.monotonic())
                time.sleep(60)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> Self:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
