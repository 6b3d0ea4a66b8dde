"""Definitions as pydantic models: the shared base, field types, and the error format.

A definition file is untrusted text, so every model is strict (no coercion: ``"5"`` is not an
int, ``true`` is not a number) and refuses keys it does not know. A refused document becomes
one ``DefinitionError`` in crewbench's format, ``file: field: problem — fix``: the first error
pydantic reports, its location written the way a person finds it in the file
(``tasks[0].expected_output``, ``agents.router.tools[1]``).

Checks that need more than the value (known tools, a role loader, the file name) read the
validation context: ``validate(Model, data, source, known_tools=...)``. A check raises
``fail(problem, fix)``; a check that already has the whole message (the task graph, which
always runs on the root crew) may raise the ``DefinitionError`` itself, and pydantic lets
it through untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from crewbench.definitions.limits import find_bad_value, has_lone_surrogate, short_repr
from crewbench.errors import CycleError, DefinitionError, UnknownReference

__all__ = [
    "ERROR_TYPE",
    "TAGS",
    "Definition",
    "check_identifier",
    "check_in_range",
    "check_json_value",
    "check_text",
    "choice",
    "fail",
    "location",
    "reraise",
    "to_definition_error",
    "validate",
]

ERROR_TYPE = "crewbench"
_KINDS: dict[str, type[DefinitionError]] = {
    "definition": DefinitionError, "unknown": UnknownReference, "cycle": CycleError,
}
_TYPE_NAMES = {
    "string_type": "str", "int_type": "int", "bool_type": "bool", "list_type": "list",
    "dict_type": "dict", "float_type": "float", "model_type": "dict",
    "model_attributes_type": "dict",
}
# Discriminator tags of tagged unions: part of pydantic's location, never of the file's.
TAGS = frozenset({"<inline>", "<ref>"})
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def fail(problem: str, fix: str, *, at: str = "", kind: str = "definition",
         key: Any = None) -> PydanticCustomError:
    """The error a check raises: ``at`` continues the field's location (``[2]``, ``.key``).
    A check of a mapping's key passes the ``key``: pydantic's location turns ``True`` into 1."""
    # pydantic-core holds these as UTF-8: a lone surrogate from the file would break the error.
    context = {"problem": _utf8(problem), "fix": _utf8(fix), "at": _utf8(at), "kind": kind}
    if key is not None:
        context["key"] = _utf8(key if isinstance(key, str) else short_repr(key))
    return PydanticCustomError(ERROR_TYPE, "{problem}", context)


def _utf8(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8") if has_lone_surrogate(text) else text


def reraise(exc: DefinitionError, at: str = "") -> PydanticCustomError:
    """A crewbench error from a helper, re-raised at this model's place in the document."""
    kind = next((name for name, cls in _KINDS.items() if type(exc) is cls), "definition")
    return fail(exc.problem, exc.fix or "", at=at, kind=kind)


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _join(field: str, more: str) -> str:
    if not more:
        return field
    if not field or more.startswith("["):
        return field + more
    return f"{field}.{more.lstrip('.')}"


def location(loc: Iterable[Any]) -> str:
    items = [item for item in loc if item not in TAGS]
    text = ""
    for position, item in enumerate(items):
        if item == "[key]":
            continue
        is_key = position + 1 < len(items) and items[position + 1] == "[key]"
        if isinstance(item, int) and not is_key:
            text += f"[{item}]"
        else:
            text = _join(text, item if isinstance(item, str) else short_repr(item))
    return text


def to_definition_error(exc: ValidationError, source: str) -> DefinitionError:
    error = exc.errors(include_url=False)[0]
    ctx = error.get("ctx") or {}
    loc = list(error["loc"])
    if "key" in ctx and "[key]" in loc:
        loc[loc.index("[key]") - 1] = ctx["key"]
    field = location(loc)
    if error["type"] == ERROR_TYPE:
        return _KINDS[ctx["kind"]](source, _join(field, ctx["at"]) or None, ctx["problem"],
                                   ctx["fix"] or None)
    value = error.get("input")
    if error["type"] in _TYPE_NAMES:
        name = _TYPE_NAMES[error["type"]]
        return DefinitionError(
            source, field or None,
            f"must be {_article(name)} {name}, got {type(value).__name__} {short_repr(value)}",
            f"write {field or 'it'} as {_article(name)} {name}")
    return DefinitionError(source, field or None, str(error["msg"])[:200],
                           "see the definition formats in the README")


def validate(model: type[BaseModel], data: Any, source: str, **context: Any) -> Any:
    """``model`` validated from ``data``; a refusal raises the first problem, named."""
    try:
        return model.model_validate(data, context={"source": source, **context})
    except ValidationError as exc:
        try:
            error = to_definition_error(exc, source)
        except UnicodeError:  # a lone surrogate in pydantic's own location or message
            error = DefinitionError(source, None, "holds a lone UTF-16 surrogate (\\ud800-\\udfff)",
                                    "use plain text, numbers, lists and mappings")
        raise error from None


class Definition(BaseModel):
    """Base of every definition model: strict, closed, and named in crewbench's words.

    The ``before`` check runs first, in the order the hand-written loaders had: the document
    is a mapping, it has no unknown key, the required keys are there. A key set to null is
    unset (YAML's ``key:`` with nothing after it) unless ``none_is_unset`` is False; the
    ``keep_none`` and ``empty_is_unset`` fields keep what the hand-written loaders accepted.
    """

    model_config = ConfigDict(strict=True, extra="forbid", hide_input_in_errors=True)

    shape_problem: ClassVar[tuple[str, str]] = ("must be a mapping", "write it as key: value lines")
    unknown_problem: ClassVar[tuple[str, str]] = ("is not a known field", "use one of {fields}")
    field_list: ClassVar[str] = ""
    # field -> (problem when missing or empty, its fix, problem when blank text, its fix)
    required: ClassVar[dict[str, tuple[str, str, str, str]]] = {}
    none_is_unset: ClassVar[bool] = True
    keep_none: ClassVar[frozenset[str]] = frozenset()      # null is a value to refuse here
    empty_is_unset: ClassVar[frozenset[str]] = frozenset()  # any empty value ([], 0, "") is unset

    @model_validator(mode="before")
    @classmethod
    def _shape(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            problem, fix = cls.shape_problem
            raise fail(problem.format(type=type(data).__name__), fix)
        fields, drop_none, keep_none, drop_empty = _RULES.get(cls) or _rules(cls)
        if not fields.issuperset(data):
            key = next(key for key in data if key not in fields)
            problem, fix = cls.unknown_problem
            label = key if isinstance(key, str) else short_repr(key)
            raise fail(problem, fix.format(fields=cls.field_list or ", ".join(cls.model_fields)),
                       at=label)
        if drop_none and (None in data.values() or drop_empty):
            data = {key: value for key, value in data.items()
                    if (value is not None or key in keep_none)
                    and (key not in drop_empty or _is_set(value))}
        for name, (missing, missing_fix, blank, blank_fix) in cls.required.items():
            value = data.get(name)
            if value is None or (isinstance(value, (str, list, dict)) and not value):
                raise fail(missing, missing_fix.format(name=name), at=name)
            if isinstance(value, str) and not value.strip():
                raise fail(blank, blank_fix.format(name=name), at=name)
        return data


# Per class, looked up once: ``cls.model_fields`` is a descriptor call on every access.
_RULES: dict[type, tuple[frozenset[str], bool, frozenset[str], frozenset[str]]] = {}


def _rules(cls) -> tuple[frozenset[str], bool, frozenset[str], frozenset[str]]:
    rules = _RULES[cls] = (frozenset(cls.model_fields), cls.none_is_unset, cls.keep_none,
                           cls.empty_is_unset)
    return rules


def _is_set(value: Any) -> bool:
    try:
        return bool(value)
    except Exception:  # noqa: BLE001 — a value without a truth value is set (and then refused)
        return True


# ---------------------------------------------------------------- field checks


def check_text(value: str) -> str:
    if has_lone_surrogate(value):
        raise fail("holds a lone UTF-16 surrogate (\\ud800-\\udfff)",
                   "use plain text, numbers, lists and mappings")
    return value


def check_json_value(value: Any) -> Any:
    """Refuse what would fail at run time when the value is hashed, stored or sent as JSON."""
    bad = find_bad_value(value)
    if bad is not None:
        raise fail(bad[1], "use plain text, numbers, lists and mappings", at=bad[0])
    return value


def check_identifier(what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not value or value[0].isdigit() or not _NAME_CHARS.issuperset(value):
            raise fail(f"{what} {short_repr(value)} is not a valid identifier",
                       "use letters, digits and underscores, not starting with a digit")
        return value

    return check


def check_in_range(low: int, high: int) -> Callable[[int], int]:
    def check(value: int) -> int:
        if not low <= value <= high:
            raise fail(f"{value} is out of range", f"use a value from {low} to {high}")
        return value

    return check


def choice(options: tuple[str, ...], noun: str, some: str = "one",
           fix: str | None = None) -> Callable[[Any], str]:
    """A text that must be one of ``options``, named the way crewbench always named it."""
    allowed = frozenset(options)
    fix = fix or f"use {some} of {', '.join(options)}"

    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in allowed:
            raise fail(f"unknown {noun} {short_repr(value)}", fix)
        return value

    return check
