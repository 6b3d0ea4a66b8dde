"""Checks on a crew's task graph: context references, cycles, order, the concurrent join.

Iterative on purpose: a hostile crew with thousands of chained tasks must get a named error,
not a RecursionError.
"""

from __future__ import annotations

from crewbench.definitions.limits import short_repr
from crewbench.errors import CycleError, DefinitionError, UnknownReference

__all__ = ["check_concurrent", "check_context"]


def check_context(source: str, tasks) -> None:
    by_name = {task.name: index for index, task in enumerate(tasks)}
    for index, task in enumerate(tasks):
        for position, ref in enumerate(task.context or []):
            if ref not in by_name:
                raise UnknownReference(source, f"tasks[{index}].context[{position}]",
                                       f"no task named {short_repr(ref)}",
                                       f"use one of: {', '.join(list(by_name)[:20])}")
            if ref == task.name:
                raise CycleError(source, f"tasks[{index}].context", f"task {ref!r} lists itself",
                                 "remove it from its own context")
    # A context that points forward is a cycle in waiting; find a real one to name it.
    graph = {task.name: list(task.context or []) for task in tasks}
    state: dict[str, int] = {}
    for root, refs in graph.items():
        if root in state:
            continue
        state[root] = 1
        trail = [root]
        stack = [iter(refs)]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[trail.pop()] = 2
                stack.pop()
                continue
            if state.get(nxt) == 1:
                node = trail[-1]
                loop = trail[trail.index(nxt):] + [nxt]
                shown = loop if len(loop) <= 12 else loop[:5] + ["..."] + loop[-5:]
                raise CycleError(source, f"tasks[{by_name[node]}].context",
                                 f"context cycle {' -> '.join(shown)}",
                                 "break the loop: a task can only use outputs of tasks before it")
            if nxt not in state:
                state[nxt] = 1
                trail.append(nxt)
                stack.append(iter(graph[nxt]))
    for index, task in enumerate(tasks):
        for position, ref in enumerate(task.context or []):
            if by_name.get(ref, -1) > index:
                raise DefinitionError(source, f"tasks[{index}].context[{position}]",
                                      f"task {ref!r} runs after {task.name!r}",
                                      "move the task earlier: CrewAI runs tasks in list order")


def check_concurrent(source: str, tasks) -> None:
    join = tasks[-1]
    if len(tasks) < 2 or not join.context:
        raise DefinitionError(source, f"tasks[{len(tasks) - 1}].context",
                              "a concurrent crew needs a join: its last task must list the parallel branches in 'context'",
                              "add 'context: [branch_a, branch_b, ...]' to the last task")
    consumed: set[str] = set()
    for task in tasks:
        consumed.update(task.context or [])
    for index, task in enumerate(tasks[:-1]):
        if task.name not in consumed:
            raise DefinitionError(source, f"tasks[{index}]",
                                  f"branch {task.name!r} feeds nothing, so the join would not wait for it",
                                  f"add {task.name!r} to the join task's context")
