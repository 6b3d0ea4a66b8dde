"""One way to get an LLM for an agent: ``make_llm(model)``.

``sim:<profile>`` gives the embedded simulator; anything else goes to CrewAI's own ``LLM``
class (native providers and OpenAI-compatible servers through ``base_url``). Keys are read from
the environment by the providers themselves; crewbench never stores or logs them.
"""

from __future__ import annotations

from dataclasses import replace

from crewbench.compat.hygiene import import_crewai
from crewbench.definitions.settings import key_present, load_settings
from crewbench.errors import ModelError
from crewbench.llm.profiles import SimProfile, parse_model
from crewbench.llm.redact import REDACTED

__all__ = ["KEY_VARIABLES", "available_providers", "make_llm"]

KEY_VARIABLES = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "azure": "AZURE_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "cerebras": "CEREBRAS_API_KEY",
}


def available_providers() -> dict[str, bool]:
    """Which providers have a key in the environment (the simulator and ollama need none)."""
    found = {"sim": True, "ollama": True}
    for provider, variable in KEY_VARIABLES.items():
        found[provider] = key_present(variable) is not None
    return found


def make_llm(model: str, *, base_url: str | None = None, latency_scale: float = 1.0,
             fixed_latency_s: float | None = None, sim_overrides: dict | None = None,
             timeout_s: float | None = None, max_tokens: int | None = None, cassette=None):
    """A fresh LLM instance. Never share one between agents or runs: usage counters are per instance."""
    model, profile = parse_model(model)
    import_crewai()
    if profile is not None:
        from crewbench.llm.sim import SimLLM

        if sim_overrides:
            try:
                profile = replace(profile, **sim_overrides)
            except TypeError as exc:
                raise ModelError(f"bad sim override: {exc}; valid keys: {', '.join(SimProfile.__dataclass_fields__)}") from None
        return SimLLM(model=f"sim/{profile.name}", profile=profile, latency_scale=latency_scale,
                      fixed_latency_s=fixed_latency_s)
    from crewai import LLM

    kwargs = {"model": model}
    configured = load_settings().base_url_value()
    if base_url and REDACTED in base_url:
        # A resumed experiment: runs.db keeps the URL without its credentials.
        if not configured:
            raise ModelError(f"the stored base URL {base_url} had its credentials removed; set "
                             "CREWBENCH_BASE_URL to the full URL to resume")
        base_url = None
    base_url = base_url or configured
    if base_url:
        kwargs["base_url"] = base_url
        if model.startswith("openai/") and key_present("OPENAI_API_KEY") is None:
            # OpenAI-compatible local servers accept any key; the SDK insists on one.
            kwargs["api_key"] = "not-needed"
    if timeout_s:
        kwargs["timeout"] = timeout_s
    if max_tokens:
        # Without a cap a small model rambles to the context limit (issue 16): bound every call.
        kwargs["max_tokens"] = max_tokens
    if model.startswith("openai/"):
        # The OpenAI SDK retries twice on its own, invisibly: crewbench owns the retry policy
        # (engine/retry.py) and records every attempt, so the SDK must not retry.
        kwargs["max_retries"] = 0
    try:
        llm = LLM(**kwargs)
        if cassette is not None:
            cassette.attach(llm)
        return llm
    except ImportError as exc:
        raise ModelError(f"model {model!r} needs a provider CrewAI does not have installed ({exc}); "
                         "use a native provider prefix such as openai/, anthropic/ or ollama/") from None
    except Exception as exc:  # noqa: BLE001 - provider SDKs raise anything on bad settings
        raise ModelError(f"cannot create model {model!r}: {exc}") from None


def billed_model(model: str) -> str:
    """The model whose catalog price applies: the sim's ``billed_as``, else the model itself."""
    model, profile = parse_model(model)
    return profile.billed_as if profile is not None else model
