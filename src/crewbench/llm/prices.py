"""USD prices per token: the user's own prices first, then CrewAI's bundled LiteLLM catalog.

A model with no price is *unpriced* (``None``), never free: its runs store ``cost_usd`` NULL and
every report shows "unpriced" and tokens per success instead of a CPS (docs/metrics.md).
Precedence: ``--price IN/OUT`` on ``run`` > ``prices.yaml`` in the workspace > the catalog.
Both user forms are USD per 1M input / output tokens, the unit providers publish. CrewAI computes
no cost itself; its catalog keys are bare model names (``gpt-4o-mini``), so provider prefixes
are stripped before the lookup.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

from crewbench.compat.crewai_compat import price_catalog_path
from crewbench.errors import ModelError

__all__ = ["PRICE_FILE", "Price", "cost_usd", "load_price_table", "parse_price", "price_for",
           "resolve_price"]

PRICE_FILE = "prices.yaml"
_PER_MILLION = 1e-6


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


def _candidates(model: str) -> list[str]:
    keys = [model]
    if "/" in model:
        keys += [model.split("/", 1)[1], model.rsplit("/", 1)[-1]]
    return keys


@lru_cache(maxsize=256)
def price_for(model: str) -> Price | None:
    """Catalog price of a model id such as ``openai/gpt-4o-mini``; None when the catalog lacks it."""
    catalog = _catalog()
    for key in _candidates(model):
        entry = catalog.get(key)
        if isinstance(entry, dict) and "input_cost_per_token" in entry:
            return Price((float(entry["input_cost_per_token"]), float(entry.get("output_cost_per_token", 0.0))))
    return None


def _per_million(value, where: str, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ModelError(f"{where}: {field} must be a number of USD per 1M tokens, 0 or more "
                         f"(got {value!r}); e.g. {{input: 0.80, output: 4.00}}")
    return float(value) * _PER_MILLION


def parse_price(text: str) -> Price:
    """``--price IN/OUT``: USD per 1M input and output tokens, e.g. ``0.8/4``."""
    parts = str(text).split("/")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 2 or any(not math.isfinite(v) or v < 0 for v in values):
        raise ModelError(f"--price {text!r}: give USD per 1M input/output tokens as IN/OUT, "
                         "e.g. --price 0.8/4")
    return Price((values[0] * _PER_MILLION, values[1] * _PER_MILLION))


def load_price_table(root: str | Path) -> dict[str, Price]:
    """``prices.yaml`` in a workspace: ``model: {input: USD/1M, output: USD/1M}``. No file → {}."""
    from crewbench.definitions.yamlio import load_yaml_file

    path = Path(root) / PRICE_FILE
    if not path.is_file():
        return {}
    data = load_yaml_file(path) or {}
    if not isinstance(data, dict):
        raise ModelError(f"{path}: expected a mapping of model → {{input: .., output: ..}}")
    table = {}
    for model, entry in data.items():
        where = f"{path}: {model}"
        if not isinstance(entry, dict):
            raise ModelError(f"{where}: input and output prices missing; write "
                             f"{model}: {{input: 0.80, output: 4.00}} (USD per 1M tokens)")
        for field in ("input", "output"):
            if field not in entry:
                raise ModelError(f"{where}: {field} price missing; add {field}: USD per 1M tokens")
        table[str(model)] = Price((_per_million(entry["input"], where, "input"),
                                   _per_million(entry["output"], where, "output")))
    return table


def resolve_price(model: str, *, table: dict[str, Price] | None = None,
                  override: str | Price | None = None) -> Price | None:
    """The price that applies to ``model``: override, then the user table, then the catalog."""
    if override is not None:
        return override if isinstance(override, Price) else parse_price(override)
    for key in _candidates(model):
        if table and key in table:
            return table[key]
    return price_for(model)


def cost_usd(model: str, prompt_tokens: int, completion_tokens: int,
             price: Price | None = None) -> float | None:
    """USD of one call; None when the model is unpriced (unknown, not free)."""
    price = price if price is not None else price_for(model)
    if price is None:
        return None
    return prompt_tokens * price.input + completion_tokens * price.output
