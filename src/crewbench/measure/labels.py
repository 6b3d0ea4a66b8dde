"""Short names for the arms of a comparison: what tables, charts and verdicts print.

An arm's ``label`` ("experiment name:crew") identifies it and selects it (``--reference``), but is
too long for a column header or a chart axis. The short name is the crew name alone when that
is unique among the arms; otherwise the crew name with what tells the arms apart: the
experiment's name when it is short and tells them apart (a name given with ``--name``), else the
start of the experiment id (generated names like "a+b on scenario" are as long as the label).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

__all__ = ["short_names"]

_ID_PREFIX = 8
_SHORT_NAME = 24


def short_names(arms: Sequence[Any]) -> list[str]:
    """One short name per arm, in order, unique whenever the arms' labels are."""
    crews = [a.crew_name or a.label for a in arms]
    crew_counts = Counter(crews)
    by_experiment = Counter((c, a.experiment_name) for c, a in zip(crews, arms))
    names = []
    for crew, arm in zip(crews, arms):
        if crew_counts[crew] == 1:
            names.append(crew)
        elif (arm.experiment_name and len(arm.experiment_name) <= _SHORT_NAME
              and by_experiment[(crew, arm.experiment_name)] == 1):
            names.append(f"{crew} ({arm.experiment_name})")
        else:
            names.append(f"{crew} ({str(arm.experiment_id)[:_ID_PREFIX]})")
    return names
