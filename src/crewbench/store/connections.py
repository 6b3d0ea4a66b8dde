"""SQLite connections for runs.db: one writer behind a lock, one read connection per thread.

This is datasette's pattern. sqlite-utils' ``query()`` wraps every read in a named savepoint,
so two threads sharing one connection unlocked can release each other's savepoint ("no such
savepoint"); a Streamlit server runs every session in its own thread. WAL lets the readers run
while the writer commits. Writes go through ``write()``: ``BEGIN IMMEDIATE`` takes SQLite's
write lock up front (a deferred transaction that upgrades later fails at once with
SQLITE_BUSY instead of waiting), and sqlite-utils 4's inserts nest as savepoints inside it,
so a block is all or nothing.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils

from crewbench.errors import StoreError

__all__ = ["BUSY_TIMEOUT_S", "Connections"]

BUSY_TIMEOUT_S = 30.0
MEMORY = ":memory:"


def _connect(path: str) -> sqlite_utils.Database:
    # isolation_level=None: the driver opens no implicit transactions; write() and
    # sqlite-utils' atomic() say where each one begins and ends.
    connection = sqlite3.connect(path, check_same_thread=False, timeout=BUSY_TIMEOUT_S,
                                 isolation_level=None)
    db = sqlite_utils.Database(connection)
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA synchronous = NORMAL")
    return db


def _create_private(path: Path) -> None:
    """Create an empty runs.db readable by its owner only (it holds prompts and outputs).
    SQLite gives the -wal and -shm files the database file's mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass


class Connections:
    """The writer (use it only inside ``write()``) and the calling thread's reader."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        self.memory = self.path == MEMORY
        self._lock = threading.RLock()
        self._readers: dict[threading.Thread, sqlite_utils.Database] = {}
        self._readers_lock = threading.Lock()
        try:
            if not self.memory:
                _create_private(Path(self.path))
            self.writer = _connect(self.path)
            if not self.memory:
                # journal_mode=wal needs a moment of exclusive access: another process
                # creating the same file makes it fail with "database is locked" once.
                self._retry_locked(self.writer.enable_wal)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: not a usable SQLite database ({exc}); "
                             "pass another --db path") from None

    @staticmethod
    def _retry_locked(fn, attempts: int = 50) -> None:
        for attempt in range(attempts):
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == attempts - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))

    @property
    def reader(self) -> sqlite_utils.Database:
        """This thread's read connection (an in-memory db has only the writer)."""
        if self.memory:
            return self.writer
        thread = threading.current_thread()
        db = self._readers.get(thread)
        if db is None:
            with self._readers_lock:
                for dead in [t for t in self._readers if not t.is_alive()]:
                    self._readers.pop(dead).close()
                db = self._readers[thread] = _connect(self.path)
        return db

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """One transaction on the writer; a nested block is a savepoint of the outer one."""
        with self._lock:
            db = self.writer
            if db.conn.in_transaction:
                with db.atomic():
                    yield db
                return
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.rollback()
                raise
            else:
                try:
                    db.execute("COMMIT")
                except BaseException:
                    db.rollback()
                    raise

    def close(self) -> None:
        with self._readers_lock:
            for db in self._readers.values():
                db.close()
            self._readers.clear()
        with self._lock:
            self.writer.close()
