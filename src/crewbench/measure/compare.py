"""Comparison engine: experiments (or crews inside one) side by side, with a verdict.

Data comes from the store's arm aggregates (store/measure_queries.py): one row per
(case_id, variant) and the four latency columns per run (percentiles cannot be aggregated in
SQLite). The per-group rows feed
``summaries.summarize_groups``, the same code the list-based metrics use, so SQL and Python
cannot disagree about a formula. ``rows``/``render`` at the bottom format a comparison so the
CLI, the HTML report and the UI print the same numbers, always flagged when simulated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crewbench.definitions.scenario_version import mixed_versions
from crewbench.errors import NotFound
from crewbench.measure import metrics as m
from crewbench.measure import stats
from crewbench.measure.failures import ArmFailures, arm_failures
from crewbench.measure.labels import short_names
from crewbench.measure.pairing import grader_flags, pair_arms
from crewbench.measure.summaries import Group, Summary, jsonable, summarize_groups
from crewbench.measure.verdict import (  # noqa: F401  (re-exported: one import for callers)
    ALPHA,
    Delta,
    _pp,
    _sub,
    compare_arms,
    fmt_p,
    judge,
    verdict,
)
from crewbench.store.measure_queries import LATENCY_COLUMNS

__all__ = [
    "ALPHA", "NULL_PASS_SHARE", "ROLLBACK_PP", "Arm", "Comparison", "Delta", "compare",
    "compare_arms", "compare_loaded", "judge", "load_arm", "outcome_grid", "pair_arms", "render", "resolve", "rows",
    "scorecard", "trend", "verdict",
]

NULL_PASS_SHARE = 0.05   # a do-nothing agent passing more cases than this flags the grader
ROLLBACK_PP = 3.0   # guide: canary rolls back on an error-rate increase > 3% (read as points)

@dataclass
class Arm:
    """One crew of one experiment, fully measured."""

    label: str
    experiment_id: str
    experiment_name: str | None
    crew_id: str | None
    crew_name: str | None
    agents: int | None
    baseline_of: str | None
    simulated: bool
    created_at: float | None
    model: str | None
    summary: Summary
    governance: dict[str, Any] | None = None   # compliance metrics, when a policy governed the runs
    cases: dict[str, tuple[int, int]] = field(default_factory=dict)          # (successes, runs)
    case_failures: dict[str, tuple[int, int]] = field(default_factory=dict)  # (failures, runs)
    content_hash: str | None = None
    failures: ArmFailures | None = None   # failure tags and delegation rate (measure/failures.py)
    name: str = ""   # the short name tables and charts print, set per comparison (measure/labels.py)

    @property
    def success_ci(self) -> stats.Interval:
        """The success interval the comparison shows: case-clustered when some case ran more
        than once, Wilson (runs independent) when every case ran once."""
        s = self.summary.success
        if not self.cases or all(n <= 1 for _, n in self.cases.values()):
            return stats.Interval(s.rate, s.low, s.high)
        return stats.cluster_interval(self.cases)

    def to_dict(self) -> dict[str, Any]:
        head = {k: v for k, v in self.__dict__.items()
                if k not in ("summary", "cases", "case_failures", "failures")}
        ci = self.success_ci
        return {**head, "cases": len(self.cases), "success_ci": [ci.low, ci.high],
                "summary": self.summary.to_dict(),
                "failures": self.failures.to_dict() if self.failures else None}


def resolve(store, selector: str) -> list[tuple[dict, str | None, str | None]]:
    """"EXP" → every crew in it; "EXP:crew_name" → that crew. EXP is an id, a unique id prefix
    or a name (newest wins). Returns (experiment row, crew_id, crew_name) triples."""
    crew_name = None
    try:
        exp = store.find_experiment(selector)
    except NotFound:
        if ":" not in selector:
            raise
        key, crew_name = selector.rsplit(":", 1)
        exp = store.find_experiment(key)
    crews = store.experiment_crews(exp["id"])
    if crew_name is not None:
        crews = [c for c in crews if crew_name in (c[1], c[0])]
        if not crews:
            raise NotFound(f"experiment {exp['name'] or exp['id']!r} has no runs of crew "
                           f"{crew_name!r}; use EXP alone to compare all its crews")
    if not crews:
        raise NotFound(f"experiment {exp['name'] or exp['id']!r} has no runs yet; "
                       "run it first or pick another experiment")
    return [(exp, crew_id, name) for crew_id, name in crews]


def load_arm(store, exp: dict, crew_id: str | None, crew_name: str | None,
             label: str | None = None) -> Arm:
    """Measure one crew of one experiment from runs.db (the store's arm aggregates)."""
    groups = store.arm_groups(exp["id"], crew_id)
    crew = store.crew_facts(crew_id)
    per_case = store.arm_cases(exp["id"], crew_id)
    name = exp.get("name") or exp["id"]
    return Arm(
        label=label or f"{name}:{crew_name}", experiment_id=exp["id"], experiment_name=exp.get("name"),
        crew_id=crew_id, crew_name=crew_name, agents=crew["agents"], baseline_of=crew["baseline_of"],
        simulated=bool(exp.get("simulated") or any(g["simulated"] for g in groups)),
        created_at=exp.get("created_at"), model=exp.get("model"),
        summary=summarize_groups([_group(crew_id, g) for g in groups],
                                   _latency_lists(store.arm_latencies(exp["id"], crew_id)),
                                   exp.get("reps"), presorted=True),
        governance=_governance(store, exp["id"], crew_id),
        cases={c["case_id"]: (c["successes"] or 0, c["n"]) for c in per_case},
        case_failures={c["case_id"]: (c["failures"] or 0, c["n"]) for c in per_case},
        content_hash=crew["content_hash"],
        failures=arm_failures(store, exp["id"], crew_id),
    )


def _governance(store, experiment_id: str, crew_id: str | None) -> dict[str, Any] | None:
    """Compliance next to success and CPS — only for runs a policy governed."""
    if not store.has_policy_decisions(experiment_id, crew_id):
        return None
    from crewbench.governance.metrics import governance_summary

    return governance_summary(store, experiment_id, crew_id)


def _group(crew_id: str | None, g: dict[str, Any]) -> Group:
    """A ``summaries.Group`` from one ``store.arm_groups`` row (None counts are 0)."""
    n, ok = g["n"], g["successes"] or 0
    recovered, escalated_hit, unfinished = (g["errored_recovered"] or 0, g["errored_escalated"] or 0,
                                            g["errored_failed"] or 0)
    return Group(
        crew_id, g["case_id"], g["variant"], g["task_type"], g["difficulty"], n=n, successes=ok,
        escalated=g["escalated"] or 0, failures=n - ok, cost=g["cost"], tokens=int(g["tokens"]),
        llm_calls=int(g["llm_calls"]), unpriced=g["unpriced"] or 0,
        errored=recovered + escalated_hit + unfinished, errored_recovered=recovered,
        errored_escalated=escalated_hit, errored_failed=unfinished,
    )


def _latency_lists(rows: list[tuple]) -> dict[str, list[float]]:
    """The four latency columns of ``store.arm_latencies`` rows, NULLs dropped and sorted with
    numpy: converting and sorting 50,000 rows this way is ~5× faster than in Python."""
    table = np.array(rows, dtype=float).reshape(len(rows), len(LATENCY_COLUMNS))
    return {phase: np.sort(col[~np.isnan(col)]).tolist()
            for phase, col in zip(LATENCY_COLUMNS, table.T)}


def _ordered(arms: list[Arm]) -> list[Arm]:
    """Within one experiment the single-agent baseline is the reference (first): the guide asks
    whether the crew beats its twin, not the other way round."""
    return sorted(arms, key=lambda a: (a.baseline_of is None, a.agents or 0))


def load_arms(store, selectors: list[str]) -> list[Arm]:
    arms: list[Arm] = []
    seen: set[tuple[str, str | None]] = set()
    for selector in selectors:
        found = [load_arm(store, exp, cid, cname) for exp, cid, cname in resolve(store, selector)
                 if (exp["id"], cid) not in seen]
        seen.update((a.experiment_id, a.crew_id) for a in found)
        arms.extend(_ordered(found) if len(found) > 1 else found)
    return arms


# ---------------------------------------------------------------- readiness scorecard
_STAGES = ("development", "staging", "canary", "production")


def _item(key: str, stage: str, label: str, value: Any, ok: bool | None,
          optional: bool = False) -> dict[str, Any]:
    return {"key": key, "stage": stage, "label": label, "value": value, "ok": ok,
            "optional": optional}


def scorecard(arm: Arm, reference: Arm | None = None) -> dict[str, Any]:
    """The measurable pre-deployment items, each attached to the lifecycle stage whose metrics
    the guide lists (development: accuracy; staging: + latency and error types; canary: + error
    recovery and the rollback trigger; production: CPS). ``stage`` is the furthest stage whose
    items, and all earlier ones, pass. An unknown value (None) blocks, except the rollback
    check without a reference arm, which does not apply."""
    s = arm.summary
    items = [_item("graded_runs", "development", "accuracy measured (graded runs > 0)", s.runs,
                   s.runs > 0)]
    for phase in m.PHASES:
        lat = s.latency[phase]
        # A phase the crew does not have (no run recorded it) is not measured, not passed.
        unmeasured = lat.n == 0 and phase != "latency_s" and s.runs > 0
        items.append(_item(f"latency_{phase}", "staging",
                           f"{phase.removesuffix('_s').replace('latency', 'end-to-end')} "
                           f"p95 < {lat.budget:g} s" + (" (not measured)" if unmeasured else ""),
                           lat.p95, lat.within_budget, optional=unmeasured))
    failure = s.task_failure.rate
    items.append(_item("task_failure", "canary", f"task failure < {m.FAILURE_TARGET:.0%}",
                       failure, None if failure is None else failure < m.FAILURE_TARGET))
    increase = None
    if reference is not None:
        increase = _pp(_sub(failure, reference.summary.task_failure.rate))
    items.append(_item("canary_rollback", "canary",
                       f"error-rate increase ≤ {ROLLBACK_PP:g} pp vs "
                       f"{(reference.name or reference.label) if reference else 'reference (none given)'}",
                       increase,
                       # rounded: 5% − 2% is 3.0000000000000004 pp in floating point
                       None if increase is None else round(increase, 9) <= ROLLBACK_PP,
                       optional=reference is None))
    cps = s.cps
    items.append(_item("cps", "production", f"CPS < ${m.CPS_TARGET:.2f}", cps,
                       None if cps is None else cps < m.CPS_TARGET))
    reached = None
    for stage in _STAGES:
        if all(i["ok"] or (i["ok"] is None and i["optional"])
               for i in items if i["stage"] == stage):
            reached = stage
        else:
            break
    return {"label": arm.label, "simulated": arm.simulated, "stage": reached, "items": items}


# ---------------------------------------------------------------- the whole comparison
@dataclass
class Comparison:
    arms: list[Arm]
    verdicts: list[dict[str, Any]]
    scorecards: list[dict[str, Any]]
    flags: list[str] = field(default_factory=list)   # warnings about the grader or the design

    @property
    def simulated(self) -> bool:
        return any(a.simulated for a in self.arms)

    def to_dict(self) -> dict[str, Any]:
        return {
            "simulated": self.simulated,
            "arms": [a.to_dict() for a in self.arms],
            "verdicts": [{"kind": v["kind"], "text": v["text"],
                          "delta": jsonable(v["delta"].__dict__)} for v in self.verdicts],
            "scorecards": self.scorecards,
            "flags": self.flags,
        }


def compare_loaded(arms: list[Arm], alpha: float = ALPHA,
                   reference: str | None = None) -> Comparison:
    """Verdicts for measured arms, paired by ``pairing.pair_arms`` and Holm-corrected together."""
    for arm, name in zip(arms, short_names(arms)):
        arm.name = name
    triples = pair_arms(arms, reference)
    verdicts = judge([(a, b) for a, b, _ in triples], alpha, [r for _, _, r in triples])
    refs: dict[int, Arm] = {}
    for a, b, _ in triples:
        refs.setdefault(id(b), a)
    return Comparison(
        arms=arms, verdicts=verdicts,
        scorecards=[scorecard(a, refs.get(id(a))) for a in arms],
        flags=grader_flags(arms, NULL_PASS_SHARE),
    )


def compare(store, selectors: list[str], alpha: float = ALPHA,
            reference: str | None = None) -> Comparison:
    """Arms for every selector, each crew judged against its own reference (see ``pairing``):
    its twin within an experiment, itself across experiments, or the ``reference`` named."""
    arms = load_arms(store, list(selectors))
    comparison = compare_loaded(arms, alpha, reference)
    # Results of an edited scenario are different cases or graders: never judged silently.
    experiments = [store.experiment(eid) for eid in dict.fromkeys(a.experiment_id for a in arms)]
    edited = mixed_versions(experiments)
    if edited:
        comparison.flags.insert(0, edited)
    return comparison


def outcome_grid(store, experiment: str, crew_name: str | None = None) -> list[dict]:
    """(crew, case, variant, rep, status, experiment name) rows for the outcome heatmap."""
    exp = store.find_experiment(experiment)
    return store.outcome_grid_rows(exp["id"], exp.get("name") or exp["id"], crew_name)


def trend(store, scenario: str | None = None) -> list[dict]:
    """Success and CPS per (experiment, crew) in time order, from ``store.trend_rows``."""
    rows = []
    for r in store.trend_rows(scenario):
        r["success"] = m.wilson_interval(r["successes"], r["runs"]).rate
        r["cps"] = m.ratio_per_success(r["cost"], r["successes"], r["runs"])
        r["simulated"] = bool(r["simulated"])
        rows.append(r)
    return rows


# Formatting lives in compare_format; re-exported so callers keep one import.
from crewbench.measure.format import FORMATS, SIM_NOTE, render, rows  # noqa: F401
