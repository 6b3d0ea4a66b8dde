"""Simulator profiles and model strings.

A model string is either a simulator profile, ``sim:<profile>`` (``sim:small``,
``sim:strong+native`` for native tool calling), or anything CrewAI's ``LLM`` accepts
(``openai/gpt-4o-mini``, ``anthropic/claude-3-5-haiku-latest``, ``ollama/llama3``...).

Profile numbers are the simulator's knobs, not measurements of the models they are billed as;
they are shown next to every simulated result. docs/simulator.md explains each mechanism.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from crewbench.errors import ModelError

__all__ = ["PROFILES", "SimProfile", "is_sim", "parse_model", "sim_profile"]


@dataclass(frozen=True)
class SimProfile:
    name: str
    billed_as: str            # the real model whose catalog price the sim's tokens are billed at
    accuracy: float           # chance a fitted specialist gets its step right on a medium case
    malformed_rate: float     # chance a reply is malformed (bad action JSON / broken final JSON)
    transient_rate: float     # chance a call fails like a provider: 429, 500/503 or a timeout
    catch_rate: float         # chance a verifying role catches and fixes an upstream error
    handoff_loss: float       # chance a handoff between agents drops or distorts information
    load_penalty: float       # accuracy lost per extra tool and per 1k prompt tokens a generalist carries
    ttft_s: float             # time to first token
    tokens_per_s: float       # generation speed
    native_tools: bool = False
    # Scales every perturbation mechanism (llm/perturbation.py); 0 = the old noise-only world.
    perturbation_sensitivity: float = 1.0
    context_window: int = 128_000

    def describe(self) -> dict:
        return asdict(self)


PROFILES: dict[str, SimProfile] = {
    "weak": SimProfile("weak", "gpt-3.5-turbo", accuracy=0.50, malformed_rate=0.06,
                       transient_rate=0.03, catch_rate=0.45, handoff_loss=0.06,
                       load_penalty=0.04, ttft_s=0.20, tokens_per_s=110),
    "small": SimProfile("small", "gpt-4o-mini", accuracy=0.78, malformed_rate=0.02,
                        transient_rate=0.02, catch_rate=0.55, handoff_loss=0.05,
                        load_penalty=0.03, ttft_s=0.25, tokens_per_s=95),
    "strong": SimProfile("strong", "gpt-4o", accuracy=0.93, malformed_rate=0.005,
                         transient_rate=0.01, catch_rate=0.65, handoff_loss=0.04,
                         load_penalty=0.015, ttft_s=0.40, tokens_per_s=70),
}


def is_sim(model: str | None) -> bool:
    return bool(model) and str(model).startswith("sim:")


def sim_profile(model: str) -> SimProfile:
    """``sim:small`` → the small profile; ``+native`` switches on native tool calling."""
    spec = model.removeprefix("sim:")
    name, _, flags = spec.partition("+")
    if name not in PROFILES:
        raise ModelError(f"unknown sim profile {name!r}; use one of: "
                         + ", ".join(f"sim:{p}" for p in PROFILES))
    profile = PROFILES[name]
    for flag in filter(None, flags.split("+")):
        if flag == "native":
            profile = replace(profile, native_tools=True)
        else:
            raise ModelError(f"unknown sim option {flag!r} in {model!r}; the only option is '+native'")
    return profile


def parse_model(model: str | None) -> tuple[str, SimProfile | None]:
    """Normalise a model string; returns (model, profile or None for real providers)."""
    if not model or not str(model).strip():
        raise ModelError("no model given; pass --model sim:small (offline) or a provider model such as openai/gpt-4o-mini")
    model = str(model).strip()
    if is_sim(model):
        return model, sim_profile(model)
    if any(ch.isspace() for ch in model):
        raise ModelError(f"model {model!r} contains spaces; write it as provider/name, e.g. openai/gpt-4o-mini")
    return model, None
