"""A scenario's ``scenario.yaml`` as a pydantic model (scenario.py documents the format).

``validate(ScenarioModel, data, source, folder=..., raw=data)`` checks a scenario file and
builds its tool declarations. The first problem is one ``DefinitionError`` naming the file,
the field and the fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from crewbench.definitions.library_tools import (
    definition_files,
    is_library_item,
    parse_library_tool,
)
from crewbench.definitions.limits import short_repr
from crewbench.definitions.models import Definition, check_identifier, check_text, fail
from crewbench.definitions.roles import NAME_PATTERN, PERMISSION_LEVELS
from crewbench.errors import DefinitionError

__all__ = ["SCENARIO_FIELDS", "ScenarioModel"]

SCENARIO_FIELDS = (
    "name", "description", "task_type", "input_schema", "output_schema", "cases", "grader",
    "sim", "judge_rubric", "tools", "reference", "perturbations", "policy", "escalation",
    "graders", "source",
)
Text = Annotated[str, AfterValidator(check_text)]


def _file_name(field: str, example: str):
    def check(value: Any, at: str = "") -> str:
        """A file beside scenario.yaml: text, relative, never climbing out of the folder."""
        if not isinstance(value, str) or not value.strip():
            raise fail(f"must be a file name, got {short_repr(value)}", f"e.g. {field}: {example}", at=at)
        if Path(value).is_absolute() or ".." in Path(value).parts or "\\" in value or "\x00" in value:
            raise fail(f"{short_repr(value)} is outside the scenario folder",
                       "name a file inside the scenario's own folder", at=at)
        return value

    return check


def _entry(field: str, example: str):
    file_check = _file_name(field, example.split(":")[0])

    def check(value: Any, at: str = "") -> str:
        """A Python entry 'file.py:name' inside the scenario folder."""
        if not isinstance(value, str) or value.count(":") != 1:
            raise fail(f"entry {short_repr(value)} must look like 'file.py:name'", f"e.g. {example}", at=at)
        filename, attribute = value.split(":")
        file_check(filename, at)
        if not filename.endswith(".py") or not attribute.isidentifier():
            raise fail(f"entry {short_repr(value)} must look like 'file.py:name'", f"e.g. {example}", at=at)
        return value

    return check


_CODE_ENTRY = _entry("entry", "tools.py:KBSearchTool")


def _schema(example: str):
    def check(schema: Any) -> dict:
        if not isinstance(schema, dict):
            raise fail("must be a JSON schema mapping", f"e.g. {example}")
        required = schema.get("required", [])
        if not isinstance(required, list) or not all(isinstance(key, str) for key in required):
            raise fail("must be a list of field names", "e.g. required: [message]", at="required")
        if not isinstance(schema.get("properties", {}), dict):
            raise fail("must be a mapping of field schemas",
                       "e.g. properties: {message: {type: string}}", at="properties")
        return schema

    return check


def _tools_shape(value: Any) -> Any:
    if not isinstance(value, list):
        raise fail("must be a list of tools", "e.g. - {name: kb_search, entry: tools.py:KBSearchTool}")
    return value


class ScenarioModel(Definition):
    shape_problem = ("must be a mapping", "see the scenario format in the README")
    unknown_problem = ("is not a scenario field", "use one of {fields}")
    field_list = ", ".join(sorted(SCENARIO_FIELDS))
    required: ClassVar[dict] = {"cases": ("is missing", "add 'cases:'") * 2}
    empty_is_unset = frozenset({"input_schema", "tools", "name", "grader"})

    name: Annotated[str, AfterValidator(check_identifier("scenario name"))]
    cases: Annotated[Any, BeforeValidator(_file_name("cases", "cases.yaml"))]
    grader: Annotated[Any, BeforeValidator(_entry("grader", "graders.py:grade"))] = None
    graders: Any = None
    sim: Annotated[Any, BeforeValidator(_file_name("sim", "sim.py"))] = None
    description: Text | None = None
    task_type: Text | None = None
    judge_rubric: Text | None = None
    input_schema: Annotated[Any, BeforeValidator(_schema("{type: object, properties: {...}}"))] = \
        Field(default_factory=lambda: {"type": "object"})
    output_schema: Annotated[Any, BeforeValidator(_schema("{type: object}"))] = None
    tools: Annotated[list, BeforeValidator(_tools_shape)] = Field(default_factory=list,
                                                                  validate_default=True)
    reference: Any = None
    perturbations: Any = None
    policy: Any = None
    escalation: Any = None
    source: Any = None

    @field_validator("tools")
    @classmethod
    def _declare(cls, raw_tools: list, info: ValidationInfo) -> dict[str, Any]:
        """Each entry becomes its declaration (code tool or library tool), by name."""
        from crewbench.definitions.scenario import ToolDecl

        context = info.context or {}
        source, folder = context["source"], context["folder"]
        name = info.data.get("name", "")
        tools: dict[str, Any] = {}
        for index, item in enumerate(raw_tools):
            at = f"[{index}]"
            if not isinstance(item, dict) or not item.get("name") or not (item.get("entry") or is_library_item(item)):
                raise fail("a tool needs 'name' and 'entry' (or 'library:' / 'knowledge:')",
                           "e.g. {name: kb_search, entry: tools.py:KBSearchTool} or {name: read_file, library: FileReadTool}",
                           at=at)
            tool = item["name"]
            if not isinstance(tool, str) or not NAME_PATTERN.match(tool):
                raise fail(f"{short_repr(tool)} is not a valid tool name", "use letters, digits and underscores",
                           at=f"{at}.name")
            if tool in tools:
                raise fail(f"duplicate tool {tool!r}", "give each tool its own name", at=f"{at}.name")
            if is_library_item(item):  # crewai-tools by name, or the knowledge search (library_tools.py)
                tools[tool] = parse_library_tool(source, f"tools{at}", item, scenario=name, folder=folder,
                                                 hidden=definition_files(context["raw"], folder))
                continue
            _CODE_ENTRY(item["entry"], at=f"{at}.entry")
            if not isinstance(item.get("description", ""), str):
                raise fail("must be text", "write it as text", at=f"{at}.description")
            permission = item.get("permission", "read")
            if not isinstance(permission, str) or permission not in PERMISSION_LEVELS:
                raise fail(f"unknown level {short_repr(permission)}",
                           f"use one of {', '.join(PERMISSION_LEVELS)}", at=f"{at}.permission")
            if not isinstance(item.get("destructive", False), bool):
                raise fail("must be true or false", "write true or false", at=f"{at}.destructive")
            tools[tool] = ToolDecl(
                name=tool, entry=item["entry"], permission=permission,
                destructive=item.get("destructive", False), description=item.get("description", ""),
                scenario=name, folder=folder,
            )
        return tools

    @model_validator(mode="after")
    def _grading(self, info: ValidationInfo) -> ScenarioModel:
        source = (info.context or {}).get("source", "")
        if self.graders is not None:
            if self.grader:
                raise DefinitionError(source, "grader", "give either 'grader:' or 'graders:', not both",
                                      f"add {{type: python, entry: {self.grader}}} to graders")
        elif not self.grader:
            raise DefinitionError(source, "grader", "is missing",
                                  "add 'grader: graders.py:grade' or a 'graders:' list of rules")
        return self
