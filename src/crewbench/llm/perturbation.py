"""How a production-like perturbation changes the simulator's chance of a right answer.

Before this model the sim ignored ``case.variant``: a typo, a forwarded-mail header or a
dropped field left every probability unchanged, so the lab-vs-production gap on simulated data
was noise. Each kind now has a mechanism (docs/simulator.md, "Perturbations"), scaled by how
much of the request was perturbed (measured against the scenario's clean case, never taken
from the perturbation code) and by how brittle the profile is (``1 − accuracy``: a weaker
model is thrown more by messy input):

* ``typos`` / ``noise`` / ``paraphrase`` / a blanked sentence — the agent that first reads the
  request misreads its key fact with ``p = sensitivity × share changed × (1 − a)``;
* a dropped input field — the agent reading the request lacks part of the key fact; one that
  holds a tool looks it up (its tool call recovers it most of the time), one that does not
  either hands the case to a human (an escalation) or guesses wrong;
* ``tool_failure`` — CrewAI's tool retry hides the outage's error from the model, so the agent
  holding the failed tool works from a degraded result (stale or partial, as recovering
  services return): its step goes wrong with ``p = sensitivity × (1 − a)``.

Pure Python; ``CorrectnessModel`` calls ``input_effect`` and ``tool_effect``.
"""

from __future__ import annotations

import difflib
import random
import threading
from dataclasses import dataclass

__all__ = ["MISSING_FIELD_LOSS", "SENSITIVITY", "TOOL_RECOVERY", "Perturbation", "measure"]

# Misreads per unit of share changed and of the profile's error rate (1 − accuracy).
SENSITIVITY = {"typos": 8.0, "noise": 2.0, "paraphrase": 0.5, "missing_field": 2.0,
               "tool_failure": 0.6}
# A dropped field held part of the key fact this often (times the profile's brittleness, 1 − a,
# relative to sim:small's 0.22 so the default profile loses it 30% of the time).
MISSING_FIELD_LOSS = 0.3
# An agent with a tool recovers a missing detail by calling it this often.
TOOL_RECOVERY = 0.8
# Without a tool, this share of lost details is handed to a human instead of guessed.
ESCALATE_SHARE = 0.5
REFERENCE_BRITTLENESS = 0.22
MAX_P = 0.9


@dataclass(frozen=True)
class Perturbation:
    """What a case's variant did to its request, measured against the clean case."""

    kind: str
    share: float = 0.0            # share of the main text's words changed, added or removed
    dropped: tuple[str, ...] = ()  # input fields the clean case has and this one lacks
    failed_tool: str | None = None


_cache: dict[tuple[int, str, str], Perturbation] = {}
_lock = threading.Lock()


def _words(value) -> list[str]:
    return str(value or "").split()


def _changed_share(clean: list[str], perturbed: list[str]) -> float:
    if not clean and not perturbed:
        return 0.0
    matcher = difflib.SequenceMatcher(a=clean, b=perturbed, autojunk=False)
    same = sum(block.size for block in matcher.get_matching_blocks())
    return 1 - same / max(len(clean), len(perturbed))


def measure(scenario, case) -> Perturbation | None:
    """The perturbation a case carries, or None for a clean case (or one with no clean twin)."""
    kind = getattr(case, "variant", "clean") or "clean"
    if kind == "clean":
        return None
    key = (id(scenario), case.id, kind)
    with _lock:
        if key in _cache:
            return _cache[key]
    clean = None
    try:
        clean = next((c for c in scenario.cases() if c.id == case.id), None) if scenario else None
    except Exception:  # noqa: BLE001 - an unreadable scenario only means "amount unknown"
        clean = None
    if kind == "tool_failure":
        found = Perturbation(kind, failed_tool=(case.meta or {}).get("inject_tool_failure"))
    elif clean is None:
        found = Perturbation(kind, share=0.1)  # a typical amount when the clean case is unknown
    else:
        dropped = tuple(sorted(set(clean.input) - set(case.input)))
        share = max((_changed_share(_words(clean.input[k]), _words(case.input.get(k)))
                     for k in clean.input if k in case.input), default=0.0)
        found = Perturbation(kind, share=share, dropped=dropped)
    with _lock:
        _cache[key] = found
    return found


def _brittleness(accuracy: float) -> float:
    return max(0.0, 1 - accuracy)


def input_effect(perturbation: Perturbation, accuracy: float, scale: float, has_tools: bool,
                 rng: random.Random) -> str | None:
    """For the agent that first reads the request: ``"misread"``, ``"escalate"`` or None."""
    if perturbation.kind == "tool_failure" or scale <= 0:
        return None
    if perturbation.dropped:
        loss = MISSING_FIELD_LOSS * scale * _brittleness(accuracy) / REFERENCE_BRITTLENESS
        if has_tools:
            loss *= 1 - TOOL_RECOVERY
        if rng.random() >= min(MAX_P, loss):
            return None
        return "escalate" if not has_tools and rng.random() < ESCALATE_SHARE else "misread"
    p = SENSITIVITY.get(perturbation.kind, 0.0) * perturbation.share * _brittleness(accuracy) * scale
    return "misread" if rng.random() < min(MAX_P, p) else None


def tool_effect(perturbation: Perturbation, role_tools, accuracy: float, scale: float,
                rng: random.Random) -> bool:
    """Whether the agent holding the failed tool goes wrong on its degraded result."""
    if perturbation.kind != "tool_failure" or not perturbation.failed_tool or scale <= 0:
        return False
    if perturbation.failed_tool not in set(role_tools or ()):
        return False
    p = SENSITIVITY["tool_failure"] * _brittleness(accuracy) * scale
    return rng.random() < min(MAX_P, p)
