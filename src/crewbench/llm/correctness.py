"""The simulator's correctness model: whether each task's answer is right, and its text.

Kept apart from the CrewAI ``BaseLLM`` adapter (llm/sim.py) so it can be read and tuned on its
own: a task goes wrong from the profile's accuracy (less for a loaded generalist or a hard
case), inherits its upstream tasks' errors, loses information at handoffs (by process), and a
verifying reviewer or a manager may catch an error. See docs/simulator.md. ``SimLLM`` mixes it
in; it uses ``self.profile`` and the run's ``SimSession``.
"""

from __future__ import annotations

import random

from crewbench.llm import generic_answers
from crewbench.llm import perturbation as perturbations

__all__ = ["DIFFICULTY_FACTOR", "HANDOFF_FACTOR", "MANAGER_CATCH_FACTOR", "OVERCORRECTION_RATE",
           "CorrectnessModel"]

DIFFICULTY_FACTOR = {"easy": 1.1, "medium": 1.0, "hard": 0.8}
# How much information a handoff loses, by how the agents are coordinated (Kim et al. 2025:
# independent set-ups amplify errors more than centrally coordinated ones).
HANDOFF_FACTOR = {"sequential": 1.0, "hierarchical": 0.6, "concurrent": 1.5}
# A generalist checking its own work catches far less than a dedicated reviewer (MAST: weak
# verification is among the commonest multi-agent failures).
MANAGER_CATCH_FACTOR = 0.5
OVERCORRECTION_RATE = 0.02


class CorrectnessModel:
    """Mixin of SimLLM: decides each task's answer (needs ``self.profile``)."""

    # Each task's answer is right or wrong given only the tasks it reads (its context), so the
    # outcome of parallel branches does not depend on which thread finishes first.
    def _final_text(self, session, task_key: str, agent_role, rng: random.Random,
                    prompt_tokens: int = 0, messages=()) -> str:
        with session.lock:
            if session.decided.get(task_key):
                return session.decided[task_key]
            error = self._decide(session, task_key, agent_role, rng, prompt_tokens)
            session.task_error[task_key] = error
            if session.scenario is not None and session.case is not None:
                answer = generic_answers.render_answer(session.scenario, session.case, not error, rng)
            else:
                answer = "Simulated answer."
            if session.escalate and self._is_final_task(session, task_key):
                answer = _escalated(answer)
            if not self._is_final_task(session, task_key):
                # Handoffs carry notes, as real agents pass on what they found, and the next
                # agent pays for reading them.
                answer = f"{answer}\n\nNotes for the next step: {_findings(messages)}"
            if rng.random() < self.profile.malformed_rate / 2:
                answer = answer[: max(1, len(answer) // 2)]  # truncated output
                session.task_garbage[task_key] = True
                session.events.append(f"{task_key}: truncated output")
            session.decided[task_key] = answer
            return answer

    @staticmethod
    def _is_final_task(session, task_key: str) -> bool:
        if session.crew is None:
            return True
        return task_key == session.crew.tasks[-1].name

    def _decide(self, session, task_key: str, agent_role, rng: random.Random,
                prompt_tokens: int) -> bool:
        profile = self.profile
        factor = DIFFICULTY_FACTOR.get(getattr(session.case, "difficulty", "medium"), 1.0)
        crew = session.crew
        _, role = session.role_spec(agent_role)
        process = crew.process if crew is not None else "sequential"
        base_task, _, _delegated = task_key.partition("@")
        task = session.task_spec(base_task)
        upstream = self._upstream_tasks(crew, task)
        error = any(session.task_error.get(name, False) for name in upstream)
        if any(session.task_garbage.get(name) for name in upstream) and rng.random() < 0.5:
            error = True
            session.events.append(f"{task_key}: garbled input from upstream")
        is_manager = crew is not None and crew.manager_agent and role is crew.agents.get(crew.manager_agent)
        if is_manager:
            worked = session.task_error.get(f"{base_task}@delegated")
            if worked is None:  # no delegation happened: the manager did the work itself
                return self._own_step(session, task_key, role, factor, prompt_tokens, rng, error)
            error = worked
            if rng.random() < profile.handoff_loss * HANDOFF_FACTOR["hierarchical"]:
                error = True
                session.events.append(f"{task_key}: delegation lost information")
            if error and rng.random() < profile.catch_rate * MANAGER_CATCH_FACTOR * factor:
                error = False
                session.events.append(f"{task_key}: manager caught an error")
            return error
        if role is None or not role.verifies:
            error = self._perturbed(session, task_key, role, factor, upstream, rng, error)
        if role is not None and role.verifies:
            if error and rng.random() < min(0.98, profile.catch_rate * factor):
                session.events.append(f"{task_key}: reviewer caught an error")
                error = False
            elif not error and rng.random() < OVERCORRECTION_RATE:
                session.events.append(f"{task_key}: reviewer over-corrected")
                error = True
        else:
            error = self._own_step(session, task_key, role, factor, prompt_tokens, rng, error)
        # What a handoff drops never reaches this agent, so not even a reviewer can restore it.
        owners = self._upstream_agents(crew, task)
        if owners:
            loss = profile.handoff_loss * HANDOFF_FACTOR.get(process, 1.0)
            if rng.random() < 1 - (1 - loss) ** len(owners):
                error = True
                session.events.append(f"{task_key}: handoff lost information")
        return error

    def _perturbed(self, session, task_key, role, factor, upstream, rng, error) -> bool:
        """A perturbed case's own mechanism (llm/perturbation.py), on its own random stream so
        the clean mechanisms draw the same numbers whether or not it is switched on."""
        found = perturbations.measure(session.scenario, session.case) if session.case else None
        if found is None:
            return error
        scale = getattr(self.profile, "perturbation_sensitivity", 1.0)
        accuracy = min(0.995, self.profile.accuracy * factor)
        own = random.Random(f"{session.seed}:{session.run_key}:perturb:{task_key}")
        tools = role.tools if role is not None else []
        if perturbations.tool_effect(found, tools, accuracy, scale, own):
            session.events.append(f"{task_key}: worked from a degraded {found.failed_tool} result")
            error = True
        if upstream and session.crew is not None:
            return error  # only the agent that first reads the request reads it raw
        effect = perturbations.input_effect(found, accuracy, scale, bool(tools), own)
        if effect == "misread":
            session.events.append(f"{task_key}: misread the {found.kind} request")
            return True
        if effect == "escalate":
            session.events.append(f"{task_key}: a detail is missing, handed to a human")
            session.escalate = True
        return error

    def _own_step(self, session, task_key, role, factor, prompt_tokens, rng, error) -> bool:
        accuracy = self._effective_accuracy(role, factor, prompt_tokens)
        if rng.random() < (1 - accuracy) / self._work_task_count(session.crew):
            session.events.append(f"{task_key}: wrong step")
            return True
        return error

    def _effective_accuracy(self, role, factor: float, prompt_tokens: int) -> float:
        """Specialisation: extra tools and a long context both cost a generalist accuracy."""
        extra_tools = max(0, len(role.tools) - 2) if role is not None else 0
        context_load = max(0, prompt_tokens - 1500) / 1000
        accuracy = self.profile.accuracy * factor - self.profile.load_penalty * (extra_tools + context_load)
        return min(0.995, max(0.02, accuracy))

    @staticmethod
    def _work_task_count(crew) -> int:
        if crew is None:
            return 1
        count = sum(1 for task in crew.tasks
                    if task.agent is None or not crew.agents[task.agent].verifies)
        return max(1, count)

    @staticmethod
    def _upstream_tasks(crew, task) -> list[str]:
        """Tasks whose output this task reads: its context, or every earlier task (CrewAI's default)."""
        if crew is None or task is None:
            return []
        if task.context is not None:
            return list(task.context)
        if crew.process == "concurrent":
            return []  # a parallel branch starts before the others have produced anything
        index = crew.tasks.index(task)
        return [t.name for t in crew.tasks[:index]]

    @classmethod
    def _upstream_agents(cls, crew, task) -> set[str]:
        sources = cls._upstream_tasks(crew, task)
        owners = {t.agent for t in crew.tasks if t.name in sources} if crew is not None else set()
        return {owner for owner in owners if owner and owner != task.agent}


def _escalated(answer: str) -> str:
    """The ticket handed to a human: the answer with ``escalate`` set, when it is a JSON object."""
    import json

    start, end = answer.find("{"), answer.rfind("}")
    if not 0 <= start < end:
        return answer
    try:
        data = json.loads(answer[start:end + 1])
    except json.JSONDecodeError:
        return answer
    if not isinstance(data, dict):
        return answer
    data["escalate"] = True
    data.setdefault("escalation_reason", "a detail the request needs is missing")
    return answer[:start] + json.dumps(data) + answer[end + 1:]


def _findings(messages, limit: int = 700) -> str:
    """What the agent saw from its tools (observations), condensed for the next agent."""
    seen = []
    for message in messages or ():
        content = message.get("content")
        if message.get("role") == "system":
            # The ReAct format instructions say "Observation: ... Final Answer: ..."; copied into
            # the notes, CrewAI's parser took that "Final Answer:" and dropped the real answer.
            continue
        if message.get("role") == "tool" and isinstance(content, str):
            seen.append(content)
        elif isinstance(content, str) and "Observation:" in content:
            seen.append(content.split("Observation:", 1)[1])
    text = " ".join(" ".join(seen).split())
    return text[:limit] if text else "no tool output; reasoning from the request alone."
