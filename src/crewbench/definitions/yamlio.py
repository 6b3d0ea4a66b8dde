"""Safe YAML reading and writing, with errors that name the file and the line.

Only ``yaml.SafeLoader`` is ever used: a tag such as ``!!python/object`` is refused with
``UnsafeYAMLError`` instead of constructing anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from crewbench.errors import DefinitionError, UnsafeYAMLError

__all__ = ["dump_yaml", "load_yaml_file", "load_yaml_text"]


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys: a silently overwritten key loses user input."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)


def load_yaml_text(text: str, source: str | Path = "<text>") -> Any:
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f"line {mark.line + 1}" if mark else None
        if "duplicate key" in str(exc.problem):
            raise DefinitionError(source, line, exc.problem, "remove one of the two keys") from None
        raise UnsafeYAMLError(
            source,
            line,
            f"unsafe YAML tag ({exc.problem})",
            "crewbench reads plain YAML only; remove the '!!' tag",
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise DefinitionError(
            source, line, f"malformed YAML: {problem}", "fix the syntax at that position"
        ) from None


def load_yaml_file(path: str | Path) -> Any:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DefinitionError(path, None, "file not found", "check the path") from None
    except UnicodeDecodeError:
        raise DefinitionError(path, None, "not UTF-8 text", "save the file as UTF-8") from None
    return load_yaml_text(text, path)


def dump_yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
