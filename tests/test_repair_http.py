"""The repair on the real provider path: CrewAI's own OpenAI client against a small
OpenAI-compatible server that, like a small local model, writes its tool call as fenced JSON."""

from __future__ import annotations

import copy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from crewbench.engine import ExperimentConfig, run_experiment

FENCED = '```json\n{"name": "team_directory", "arguments": {"problem": "charged twice"}}\n```'


class _TextToolCaller(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        answered = any(m.get("role") == "tool" for m in body["messages"])
        content = '{"team": "billing", "priority": "normal"}' if answered else FENCED
        reply = {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                 "choices": [{"index": 0, "finish_reason": "stop",
                              "message": {"role": "assistant", "content": content}}],
                 "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def text_server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _TextToolCaller)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("repair", [False, True])
def test_repair_through_crewais_openai_provider(workspace, store, text_server, repair):
    crew = copy.deepcopy(workspace.crew("mini_sequential"))
    crew.tasks = crew.tasks[:1]
    seen = []
    run_experiment(ExperimentConfig(crews=[crew], reps=1, case_ids=["refund-double-charge"],
                                    model="openai/small-local", base_url=text_server, concurrency=1,
                                    backoff_s=0, repair_tool_calls=repair),
                   store=store, workspace=workspace, progress=lambda s: seen.append(s.last))
    run = seen[-1]
    tools = [t["tool"] for t in store.tool_calls(run["id"])]
    assert run["prompt_tokens"] == 11 * run["llm_calls"], "usage still comes from the server"
    if repair:
        assert tools == ["team_directory"] and run["tool_calls_repaired"] == 1
        assert run["status"] == "success"
    else:
        assert tools == [] and run["failure_causes"][0] == "tool_call_as_text"
