"""An export's LLM for a model behind a base URL, written the way CrewAI's loaders really honour.

CrewAI only uses its own OpenAI client for an unknown model name (``openai/<local-alias>``) when a
base URL is passed in code; a bare string falls back to LiteLLM, which is not installed, and an
environment variable is not enough. What does load (checked by tests/test_llm_config.py, which
kicks each export off against sim-serve):

* JSON project (``crew.jsonc`` + ``agents/*.jsonc``) and bare definitions: the agent's ``llm`` is
  an object ``{"model": ..., "base_url": ...}``.
* classic project: a mapping as ``llm`` in ``agents.yaml`` crashes CrewAI's ``crew_base`` loader
  (``unhashable type: 'dict'``), so ``agents.yaml`` carries no ``llm`` and ``crew.py`` passes
  ``llm=LLM(model=..., base_url=...)`` to each agent.

With ``max_tokens`` the LLM also carries the output cap a run uses (``crewbench run
--max-tokens``): a small local model without one rambles to its context limit on every call.

API keys are never written: CrewAI's ``LLM`` reads ``OPENAI_API_KEY`` from the environment (any
value will do for a local server).

Use: ``files = with_base_url(render_export(spec, fmt, model=model), fmt, model, base_url)``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from crewbench.definitions.yamlio import dump_yaml, load_yaml_text
from crewbench.errors import ExportError
from crewbench.llm.redact import redact_url

__all__ = ["llm_object", "with_base_url"]


def llm_object(model: str, base_url: str, max_tokens: int | None = None) -> dict[str, Any]:
    llm: dict[str, Any] = {"model": model, "base_url": base_url}
    if max_tokens:
        llm["max_tokens"] = int(max_tokens)
    return llm


def _check(base_url: str) -> None:
    if not re.match(r"^https?://[^\s/@]+(:\d+)?(/\S*)?$", base_url or ""):
        # The URL is shown redacted: a password in it must not reach the terminal or a CI log.
        raise ExportError(f"base URL {redact_url(base_url)!r} is not an http(s) URL without credentials; "
                          "pass e.g. http://127.0.0.1:8080/v1 (keys go in OPENAI_API_KEY, never in the URL)")


def _split_comments(text: str) -> tuple[list[str], str]:
    lines = text.splitlines()
    header = [line for line in lines if line.lstrip().startswith(("//", "#"))]
    body = "\n".join(line for line in lines if not line.lstrip().startswith(("//", "#")))
    return header, body


def _swap(llm: Any, model: str, base_url: str, max_tokens: int | None) -> Any:
    if llm == model:
        return llm_object(model, base_url, max_tokens)
    if isinstance(llm, dict) and llm.get("model") == model and "base_url" not in llm:
        return {**llm_object(model, base_url, max_tokens), **llm}
    return llm


def _agent_file(text: str, model: str, base_url: str, max_tokens: int | None) -> str:
    header, body = _split_comments(text)
    data = json.loads(body)
    data["llm"] = _swap(data.get("llm"), model, base_url, max_tokens)
    return "\n".join(header) + "\n" + json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _definition(text: str, fmt: str, model: str, base_url: str, max_tokens: int | None) -> str:
    header, body = _split_comments(text)
    data = json.loads(body) if fmt == "json" else load_yaml_text(body)
    for agent in (data.get("agents") or {}).values():
        if isinstance(agent, dict):
            agent["llm"] = _swap(agent.get("llm"), model, base_url, max_tokens)
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return "\n".join(header) + "\n" + dump_yaml(data)


_AGENT_CALL = re.compile(r"return Agent\(config=self\.agents_config\[(?P<name>'[^']+')\]\)")


def _classic(files: dict[str, str], model: str, base_url: str, max_tokens: int | None) -> dict[str, str]:
    out = dict(files)
    for path, text in files.items():
        if path.endswith("/config/agents.yaml"):
            header, body = _split_comments(text)
            agents = load_yaml_text(body) or {}
            for agent in agents.values():
                if isinstance(agent, dict) and agent.get("llm") == model:
                    del agent["llm"]  # crew.py passes the LLM; a mapping here crashes CrewAI
            out[path] = "\n".join(header) + "\n" + dump_yaml(agents)
        elif path.endswith("/crew.py"):
            cap = f", max_tokens={int(max_tokens)}" if max_tokens else ""
            helper = ("\n\ndef _llm():\n"
                      f'    """{model} at {base_url}; the key comes from OPENAI_API_KEY."""\n'
                      f"    return LLM(model={model!r}, base_url={base_url!r}{cap})\n")
            text = text.replace("from crewai import Agent, Crew, Process, Task",
                                "from crewai import LLM, Agent, Crew, Process, Task", 1)
            text = _AGENT_CALL.sub(lambda m: f"return Agent(config=self.agents_config[{m['name']}], llm=_llm())",
                                   text)
            marker = "\n\n@CrewBase"
            out[path] = text.replace(marker, helper + marker, 1) if marker in text else text + helper
    return out


def with_base_url(files: dict[str, str], fmt: str, model: str, base_url: str | None,
                  max_tokens: int | None = None) -> dict[str, str]:
    """``files`` (an export's relative path -> text) with every agent on ``model`` pointed at
    ``base_url`` (and capped at ``max_tokens`` output tokens per call, when given). No base URL:
    the files unchanged."""
    if not base_url:
        return files
    _check(base_url)
    if fmt == "classic":
        return _classic(files, model, base_url, max_tokens)
    out = dict(files)
    for path, text in files.items():
        if fmt == "jsonc" and path.startswith("agents/") and path.endswith(".jsonc"):
            out[path] = _agent_file(text, model, base_url, max_tokens)
        elif fmt in ("yaml", "json") and "/" not in path and path.endswith(f".{fmt}"):
            out[path] = _definition(text, fmt, model, base_url, max_tokens)
    return out
