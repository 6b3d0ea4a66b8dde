"""Language models: the embedded simulator, real providers through CrewAI, and prices.

``make_llm(model)`` is the one way the runner gets an LLM; it never imports CrewAI before
``crewbench.compat.hygiene`` has switched CrewAI's telemetry off.
"""

from crewbench.llm.profiles import PROFILES, SimProfile, is_sim, parse_model

__all__ = ["PROFILES", "SimProfile", "is_sim", "parse_model"]
