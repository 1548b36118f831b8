"""The history index: an SQLite file inside the outputs folder, one row per image.

The PNGs are the source of truth (each carries its record in a `generation` chunk);
this index only makes listing and searching fast. It can always be rebuilt from
the files, so a missing or corrupt index is an inconvenience, never a loss.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
MAX_LIMIT = 500

_SCHEMA = """
CREATE TABLE IF NOT EXISTS images (
    id          TEXT PRIMARY KEY,
    file        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    prompt      TEXT NOT NULL,
    model       TEXT NOT NULL,
    image_size  TEXT NOT NULL,
    seed        INTEGER,
    user        TEXT,
    record      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS images_created ON images (created_at DESC, id DESC);
"""

_COLUMNS = ("id", "file", "created_at", "prompt", "model", "image_size", "seed", "user")
_INSERT = (
    f"INSERT OR IGNORE INTO images ({', '.join(_COLUMNS)}, record) "
    f"VALUES ({', '.join('?' * (len(_COLUMNS) + 1))})"
)


class IndexUnreadable(Exception):
    """The file exists but is not a usable index (corrupt, foreign, wrong version)."""


def _contains(haystack: str | None, needle: str) -> int:
    """Case-insensitive substring test for SQL; casefold handles non-ASCII too (LIKE doesn't)."""
    return int(haystack is not None and needle in haystack.casefold())


class HistoryIndex:
    """Rows of image records behind one lock-guarded connection.

    Thread-safe under Gradio's worker threads; two app processes can share the file
    (WAL mode, a busy timeout for the writer lock).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.RLock()

    # -- lifecycle ------------------------------------------------------------------

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """The one connection, opened on first use and shared under a lock.

        Reopening per call made every save recreate the WAL files and checkpoint on
        close; one long-lived connection makes an insert a WAL append.
        """
        with self._lock:
            if self._conn is None:
                conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA busy_timeout = 30000")
                # The index can be rebuilt from the PNGs: a WAL without fsync per commit is enough.
                conn.execute("PRAGMA synchronous = NORMAL")
                conn.create_function("contains_ci", 2, _contains, deterministic=True)
                self._conn = conn
            yield self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def check(self) -> None:
        """Raise IndexUnreadable unless the file is our index at our schema version."""
        try:
            with self._connect() as conn:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
                if version != SCHEMA_VERSION or "images" not in tables:
                    raise IndexUnreadable(f"schema version {version}, tables {sorted(tables)}")
                conn.execute("SELECT id, file, record FROM images LIMIT 1").fetchall()
        except sqlite3.DatabaseError as exc:
            self.close()
            raise IndexUnreadable(str(exc)) from None

    def create(self) -> None:
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.executescript(_SCHEMA)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def move_aside(self) -> Path | None:
        """Rename an unreadable index (and its WAL files) so a fresh one can be built."""
        self.close()
        if not self.path.exists():
            return None
        aside = self.path.with_name(f"{self.path.name}.broken-{int(time.time())}")
        self.path.replace(aside)
        for suffix in ("-wal", "-shm"):
            extra = self.path.with_name(self.path.name + suffix)
            if extra.exists():
                extra.unlink()
        return aside

    # -- writes ---------------------------------------------------------------------

    def add(self, record: Mapping[str, Any]) -> None:
        """Insert one record (an autocommit statement: one WAL append, no extra round trips)."""
        with self._connect() as conn:
            conn.execute(_INSERT, _row(record))

    def add_many(self, records: Iterable[Mapping[str, Any]]) -> int:
        """Insert records, ignoring ones already indexed (by id or by file)."""
        rows = [_row(r) for r in records]
        if not rows:
            return 0
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            before = conn.total_changes
            conn.executemany(_INSERT, rows)
            conn.execute("COMMIT")
            return conn.total_changes - before

    def remove_files(self, files: Iterable[str]) -> int:
        files = list(files)
        if not files:
            return 0
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            before = conn.total_changes
            conn.executemany("DELETE FROM images WHERE file = ?", [(f,) for f in files])
            conn.execute("COMMIT")
            return conn.total_changes - before

    # -- reads ----------------------------------------------------------------------

    def files(self) -> set[str]:
        with self._connect() as conn:
            return {row[0] for row in conn.execute("SELECT file FROM images")}

    def count(self) -> int:
        with self._connect() as conn:
            return conn.execute("SELECT count(*) FROM images").fetchone()[0]

    def get(self, record_id: str) -> dict[str, Any] | None:
        with self._connect() as conn:
            row = conn.execute("SELECT record FROM images WHERE id = ?", (record_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def search(
        self, query: str = "", offset: int = 0, limit: int = 50, user: str | None = None
    ) -> list[dict[str, Any]]:
        """Records newest first; `query` is a case-insensitive substring of the prompt."""
        where, args = [], []
        if query:
            where.append("contains_ci(prompt, ?)")
            args.append(query.casefold())
        if user is not None:
            where.append("user = ?")
            args.append(user)
        sql = "SELECT record FROM images"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?"
        args += [min(max(1, limit), MAX_LIMIT), max(0, offset)]
        with self._connect() as conn:
            return [json.loads(r[0]) for r in conn.execute(sql, args)]


def _row(record: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        str(record["id"]),
        str(record["file"]),
        str(record["created_at"]),
        str(record.get("prompt") or ""),
        str(record.get("model") or ""),
        str(record.get("image_size") or ""),
        record.get("seed") if isinstance(record.get("seed"), int) else None,
        record.get("user"),
        json.dumps(dict(record), ensure_ascii=False),
    )
