"""The build/run layer: CrewSpec → real CrewAI objects, experiments, telemetry.

The only package (with ``llm`` and ``compat``) that imports CrewAI. ``run_experiment`` runs
crews × cases × variants × repetitions and writes every run to the store.
"""

from crewbench.engine.experiment import ExperimentConfig, Progress, config_from_experiment
from crewbench.engine.runner import run_experiment

__all__ = ["ExperimentConfig", "Progress", "config_from_experiment", "run_experiment"]
