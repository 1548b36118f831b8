"""One SQLite connection per file, opened on first use and shared by threads under a lock.

Reopening per call made every write recreate the WAL files and checkpoint on close;
one long-lived connection makes an insert an append. Gradio runs handlers in worker
threads, so the connection is shared (`check_same_thread=False`) and every use holds
the lock. Autocommit (`isolation_level=None`): transactions are explicit where needed.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

BUSY_TIMEOUT_S = 30  # how long a writer waits for another process's write lock
JOURNAL_SUFFIXES = ("-journal", "-wal", "-shm")  # the files SQLite keeps beside a database


def journal_files(path: Path) -> list[Path]:
    """The journal files SQLite may keep beside the database at `path`."""
    return [path.with_name(path.name + suffix) for suffix in JOURNAL_SUFFIXES]


def database_files(path: Path) -> list[Path]:
    """A database file and its journal files: what must never be served or left behind."""
    return [path, *journal_files(path)]


class SharedConnection:
    """`with db() as conn:` gives the one connection; `setup` runs once when it opens."""

    def __init__(self, path: Path, setup: Callable[[sqlite3.Connection], None] | None = None) -> None:
        self.path = Path(path)
        self._setup = setup
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.RLock()  # re-entrant: a method may call another that connects

    @contextmanager
    def __call__(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn is None:
                conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
                conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
                if self._setup is not None:
                    self._setup(conn)
                self._conn = conn
            yield self._conn

    def close(self) -> None:
        """Close it; the next use opens it again."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
