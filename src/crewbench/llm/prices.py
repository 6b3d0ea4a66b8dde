"""USD prices per token from CrewAI's bundled copy of LiteLLM's price catalog.

CrewAI computes no cost itself; its catalog keys are bare model names (``gpt-4o-mini``),
so provider prefixes are stripped before the lookup.
"""

from __future__ import annotations

import json
from functools import lru_cache

from crewbench.compat.crewai_compat import price_catalog_path

__all__ = ["Price", "cost_usd", "price_for"]


class Price(tuple):
    """(input USD per token, output USD per token)."""

    @property
    def input(self) -> float:
        return self[0]

    @property
    def output(self) -> float:
        return self[1]


@lru_cache(maxsize=1)
def _catalog() -> dict:
    path = price_catalog_path()
    if path is None:
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


@lru_cache(maxsize=256)
def price_for(model: str) -> Price | None:
    """Price of a model id such as ``openai/gpt-4o-mini``; None when the catalog lacks it."""
    catalog = _catalog()
    candidates = [model]
    if "/" in model:
        candidates.append(model.split("/", 1)[1])
        candidates.append(model.rsplit("/", 1)[-1])
    for key in candidates:
        entry = catalog.get(key)
        if isinstance(entry, dict) and "input_cost_per_token" in entry:
            return Price((float(entry["input_cost_per_token"]), float(entry.get("output_cost_per_token", 0.0))))
    return None


def cost_usd(model: str, prompt_tokens: int, completion_tokens: int) -> float:
    price = price_for(model)
    if price is None:
        return 0.0
    return prompt_tokens * price.input + completion_tokens * price.output
