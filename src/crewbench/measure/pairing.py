"""Who is compared with whom.

The question is "does this crew beat its own single-agent twin?", so by default:

- arms from one experiment: each crew is paired with its own twin (runs.db ``crews.baseline_of``
  names the crew a twin was derived from) and with its budget-matched twin when there is one; a
  crew without a twin is compared with the experiment's first arm (baselines sort first);
- arms from several experiments (``compare BASE CANDIDATE``): each arm of a later experiment is
  paired with the same crew in the first one — same content hash, else same name — and with the
  first experiment's first arm when it has no counterpart;
- the user may instead name one reference (label, crew name or EXP:crew) for every other arm.

The null agent is never a candidate: it checks the grader (see ``grader_flags``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crewbench.definitions.baseline import NULL_AGENT_NAME, baseline_name, budget_twin_name
from crewbench.errors import NotFound

if TYPE_CHECKING:
    from crewbench.measure.compare import Arm

__all__ = ["arm_role", "grader_flags", "pair_arms"]


def arm_role(arm: Arm) -> str:
    """"null", "budget twin", "twin" or "crew", from the crew's name and ``baseline_of``."""
    name = arm.crew_name or ""
    if name == NULL_AGENT_NAME:
        return "null"
    if arm.baseline_of and name == budget_twin_name(arm.baseline_of):
        return "budget twin"
    if arm.baseline_of:
        return "twin"
    return "crew"


def _find(arms: list[Arm], key: str) -> Arm:
    for arm in arms:
        names = {arm.label, arm.crew_name, arm.crew_id,
                 f"{arm.experiment_name or arm.experiment_id}:{arm.crew_name}"}
        if key in names:
            return arm
    choices = ", ".join(a.label for a in arms)
    raise NotFound(f"no arm {key!r} to use as the reference; pick one of: {choices}")


def _within(arms: list[Arm]) -> list[tuple[Arm, Arm, str]]:
    pairs: list[tuple[Arm, Arm, str]] = []
    used: set[int] = set()
    for crew in (a for a in arms if arm_role(a) == "crew"):
        for role, relation in (("twin", "vs its single-agent twin"),
                               ("budget twin", "vs its budget-matched twin")):
            for twin in arms:
                if arm_role(twin) == role and twin.baseline_of == crew.crew_name and (
                        role == "budget twin" or twin.crew_name == baseline_name(crew.crew_name)):
                    pairs.append((twin, crew, relation))
                    used.update((id(twin), id(crew)))
                    break
    first = arms[0]
    for arm in arms:
        if id(arm) not in used and arm is not first and arm_role(arm) != "null":
            pairs.append((first, arm, ""))
    return pairs


def _across(groups: list[list[Arm]]) -> list[tuple[Arm, Arm, str]]:
    base = groups[0]
    pairs = []
    for group in groups[1:]:
        for arm in group:
            if arm_role(arm) == "null":
                continue
            match = next((b for b in base if arm.content_hash and b.content_hash == arm.content_hash),
                         None) or next((b for b in base if b.crew_name == arm.crew_name), None)
            if match is not None:
                where = match.experiment_name or match.experiment_id
                pairs.append((match, arm, f"same crew in {where}"))
            else:
                pairs.append((base[0], arm, ""))
    return pairs


def pair_arms(arms: list[Arm], reference: str | None = None) -> list[tuple[Arm, Arm, str]]:
    """(reference, candidate, relation) triples; relation says why they were paired ("" for the
    fallback: the first arm)."""
    if len(arms) < 2:
        return []
    if reference is not None:
        ref = _find(arms, reference)
        return [(ref, a, "chosen reference") for a in arms
                if a is not ref and arm_role(a) != "null"]
    groups: dict[str, list[Arm]] = {}
    for arm in arms:
        groups.setdefault(arm.experiment_id, []).append(arm)
    if len(groups) == 1:
        return _within(arms)
    return _across(list(groups.values()))


def grader_flags(arms: list[Arm], threshold: float) -> list[str]:
    """"the grader passes a do-nothing agent on N% of cases" when a null agent passed more than
    ``threshold`` of the cases it ran (a case counts as passed when any of its runs succeeded)."""
    flags = []
    for arm in arms:
        if arm_role(arm) != "null" or not arm.cases:
            continue
        passed = sum(1 for k, n in arm.cases.values() if n and k)
        share = passed / len(arm.cases)
        if share > threshold:
            flags.append(f"the grader passes a do-nothing agent on {share:.0%} of cases "
                         f"({passed} of {len(arm.cases)}, {arm.label}): check the scenario's "
                         "grader before trusting these success rates")
    return flags
