"""Check a model before the first run spends anything: ``preflight(model, base_url=...)``.

Without it a typo (``foo/bar``), a missing key or a stopped server turned every run of an
experiment into an error, with exit status 0 and the reason only in runs.db. Three checks,
cheapest first, each refusing with a ``ModelError`` that says why and how to fix it:

1. the provider resolves (a prefix CrewAI supports natively; LiteLLM is not installed);
2. its key is in the environment (keys are never read from anywhere else);
3. a local endpoint (``base_url``, ollama, hosted vLLM) answers one ``GET <base>/models``
   with a short timeout. Hosted providers are not called: that would need the network and
   could be billed; their key check is what a run needs first.

The simulator (``sim:...``) needs none of this and is skipped.
"""

from __future__ import annotations

import importlib.util
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from crewbench.definitions.settings import environment, key_present, load_settings
from crewbench.errors import ModelError
from crewbench.llm.profiles import parse_model

__all__ = ["PROVIDERS", "Preflight", "endpoint_answers", "local_endpoint", "ollama_base_url", "preflight"]

# provider prefix -> (canonical provider, environment variables of which one must be set).
# The names CrewAI 1.15 routes natively (crewai/llm.py SUPPORTED_NATIVE_PROVIDERS).
PROVIDERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "openai": ("openai", ("OPENAI_API_KEY",)),
    "anthropic": ("anthropic", ("ANTHROPIC_API_KEY",)),
    "claude": ("anthropic", ("ANTHROPIC_API_KEY",)),
    "gemini": ("gemini", ("GEMINI_API_KEY", "GOOGLE_API_KEY")),
    "google": ("gemini", ("GEMINI_API_KEY", "GOOGLE_API_KEY")),
    "azure": ("azure", ("AZURE_API_KEY",)),
    "azure_openai": ("azure", ("AZURE_API_KEY",)),
    "bedrock": ("bedrock", ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_BEARER_TOKEN_BEDROCK")),
    "aws": ("bedrock", ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_BEARER_TOKEN_BEDROCK")),
    "openrouter": ("openrouter", ("OPENROUTER_API_KEY",)),
    "deepseek": ("deepseek", ("DEEPSEEK_API_KEY",)),
    "cerebras": ("cerebras", ("CEREBRAS_API_KEY",)),
    "dashscope": ("dashscope", ("DASHSCOPE_API_KEY",)),
    "deepinfra": ("deepinfra", ("DEEPINFRA_API_KEY",)),
    "snowflake": ("snowflake", ()),
    "ollama": ("ollama", ()),
    "ollama_chat": ("ollama", ()),
    "hosted_vllm": ("hosted_vllm", ()),
}
# Bare model names CrewAI routes by their look (``gpt-4o`` -> openai).
_BARE = (("gpt-", "openai"), ("o1", "openai"), ("o3", "openai"), ("o4", "openai"),
         ("claude-", "anthropic"))
# Providers that need a crewai extra: the SDK module CrewAI imports for them.
_SDKS = {"anthropic": ("anthropic", "crewai[anthropic]"), "gemini": ("google.genai", "crewai[google-genai]"),
         "azure": ("azure.ai.inference", "crewai[azure-ai-inference]"), "bedrock": ("boto3", "crewai[bedrock]")}
TIMEOUT_S = 3.0


@dataclass
class Preflight:
    """What was checked, for the CLI's one line and the Run page's caption."""

    model: str
    provider: str = "sim"
    checks: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"preflight {self.model}: " + ("; ".join(self.checks) or "simulator, nothing to check")


def ollama_base_url(env: Mapping[str, str] | None = None) -> str:
    """Where CrewAI's ollama provider connects: ``$OLLAMA_HOST`` (bare host, host:port or URL),
    normalised the way CrewAI does, else http://localhost:11434/v1."""
    env = environment(env)
    raw = env.get("OLLAMA_HOST") or "http://localhost:11434/v1"
    if "://" not in raw:
        raw = f"http://{raw}"
    parts = urlsplit(raw)
    netloc = parts.netloc if parts.scheme != "http" or parts.port else f"{parts.netloc}:11434"
    path = parts.path.rstrip("/")
    path = path if path.endswith("/v1") else f"{path}/v1"
    return urlunsplit((parts.scheme, netloc, path, "", ""))


def local_endpoint(provider: str, base_url: str | None, env: Mapping[str, str] | None = None) -> str | None:
    """The OpenAI-compatible base URL to probe, or None for a hosted provider."""
    env = environment(env)
    if base_url:
        return base_url
    if provider == "ollama":
        return ollama_base_url(env)
    if provider == "hosted_vllm":
        return env.get("VLLM_BASE_URL") or "http://localhost:8000/v1"
    return None


def endpoint_answers(base: str, timeout_s: float = TIMEOUT_S) -> tuple[bool, str]:
    """(answered, detail): one GET <base>/models. Any HTTP status counts as an answer (a server
    without /models still serves chat); only no connection, a timeout or a bad URL do not."""
    from crewbench.llm.redact import redact_url

    parts = urlsplit(base.rstrip("/") + "/models")
    if parts.scheme not in ("http", "https"):
        return False, f"{redact_url(base)!r} is not an http(s) URL"
    # Credentials never reach a message; the probe goes without them (a 401 is an answer too).
    url = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="GET"), timeout=timeout_s) as reply:
            status = reply.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return False, f"no answer from {url} within {timeout_s:g} s ({reason})"
    return True, f"{url} answered HTTP {status} in {(time.perf_counter() - started) * 1000:.0f} ms"


def _provider(model: str) -> str:
    prefix, slash, rest = model.partition("/")
    if not slash:
        for start, provider in _BARE:
            if model.startswith(start):
                return provider
        raise ModelError(f"model {model!r} names no provider; write it as provider/name, e.g. "
                         f"openai/{model} or ollama/{model} (the simulator is sim:small)")
    if prefix not in PROVIDERS:
        known = ", ".join(sorted(p for p in PROVIDERS if PROVIDERS[p][0] == p))
        raise ModelError(f"model {model!r}: provider {prefix!r} is not one CrewAI supports natively "
                         f"(LiteLLM, which would route it, is not installed); use one of {known}, "
                         "or openai/<name> with --base-url for any OpenAI-compatible server")
    if not rest:
        raise ModelError(f"model {model!r} has no model name after {prefix}/; e.g. {prefix}/<name>")
    return PROVIDERS[prefix][0]


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def preflight(model: str, *, base_url: str | None = None, env: Mapping[str, str] | None = None,
              timeout_s: float = TIMEOUT_S, offline: bool = False) -> Preflight:
    """Refuse (ModelError) a model that cannot work; return what was checked otherwise.
    ``offline``: the calls are answered from a recording (``--replay``), so neither a key nor
    the endpoint is needed."""
    env = environment(env)
    model, profile = parse_model(model)
    if profile is not None:
        return Preflight(model)
    base_url = base_url or load_settings(env).base_url_value()
    provider = _provider(model)
    result = Preflight(model, provider, [f"provider {provider}"])
    if provider in _SDKS:
        module, extra = _SDKS[provider]
        if not _importable(module):
            raise ModelError(f"model {model!r}: CrewAI needs the {module} package for {provider} and it is "
                             f"not installed; pip install '{extra}'")
    prefix = model.partition("/")[0] if "/" in model else provider
    variables = PROVIDERS.get(prefix, (provider, ()))[1]
    # An OpenAI-compatible server behind base_url takes any key (make_llm supplies one).
    if variables and not offline and not (base_url and provider == "openai"):
        present = key_present(*variables, environ=env)
        if present is None:
            names = " or ".join(variables)
            raise ModelError(
                f"model {model!r} needs {names} in the environment and it is not set; "
                f"export {variables[0]}=... in the shell that starts crewbench (keys are read from "
                "the environment only), or use the simulator: --model sim:small")
        result.checks.append(f"key {present} set")
    endpoint = None if offline else local_endpoint(provider, base_url, env)
    if endpoint:
        ok, detail = endpoint_answers(endpoint, timeout_s)
        if not ok:
            start = "start it (`ollama serve`) or set OLLAMA_HOST" if provider == "ollama" and not base_url \
                else "start the server or fix --base-url"
            raise ModelError(f"model {model!r}: the endpoint does not answer — {detail}; {start}")
        result.checks.append(detail)
    return result
