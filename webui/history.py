"""The history index: an SQLite file inside the outputs folder, one row per image.

The PNGs are the source of truth (each carries its record in a `generation` chunk);
the `images` table only makes listing and searching fast. It can always be rebuilt
from the files, so a missing or corrupt index is an inconvenience, never a loss of
images. The `quota` table (per-user daily counters) lives in the same file so one
transaction can guard it across processes; it is the one thing a rebuild resets.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
import threading
import time
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Literal, Mapping, Sequence

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
MAX_LIMIT = 500

_IMAGES_TABLE = """
CREATE TABLE IF NOT EXISTS images (
    id          TEXT PRIMARY KEY,
    file        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    prompt      TEXT NOT NULL,
    model       TEXT NOT NULL,
    image_size  TEXT NOT NULL,
    seed        INTEGER,
    user        TEXT,
    inference   REAL,
    record      TEXT NOT NULL
)"""
# Each filter column leads an index ending in the sort order, so a filtered first
# page is an index range read in order, not a scan and a sort; `distinct()` reads
# the same indexes.
_INDEXES = (
    "CREATE INDEX IF NOT EXISTS images_created ON images (created_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS images_user ON images (user, created_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS images_model ON images (model, created_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS images_size ON images (image_size, created_at DESC, id DESC)",
)
_QUOTA_TABLE = """
CREATE TABLE IF NOT EXISTS quota (
    user  TEXT NOT NULL,
    day   TEXT NOT NULL,
    used  INTEGER NOT NULL,
    PRIMARY KEY (user, day)
)"""
_SCHEMA = (_IMAGES_TABLE, *_INDEXES, _QUOTA_TABLE)

# Only numbers count as an inference time, as in `_row` (JSON true is not 1 ms).
_INFERENCE_FROM_RECORD = """
CASE WHEN json_valid(record) THEN
    CASE WHEN json_type(record, '$.inference') IN ('integer', 'real')
    THEN json_extract(record, '$.inference') END
END"""
# _UPGRADES[v] takes a file from version v to v + 1, inside one transaction.
_UPGRADES: Mapping[int, tuple[str, ...]] = {
    1: (
        "ALTER TABLE images ADD COLUMN inference REAL",
        f"UPDATE images SET inference = {_INFERENCE_FROM_RECORD}",
        *_INDEXES,
        _QUOTA_TABLE,
    ),
}

_COLUMNS = ("id", "file", "created_at", "prompt", "model", "image_size", "seed", "user", "inference")
_INSERT = (
    f"INSERT OR IGNORE INTO images ({', '.join(_COLUMNS)}, record) "
    f"VALUES ({', '.join('?' * (len(_COLUMNS) + 1))})"
)
DistinctColumn = Literal["model", "image_size", "user"]
_DISTINCT_COLUMNS: frozenset[str] = frozenset(("model", "image_size", "user"))


class IndexUnreadable(Exception):
    """The file exists but is not a usable index (corrupt, foreign, unknown version)."""


def _contains(haystack: str | None, needle: str) -> int:
    """Case-insensitive substring test for SQL; casefold handles non-ASCII too (LIKE doesn't)."""
    return int(haystack is not None and needle in haystack.casefold())


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT: takes the file's write lock up front.

    Reads inside see the latest commit of every process, and no other writer can
    slip in between a read and the write that depends on it.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if conn.in_transaction:  # some errors (disk full) have rolled back already
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class HistoryIndex:
    """Rows of image records and quota counters behind one lock-guarded connection.

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
        """Raise IndexUnreadable unless the file is our index; upgrade an older schema in place.

        An upgrade keeps the rows and the quota counters; only a file we can't read
        is worth moving aside and rebuilding.
        """
        try:
            with self._connect() as conn:
                with _transaction(conn):
                    self._ensure_schema(conn, allow_create=False)
                conn.execute("SELECT id, file, inference, record FROM images LIMIT 1").fetchall()
                conn.execute("SELECT user, day, used FROM quota LIMIT 1").fetchall()
        except sqlite3.DatabaseError as exc:
            self.close()
            raise IndexUnreadable(str(exc)) from None

    def create(self) -> None:
        """Make a new index (or finish one another process is making)."""
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode = WAL")
            with _transaction(conn):
                self._ensure_schema(conn, allow_create=True)

    @staticmethod
    def _ensure_schema(conn: sqlite3.Connection, *, allow_create: bool) -> None:
        """Bring the file to SCHEMA_VERSION; call inside a write transaction.

        The version is read under the write lock, so of two processes opening an old
        file at once, one upgrades and the other then finds it done.
        """
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if version == 0 and not tables and allow_create:
            for statement in _SCHEMA:
                conn.execute(statement)
        elif "images" not in tables or not (version == SCHEMA_VERSION or version in _UPGRADES):
            raise IndexUnreadable(f"schema version {version}, tables {sorted(tables)}")
        else:
            for step in range(version, SCHEMA_VERSION):
                for statement in _UPGRADES[step]:
                    conn.execute(statement)
                log.info("History index upgraded from schema version %d to %d.", step, step + 1)
        if version != SCHEMA_VERSION:
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
        with self._connect() as conn, _transaction(conn):
            before = conn.total_changes
            conn.executemany(_INSERT, rows)
            return conn.total_changes - before

    def remove(self, record_id: str) -> bool:
        """Drop one row by id; True if there was one."""
        with self._connect() as conn:
            return conn.execute("DELETE FROM images WHERE id = ?", (record_id,)).rowcount > 0

    def remove_files(self, files: Iterable[str]) -> int:
        files = list(files)
        if not files:
            return 0
        with self._connect() as conn, _transaction(conn):
            before = conn.total_changes
            conn.executemany("DELETE FROM images WHERE file = ?", [(f,) for f in files])
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
        self,
        query: str = "",
        offset: int = 0,
        limit: int = 50,
        user: str | None = None,
        *,
        model: str | None = None,
        image_size: str | None = None,
        users: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Records newest first, all filters combined (AND).

        `query` is a case-insensitive substring of the prompt; `user` is the one owner
        ("mine", private mode); `users` keeps only these owners (None: everyone, empty:
        no one); `model` and `image_size` are exact ("" or None: any).
        """
        where, args = _filters(query, user, model, image_size, users)
        sql = f"SELECT record FROM images{where} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?"
        args += [min(max(1, limit), MAX_LIMIT), max(0, offset)]
        with self._connect() as conn:
            return [json.loads(r[0]) for r in conn.execute(sql, args)]

    def count_matching(
        self,
        query: str = "",
        user: str | None = None,
        *,
        model: str | None = None,
        image_size: str | None = None,
        users: Sequence[str] | None = None,
    ) -> int:
        """How many records `search` would page through with the same filters ("page X of Y")."""
        where, args = _filters(query, user, model, image_size, users)
        with self._connect() as conn:
            return conn.execute(f"SELECT count(*) FROM images{where}", args).fetchone()[0]

    def distinct(self, column: DistinctColumn) -> list[str]:
        """Sorted values a filter dropdown can offer; NULL and "" (which mean "any") left out."""
        if column not in _DISTINCT_COLUMNS:  # the name goes into the SQL text
            raise ValueError(f"cannot list distinct values of {column!r}")
        sql = (
            f"SELECT DISTINCT {column} FROM images "
            f"WHERE {column} IS NOT NULL AND {column} != '' ORDER BY {column}"
        )
        with self._connect() as conn:
            return [r[0] for r in conn.execute(sql)]

    def usage(self, days: int = 30, today: str | None = None) -> list[dict[str, Any]]:
        """Images and inference time per day, user and model, newest day first.

        Covers the `days` days ending with `today` (YYYY-MM-DD, default: today in UTC).
        The day is `created_at[:10]`; the range test on `created_at` itself uses its index.
        """
        if days < 1:
            return []
        last = date.fromisoformat(today) if today else datetime.now(timezone.utc).date()
        first = last - timedelta(days=days - 1)
        sql = """
            SELECT substr(created_at, 1, 10) AS day, user, model, count(*), avg(inference), sum(inference)
            FROM images WHERE created_at >= ? AND created_at < ?
            GROUP BY day, user, model
            ORDER BY day DESC, user, model"""
        args = (first.isoformat(), (last + timedelta(days=1)).isoformat())
        with self._connect() as conn:
            rows = conn.execute(sql, args).fetchall()
        keys = ("day", "user", "model", "images", "avg_inference_ms", "total_inference_ms")
        return [dict(zip(keys, row)) for row in rows]

    # -- quota ----------------------------------------------------------------------

    def reserve_quota(self, user: str, day: str, limit: int) -> tuple[bool, int]:
        """Take one of `user`'s `limit` generations for `day`: (granted, used afterwards).

        Read and increment share one BEGIN IMMEDIATE transaction, so neither other
        threads nor another process on the same file can both see the last free slot.
        """
        user = user or ""  # anonymous
        with self._connect() as conn, _transaction(conn):
            row = conn.execute("SELECT used FROM quota WHERE user = ? AND day = ?", (user, day)).fetchone()
            used = row[0] if row else 0
            if used >= limit:
                return False, used
            conn.execute(
                "INSERT INTO quota (user, day, used) VALUES (?, ?, 1) "
                "ON CONFLICT (user, day) DO UPDATE SET used = used + 1",
                (user, day),
            )
            return True, used + 1

    def release_quota(self, user: str, day: str) -> None:
        """Give back one generation (the API failed, so it shouldn't count); never below 0."""
        with self._connect() as conn:
            conn.execute(
                "UPDATE quota SET used = used - 1 WHERE user = ? AND day = ? AND used > 0",
                (user or "", day),
            )

    def quota_used(self, user: str, day: str) -> int:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT used FROM quota WHERE user = ? AND day = ?", (user or "", day)
            ).fetchone()
        return row[0] if row else 0


def _filters(
    query: str,
    user: str | None,
    model: str | None,
    image_size: str | None,
    users: Sequence[str] | None,
) -> tuple[str, list[Any]]:
    """The WHERE clause (with its leading space, or "") and arguments shared by search and count."""
    where: list[str] = []
    args: list[Any] = []
    if query:
        where.append("contains_ci(prompt, ?)")
        args.append(query.casefold())
    for column, value in (("user", user), ("model", model or None), ("image_size", image_size or None)):
        if value is not None:
            where.append(f"{column} = ?")
            args.append(value)
    if users is not None:
        clause, names = _owners_clause(users)
        where.append(clause)
        args += names
    return (" WHERE " + " AND ".join(where), args) if where else ("", args)


def _owners_clause(users: Sequence[str | None]) -> tuple[str, list[str]]:
    """`user IN (...)`, plus `user IS NULL` if None is listed; no owners matches nothing."""
    if isinstance(users, str):  # a lone name, not its letters
        users = [users]
    names = sorted({u for u in users if u is not None})
    parts = [f"user IN ({', '.join('?' * len(names))})"] if names else []
    if any(u is None for u in users):
        parts.append("user IS NULL")
    return ("(" + " OR ".join(parts) + ")" if parts else "0"), names


def _number(value: Any) -> float | None:
    """A finite int/float as float, else None (bools and strings are not timings)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int too big for a float
        return None
    return number if math.isfinite(number) else None


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
        _number(record.get("inference")),
        json.dumps(dict(record), ensure_ascii=False),
    )
