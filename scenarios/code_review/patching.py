"""Unified diffs for the code_review scenario: make them, and rebuild post-patch files from them.

Cases ship whole-file-context diffs (like ``git diff -U<large>``), so the post-patch file is
exactly the context and added lines of the diff. A diff with ordinary 3-line context still
works: lines the diff does not show are left blank, which keeps every reported line number
equal to the line number in the real file (the analysers may then report names defined in the
unseen part as undefined; tools mark findings outside the changed lines as such).
"""

from __future__ import annotations

import difflib
import re

__all__ = ["DiffError", "apply_diff", "changed_lines", "make_diff"]

HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
# A diff comes from a model or a case file: blank lines fill the gaps before a hunk, so a
# header such as '@@ -1 +30000000 @@' would otherwise allocate gigabytes.
MAX_LINE_NUMBER = 100_000
MAX_DIFF_CHARS = 2_000_000
SAFE_PATH = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*\.py$")


class DiffError(ValueError):
    """The text is not a unified diff this tool can apply."""


def make_diff(path: str, before: str | None, after: str) -> str:
    """A git-style whole-file diff of one file (before None: a new file)."""
    old = (before or "").splitlines(keepends=True)
    new = after.splitlines(keepends=True)
    header = f"diff --git a/{path} b/{path}\n" + ("new file mode 100644\n" if before is None else "")
    context = max(len(old), len(new))
    body = difflib.unified_diff(old, new, "/dev/null" if before is None else f"a/{path}",
                                f"b/{path}", n=context)
    return header + "".join(line if line.endswith("\n") else line + "\n" for line in body)


def _files(diff: str) -> dict[str, list[str]]:
    """Split a multi-file diff into {post-patch path: lines from its first hunk on}."""
    if len(diff) > MAX_DIFF_CHARS:
        raise DiffError(f"the diff has {len(diff):,} characters, more than {MAX_DIFF_CHARS:,}; review a smaller change")
    files: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            target = line[4:].split("\t")[0].strip()
            if target == "/dev/null":
                current = None  # a deleted file has no post-patch content to check
                continue
            path = target.removeprefix("b/")
            if not SAFE_PATH.match(path) or ".." in path.split("/"):
                raise DiffError(f"refusing file path {path!r}: expected a relative path to a .py file")
            current = files.setdefault(path, [])
        elif line.startswith(("--- ", "diff --git")):
            continue
        elif current is not None:
            current.append(line)
    if not files:
        raise DiffError("no '+++ b/<file>.py' header found: pass a unified diff (git diff output)")
    return files


def _walk(lines: list[str]):
    """Yield (new line number, text, added) for every line present in the post-patch file."""
    number = None
    for line in lines:
        match = HUNK.match(line)
        if match:
            start = match.group(1)
            if len(start) > 9 or int(start) > MAX_LINE_NUMBER:
                raise DiffError(f"hunk {line[:60]!r} starts past line {MAX_LINE_NUMBER:,}; "
                                "a reviewed file is never that long")
            number = int(start) or 1
            continue
        if number is None or line.startswith("\\"):
            continue  # before the first hunk, or '\ No newline at end of file'
        if line.startswith("-"):
            continue
        if line.startswith("+"):
            yield number, line[1:], True
        else:
            yield number, line.removeprefix(" "), False
        number += 1
        if number > MAX_LINE_NUMBER + 1:
            raise DiffError(f"the post-patch file would be longer than {MAX_LINE_NUMBER:,} lines")


def apply_diff(diff: str) -> dict[str, str]:
    """{path: post-patch content} for every file the diff adds or changes."""
    result: dict[str, str] = {}
    for path, lines in _files(diff).items():
        if not any(HUNK.match(line) for line in lines):
            raise DiffError(f"{path}: no '@@ -a,b +c,d @@' hunk header")
        content: dict[int, str] = {}
        for number, text, _ in _walk(lines):
            content[number] = text
        last = max(content, default=0)
        result[path] = "".join(content.get(n, "") + "\n" for n in range(1, last + 1))
    return result


def changed_lines(diff: str) -> dict[str, set[int]]:
    """{path: post-patch line numbers that the diff adds}."""
    return {path: {n for n, _, added in _walk(lines) if added} for path, lines in _files(diff).items()}
