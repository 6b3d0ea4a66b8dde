"""Rename, duplicate and delete crew and role files from the pages, keeping their comments.

Files are copied as text (only the crew's ``name:`` line changes), so a rename or a duplicate
keeps the author's comments and layout, which a load-and-dump would lose. A role that crews
still reference is neither renamed nor deleted: those crews would stop loading.
"""

from __future__ import annotations

import re
from pathlib import Path

from crewbench.definitions.config import NAME_PATTERN
from crewbench.errors import DefinitionError

__all__ = ["check_new_name", "delete_crew", "duplicate_crew", "rename_crew", "rename_role", "task_label"]


def check_new_name(folder: Path, name: str, kind: str) -> Path:
    """The path a new ``kind`` file would take; refuses bad or taken names (name kept in the message)."""
    name = name.strip()
    path = folder / f"{name}.yaml"
    if not NAME_PATTERN.match(name):
        raise DefinitionError(path, "name", f"{name!r} is not a valid {kind} name",
                              "use letters, digits and underscores, not starting with a digit")
    if path.exists():
        raise DefinitionError(path, "name", f"a {kind} named {name!r} already exists",
                              "pick another name, or open that one and edit it")
    return path


def _renamed_crew_text(text: str, old: str, new: str) -> str:
    pattern = re.compile(rf"^name:[ \t]*['\"]?{re.escape(old)}['\"]?[ \t]*(#.*)?$", re.MULTILINE)
    if pattern.search(text):
        return pattern.sub(lambda m: f"name: {new}" + (f"  {m.group(1)}" if m.group(1) else ""), text, count=1)
    return f"name: {new}\n{text}"  # no top-level name line: the file name was the name


def duplicate_crew(ws, old: str, new: str) -> Path:
    source = ws.crews_dir / f"{old}.yaml"
    target = check_new_name(ws.crews_dir, new, "crew")
    target.write_text(_renamed_crew_text(source.read_text(encoding="utf-8"), old, new.strip()), encoding="utf-8")
    try:
        ws.crew(new.strip())
    except Exception:
        target.unlink(missing_ok=True)  # never leave a copy that does not load
        raise
    return target


def rename_crew(ws, old: str, new: str) -> Path:
    target = duplicate_crew(ws, old, new)
    (ws.crews_dir / f"{old}.yaml").unlink()
    return target


def delete_crew(ws, name: str) -> None:
    (ws.crews_dir / f"{name}.yaml").unlink(missing_ok=True)


def rename_role(ws, old: str, new: str) -> Path:
    users = [crew for crew in ws.crew_names() if old in ws._raw_role_refs(crew)]
    if users:
        raise DefinitionError(ws.roles_dir / f"{old}.yaml", None, f"is used by crews {', '.join(users)}",
                              "duplicate it under the new name, point those crews at the copy, "
                              "then delete this one")
    target = check_new_name(ws.roles_dir, new, "role")
    target.write_text((ws.roles_dir / f"{old}.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (ws.roles_dir / f"{old}.yaml").unlink()
    return target


def task_label(text: str) -> str:
    """Error text with ``tasks[0]`` spelled the way the page counts: ``task 1``."""
    return re.sub(r"tasks\[(\d+)\]", lambda m: f"task {int(m.group(1)) + 1}", text)
