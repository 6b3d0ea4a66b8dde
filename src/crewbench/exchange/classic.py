"""Export, part (2): a classic CrewAI project (``config/agents.yaml``, ``config/tasks.yaml``,
an ``@CrewBase`` ``crew.py`` and ``main.py``), the layout of ``crewai create crew --classic``."""

from __future__ import annotations

import json
import keyword
import re
from typing import Any

from crewbench.definitions.config import CrewSpec
from crewbench.definitions.yamlio import dump_yaml
from crewbench.errors import ExportError
from crewbench.exchange.export import (
    _CREWBASE_RESERVED,
    _agent_llm,
    _async_tasks,
    _crewai_dependency,
    _crewai_process,
    _meta_toml,
    _provenance,
    _task_dict,
    _tool_header,
    _tool_module,
    _tool_sources,
    build_meta,
)

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


def render_classic(spec: CrewSpec, model: str, workspace) -> dict[str, str]:
    header = _provenance(spec, model)
    pkg, cls = spec.name.lower(), _class_name(spec.name)
    tools = _tool_sources(spec, workspace)
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
        f"{base}/crew.py": _crew_py(spec, pkg, cls, header, tools, methods),
        f"{base}/main.py": _MAIN_PY.format(header=header, pkg=pkg, cls=cls,
                                           inputs=json.dumps(_default_inputs(spec), indent=4)),
        "knowledge/.gitkeep": "", ".gitignore": ".env\n__pycache__/\n.DS_Store\n.crewai/\n",
        "README.md": f"# {spec.name}\n\n{spec.description or ''}\n\n{header}\n\nRun it with `crewai run`.\n",
    }
    for decl in tools.values():
        text, stem, _ = _tool_module(decl)
        files[f"{base}/tools/{stem}.py"] = f"# {_tool_header(decl)}\n{text}"
    scripts = [f'{pkg} = "{pkg}.main:run"', f'run_crew = "{pkg}.main:run"', f'train = "{pkg}.main:train"',
               f'replay = "{pkg}.main:replay"', f'test = "{pkg}.main:test"']
    files["pyproject.toml"] = "\n".join([
        f"# {header}", "[project]", f'name = "{pkg}"', 'version = "0.1.0"',
        f"description = {json.dumps((spec.description or spec.name) + ' using crewAI')}",
        'requires-python = ">=3.10,<3.14"', f'dependencies = ["{_crewai_dependency()}"]', "",
        "[project.scripts]", *scripts, "", "[build-system]", 'requires = ["hatchling"]',
        'build-backend = "hatchling.build"', "", "[tool.crewai]", 'type = "crew"', "",
        _meta_toml(build_meta(spec, model, tool_refs))])
    return files


def _default_inputs(spec: CrewSpec) -> dict[str, Any]:
    found = {}
    texts = [t.description + t.expected_output for t in spec.tasks]
    texts += [r.agent.get(k, "") for r in spec.agents.values() for k in ("role", "goal", "backstory")]
    for text in texts:
        for placeholder in re.findall(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", text):
            found.setdefault(placeholder, "")
    return {**found, **spec.inputs}


def _crew_py(spec: CrewSpec, pkg: str, cls: str, header: str, tools: dict, methods: dict[str, str]) -> str:
    imports = ["from crewai import Agent, Crew, Process, Task",
               "from crewai.agents.agent_builder.base_agent import BaseAgent",
               "from crewai.project import CrewBase, agent, crew, task, tool"]
    by_module: dict[str, list[str]] = {}
    for decl in tools.values():
        _, stem, class_name = _tool_module(decl)
        by_module.setdefault(stem, []).append(class_name)
    imports += [f"from {pkg}.tools.{stem} import {', '.join(sorted(set(names)))}"
                for stem, names in by_module.items()]
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
