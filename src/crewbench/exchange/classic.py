"""Export, part (2): a classic CrewAI project (``config/agents.yaml``, ``config/tasks.yaml``,
an ``@CrewBase`` ``crew.py`` and ``main.py``), the layout of ``crewai create crew --classic``."""

from __future__ import annotations

import dataclasses
import json
import keyword
import pprint
import re
from typing import Any

from crewbench.definitions.config import CrewSpec
from crewbench.definitions.yamlio import dump_yaml
from crewbench.errors import ExportError
from crewbench.exchange.export_common import (
    _CREWBASE_RESERVED,
    _agent_llm,
    _async_tasks,
    _crewai_dependency,
    _crewai_process,
    _meta_toml,
    _provenance,
    _task_dict,
    build_meta,
    example_inputs,
)
from crewbench.exchange.export_tools import classic_tool_files, tool_sources

__all__ = ["render_classic"]


def _class_name(name: str) -> str:
    # Same rule as `crewai create crew --classic`.
    return re.sub(r"[^a-zA-Z0-9_]", "", name.replace("_", " ").replace("-", " ").title().replace(" ", ""))


def _classic_tool_methods(spec: CrewSpec) -> dict[str, str]:
    """crewbench tool entry -> @tool method name (import refs get a sanitized name)."""
    methods: dict[str, str] = {}
    for tool in [t for name in spec.agents for t in spec.agents[name].tools]:
        if tool in methods:
            continue
        if ":" in tool:
            prefix = tool.split(":", 1)[0]
            if prefix in ("custom", "platform") or not all(p.isidentifier() for p in prefix.split(".")):
                raise ExportError(f"tool {tool!r} cannot be written in the classic layout; use --format jsonc")
            methods[tool] = "ref_" + re.sub(r"\W", "_", tool).strip("_").lower()
        else:
            methods[tool] = tool
    return methods


def _check_classic_names(spec: CrewSpec, methods: dict[str, str]) -> None:
    seen: dict[str, str] = {}
    for kind, names in (("agent", list(spec.agents)), ("task", [t.name for t in spec.tasks]),
                        ("tool", list(methods.values()))):
        for name in names:
            if keyword.iskeyword(name) or name in _CREWBASE_RESERVED:
                raise ExportError(f"crew {spec.name}: {kind} name {name!r} is reserved in a classic "
                                  "@CrewBase class; rename it or use --format jsonc")
            if name in seen and seen[name] != kind:
                raise ExportError(f"crew {spec.name}: {kind} and {seen[name]} both named {name!r} — a classic "
                                  "project makes each a method of one class; rename one or use --format jsonc")
            seen[name] = kind


def _rename_clashing_agents(spec: CrewSpec) -> tuple[CrewSpec, dict[str, str]]:
    """An agent named like a task (``triage`` doing ``triage``) becomes ``<name>_agent`` here:
    both would be methods of one @CrewBase class. Returns the renamed spec and classic -> original."""
    task_names = {task.name for task in spec.tasks}
    renames = {name: f"{name}_agent" for name in spec.agents if name in task_names}
    if not renames:
        return spec, {}
    agents = {renames.get(name, name): role for name, role in spec.agents.items()}
    tasks = [dataclasses.replace(task, agent=renames.get(task.agent, task.agent)) for task in spec.tasks]
    refs = {renames.get(name, name): ref for name, ref in spec.agent_refs.items()}
    renamed = dataclasses.replace(spec, agents=agents, tasks=tasks, agent_refs=refs,
                                  manager_agent=renames.get(spec.manager_agent, spec.manager_agent))
    return renamed, {new: old for old, new in renames.items()}


def render_classic(spec: CrewSpec, model: str, workspace) -> dict[str, str]:
    header = _provenance(spec, model)
    original_hash = spec.content_hash()
    spec, renamed = _rename_clashing_agents(spec)
    pkg, cls = spec.name.lower(), _class_name(spec.name)
    tools = tool_sources(spec, workspace)
    tool_files, tool_imports = classic_tool_files(tools, f"src/{pkg}")
    methods = _classic_tool_methods(spec)
    _check_classic_names(spec, methods)
    tool_refs = {method: tool for tool, method in methods.items() if ":" in tool}
    agents_yaml: dict[str, Any] = {}
    for name, role in spec.agents.items():
        body = dict(role.agent)
        body["llm"], _ = _agent_llm(role, model)
        if role.tools:
            body["tools"] = [methods[t] for t in role.tools]
        agents_yaml[name] = body
    async_names = _async_tasks(spec)
    tasks_yaml = {}
    for task in spec.tasks:
        data = _task_dict(spec, task, async_names)
        data.pop("name")
        tasks_yaml[task.name] = data
    base = f"src/{pkg}"
    files = {
        f"{base}/config/agents.yaml": f"# {header}\n{dump_yaml(agents_yaml)}",
        f"{base}/config/tasks.yaml": f"# {header}\n{dump_yaml(tasks_yaml)}",
        f"{base}/__init__.py": "", f"{base}/tools/__init__.py": "",
        f"{base}/crew.py": _crew_py(spec, pkg, cls, header, tools, methods, tool_imports),
        f"{base}/main.py": _MAIN_PY.format(header=header, pkg=pkg, cls=cls,
                                           inputs=_py_literal(example_inputs(spec, workspace))),
        "knowledge/.gitkeep": "", ".gitignore": ".env\n__pycache__/\n.DS_Store\n.crewai/\n",
        "README.md": f"# {spec.name}\n\n{spec.description or ''}\n\n{header}\n\nRun it with `crewai run`.\n",
    }
    files.update(tool_files)
    scripts = [f'{pkg} = "{pkg}.main:run"', f'run_crew = "{pkg}.main:run"', f'train = "{pkg}.main:train"',
               f'replay = "{pkg}.main:replay"', f'test = "{pkg}.main:test"']
    files["pyproject.toml"] = "\n".join([
        f"# {header}", "[project]", f'name = "{pkg}"', 'version = "0.1.0"',
        f"description = {json.dumps((spec.description or spec.name) + ' using crewAI')}",
        'requires-python = ">=3.10,<3.14"', f'dependencies = ["{_crewai_dependency()}"]', "",
        "[project.scripts]", *scripts, "", "[build-system]", 'requires = ["hatchling"]',
        'build-backend = "hatchling.build"', "", "[tool.crewai]", 'type = "crew"', "",
        _meta_toml(_classic_meta(spec, model, tool_refs, original_hash, renamed))])
    return files


def _classic_meta(spec, model, tool_refs, original_hash: str, renamed: dict[str, str]) -> dict:
    meta = build_meta(spec, model, tool_refs)
    meta["content_hash"] = original_hash  # the crewbench crew this came from, before any rename
    if renamed:
        meta["agent_renames"] = renamed
    return meta


def _py_literal(value: Any) -> str:
    # A Python literal, not JSON: case inputs may hold true/false/null, which JSON spells differently.
    return pprint.pformat(value, width=100, sort_dicts=False)


def _crew_py(spec: CrewSpec, pkg: str, cls: str, header: str, tools: dict, methods: dict[str, str],
             tool_imports: dict[str, list[str]]) -> str:
    imports = ["from crewai import Agent, Crew, Process, Task",
               "from crewai.agents.agent_builder.base_agent import BaseAgent",
               "from crewai.project import CrewBase, agent, crew, task, tool"]
    imports += [f"from {pkg}.{dotted} import {', '.join(sorted(set(names)))}"
                for dotted, names in tool_imports.items()]
    body = [f"# {header}", "import importlib", "", *imports, "", "",
            "def _tool_from_ref(ref):",
            '    """Build a tool from a \'module:ClassName\' reference, as CrewAI\'s JSON loader does."""',
            '    module, _, name = ref.partition(":")',
            "    return getattr(importlib.import_module(module), name)()", "", "",
            "@CrewBase", f"class {cls}():", f'    """{cls} crew, exported by crewbench."""', "",
            "    agents: list[BaseAgent]", "    tasks: list[Task]", ""]
    for tool, method in methods.items():
        make = f"_tool_from_ref({tool!r})" if ":" in tool else f"{tools[tool].entry.split(':', 1)[1]}()"
        body += ["    @tool", f"    def {method}(self):", f"        return {make}", ""]
    for name in spec.agents:
        if name == spec.manager_agent:
            # Not an @agent: CrewAI refuses a manager that is also in the crew's agents list.
            body.append("    # The manager: deliberately not an @agent, so it stays out of self.agents.")
        else:
            body.append("    @agent")
        body += [f"    def {name}(self) -> Agent:",
                 f"        return Agent(config=self.agents_config[{name!r}])  # type: ignore[index]", ""]
    for task in spec.tasks:
        body += ["    @task", f"    def {task.name}(self) -> Task:",
                 f"        return Task(config=self.tasks_config[{task.name!r}])  # type: ignore[index]", ""]
    extra = f"\n            manager_agent=self.{spec.manager_agent}()," if spec.manager_agent else ""
    body += ["    @crew", "    def crew(self) -> Crew:", f'        """Creates the {cls} crew."""',
             "        return Crew(", "            agents=self.agents,", "            tasks=self.tasks,",
             f"            process=Process.{_crewai_process(spec)},{extra}", "            verbose=False,",
             "        )", ""]
    return "\n".join(body)


_MAIN_PY = '''#!/usr/bin/env python
# {header}
import sys

from {pkg}.crew import {cls}

INPUTS = {inputs}


def run():
    """Run the crew."""
    return {cls}().crew().kickoff(inputs=INPUTS)


def train():
    """Train the crew: train <n_iterations> <filename>."""
    {cls}().crew().train(n_iterations=int(sys.argv[1]), filename=sys.argv[2], inputs=INPUTS)


def replay():
    """Replay the crew from a task: replay <task_id>."""
    {cls}().crew().replay(task_id=sys.argv[1])


def test():
    """Test the crew: test <n_iterations> <eval_llm>."""
    {cls}().crew().test(n_iterations=int(sys.argv[1]), eval_llm=sys.argv[2], inputs=INPUTS)


if __name__ == "__main__":
    run()
'''
