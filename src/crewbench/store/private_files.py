"""Files that carry run data outside runs.db (result exports, HTML reports, exported projects
with their cases) are created readable by their owner only, like runs.db itself: prompts, case
inputs and answers are often the very data a team may not share with other local users.

``write_private`` creates the file with mode 0600 through ``os.open`` (the umask can only
tighten it) and tightens a file that already exists, then writes; ``open_private`` is the same
for callers that stream (CSV writers).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

__all__ = ["PRIVATE_MODE", "open_private", "write_private"]

PRIVATE_MODE = 0o600


def open_private(path: str | Path, *, binary: bool = False, newline: str | None = None) -> IO:
    path = Path(path)
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_MODE)
    try:
        # O_CREAT keeps an existing file's mode: an old 0644 report would stay readable.
        os.fchmod(handle, os.fstat(handle).st_mode & PRIVATE_MODE)
    except BaseException:
        os.close(handle)
        raise
    if binary:
        return os.fdopen(handle, "wb")
    return os.fdopen(handle, "w", encoding="utf-8", newline=newline)


def write_private(path: str | Path, data: str | bytes) -> Path:
    with open_private(path, binary=isinstance(data, bytes)) as stream:
        stream.write(data)
    return Path(path)
