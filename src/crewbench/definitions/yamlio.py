"""Safe YAML reading and writing, with errors that name the file and the line.

Only ``yaml.SafeLoader`` is ever used: a tag such as ``!!python/object`` is refused with
``UnsafeYAMLError`` instead of constructing anything.

Definition files are untrusted input (imports, shared projects), so a small file must never
cost minutes: before anything is constructed the event stream is checked against the limits
below (docs/limits.md). Anchors and aliases are refused outright — a 0.5 KB alias bomb
expands to gigabytes — and no shipped definition needs them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from crewbench.definitions.limits import (
    MAX_DEFINITION_BYTES,
    MAX_INT_DIGITS,
    MAX_NESTING,
    has_lone_surrogate,
)
from crewbench.errors import DefinitionError, UnsafeYAMLError

__all__ = ["MAX_DEFINITION_BYTES", "dump_yaml", "load_yaml_file", "load_yaml_text"]

_INT_LIKE = re.compile(r"^[-+]?[0-9_]+$")


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys: a silently overwritten key loses user input."""


class _Refused(Exception):
    def __init__(self, problem: str, fix: str, mark=None):
        super().__init__(problem)
        self.problem, self.fix, self.mark = problem, fix, mark


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            duplicate = key in seen
        except TypeError:
            raise _Refused("a mapping key must be a plain value, not a list or mapping",
                           "write the key as a name", key_node.start_mark) from None
        if duplicate:
            raise _Refused(f"duplicate key {str(key)[:60]!r}", "remove one of the two keys",
                           key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)


_BRACKETS = re.compile(r"[\[\]{}]")


def _check_flow_depth(text: str) -> None:
    # PyYAML's scanner looks up to 1,024 characters ahead at every '[': 5,000 of them cost
    # ~0.5 s before the event walk below can refuse them. Far past the limit, refuse on a
    # bracket count alone (quoted brackets never add up to four times the limit in practice).
    depth = 0
    for match in _BRACKETS.finditer(text):
        depth += 1 if match.group() in "[{" else -1
        if depth > 4 * MAX_NESTING:
            raise _Refused(f"nested more than {MAX_NESTING} levels deep", "flatten the structure")


def _check_events(text: str) -> None:
    """Walk the parser's events (iterative, cheap) and refuse what would be costly to build."""
    _check_flow_depth(text)
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _Refused("YAML anchors and aliases (&name / *name) are not allowed in definitions",
                           "write the value out in full", event.start_mark)
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_NESTING:
                raise _Refused(f"nested more than {MAX_NESTING} levels deep",
                               "flatten the structure", event.start_mark)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
        elif isinstance(event, yaml.ScalarEvent):
            value = event.value
            if (event.style is None and len(value) > MAX_INT_DIGITS
                    and _INT_LIKE.match(value)):
                raise _Refused(f"a number with more than {MAX_INT_DIGITS} digits",
                               "quote it if it is text, else use a smaller number",
                               event.start_mark)
            if has_lone_surrogate(value):
                raise _Refused("text holds a lone UTF-16 surrogate (\\ud800-\\udfff)",
                               "remove the escape; it cannot be stored or sent", event.start_mark)


def _line(mark, column: bool = False) -> str | None:
    if mark is None:
        return None
    return f"line {mark.line + 1}" + (f", column {mark.column + 1}" if column else "")


def load_yaml_text(text: str, source: str | Path = "<text>") -> Any:
    if len(text) > MAX_DEFINITION_BYTES:
        raise DefinitionError(source, None, f"is larger than {MAX_DEFINITION_BYTES:,} characters",
                              "split it, or move bulky data into a scenario's case file")
    try:
        _check_events(text)
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except _Refused as exc:
        raise DefinitionError(source, _line(exc.mark), exc.problem, exc.fix) from None
    except yaml.constructor.ConstructorError as exc:
        raise UnsafeYAMLError(
            source,
            _line(exc.problem_mark or exc.context_mark),
            f"unsafe YAML tag ({str(exc.problem)[:200]})",
            "crewbench reads plain YAML only; remove the '!!' tag",
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise DefinitionError(
            source, _line(mark, column=True), f"malformed YAML: {str(problem)[:200]}",
            "fix the syntax at that position",
        ) from None
    except (ValueError, TypeError, RecursionError, OverflowError) as exc:
        # Last line of defence: a value the resolver accepts but Python cannot build.
        raise DefinitionError(source, None, f"cannot be read: {type(exc).__name__}: {str(exc)[:200]}",
                              "simplify the value the message names") from None


def load_yaml_file(path: str | Path) -> Any:
    return load_yaml_text(read_definition_text(path), path)


def read_definition_text(path: str | Path, fix_missing: str = "check the path") -> str:
    """A definition file's text, refused before reading when it is over the size limit."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise DefinitionError(path, None, "is a folder, not a file", "replace it with a file")
        if size > MAX_DEFINITION_BYTES:
            raise DefinitionError(path, None, f"is larger than {MAX_DEFINITION_BYTES:,} bytes",
                                  "split it, or move bulky data into a scenario's case file")
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DefinitionError(path, None, "file not found", fix_missing) from None
    except UnicodeDecodeError:
        raise DefinitionError(path, None, "not UTF-8 text", "save the file as UTF-8") from None
    except OSError as exc:
        raise DefinitionError(path, None, f"cannot be read ({exc.strerror or exc})",
                              "check the file's permissions") from None


class _NoAliasDumper(yaml.SafeDumper):
    """Writes a value shared by two keys out twice: the loader refuses aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_NoAliasDumper, sort_keys=False, allow_unicode=True, width=100)
