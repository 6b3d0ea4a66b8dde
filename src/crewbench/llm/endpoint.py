"""Is a ``--base-url`` crewbench's own simulator (``crewbench sim-serve``)?

Runs through sim-serve are simulated data and must be stored and shown so. The server says who
it is in ``GET /models`` (``owned_by: crewbench-sim``); any other answer, or none, is a real
provider.
"""

from __future__ import annotations

import json
import urllib.request
from functools import lru_cache

__all__ = ["SIM_OWNER", "sim_profile_name"]

SIM_OWNER = "crewbench-sim"


@lru_cache(maxsize=32)
def sim_profile_name(base_url: str, timeout_s: float = 2.0) -> str | None:
    """The sim profile a sim-serve endpoint serves ("small"), None for anything else."""
    url = base_url.rstrip("/") + "/models"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            data = json.loads(response.read() or b"{}")
    except (OSError, ValueError):
        return None
    for model in data.get("data") or []:
        if isinstance(model, dict) and model.get("owned_by") == SIM_OWNER:
            name = str(model.get("id") or "")
            return name.removeprefix("sim-") or None
    return None
