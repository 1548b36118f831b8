"""The history index: an SQLite file inside the outputs folder, one row per image.

The PNGs are the source of truth (each carries its record in a `generation` chunk);
the `images` table only makes listing and searching fast. It can always be rebuilt
from the files, so a missing or corrupt index is an inconvenience, never a loss of
images. The `quota` table (per-user daily counters) lives in the same file so one
transaction can guard it across processes; it and `handed_files` (which user the app
handed each file in Gradio's cache to, see `guard.HandedFiles`) are what a rebuild resets.
"""

from __future__ import annotations

import glob
import json
import logging
import sqlite3
import threading
import time
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Literal, Mapping, Sequence

from .db import SharedConnection, journal_files
from .query import Query, Term, parse_query
from .record import ROW_COLUMNS, Record

log = logging.getLogger(__name__)

SCHEMA_VERSION = 5
MAX_LIMIT = 500
_ASIDE = ".broken-"  # an unreadable index moved aside: `<name>.broken-<epoch>`

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
    record      TEXT NOT NULL,
    starred     INTEGER NOT NULL DEFAULT 0,
    rating      INTEGER NOT NULL DEFAULT 0
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
# Version 3: marks, boards, saved searches and a trigram index of the prompts.
_MARK_INDEXES = (
    "CREATE INDEX IF NOT EXISTS images_starred ON images (starred, created_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS images_rating ON images (rating, created_at DESC, id DESC)",
)
# A board belongs to its owner ("" without login); its name is unique per owner, any case.
_BOARD_TABLES = (
    """CREATE TABLE IF NOT EXISTS boards (
    id          INTEGER PRIMARY KEY,
    owner       TEXT NOT NULL,
    name        TEXT NOT NULL COLLATE NOCASE,
    shared      INTEGER NOT NULL DEFAULT 0,
    UNIQUE (owner, name)
)""",
    """CREATE TABLE IF NOT EXISTS board_images (
    board  INTEGER NOT NULL,
    image  TEXT NOT NULL,
    PRIMARY KEY (board, image)
) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS board_images_image ON board_images (image)",
    """CREATE TABLE IF NOT EXISTS saved_searches (
    owner  TEXT NOT NULL,
    name   TEXT NOT NULL,
    query  TEXT NOT NULL,
    PRIMARY KEY (owner, name)
)""",
)
# The trigram tokenizer matches any substring of 3+ characters, any script, any case;
# the table holds no text of its own (content=images), the triggers keep it in step.
_PROMPT_INDEX = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS prompts USING fts5("
    "prompt, content='images', content_rowid='rowid', tokenize='trigram')",
    """CREATE TRIGGER IF NOT EXISTS prompts_insert AFTER INSERT ON images BEGIN
    INSERT INTO prompts (rowid, prompt) VALUES (new.rowid, new.prompt); END""",
    """CREATE TRIGGER IF NOT EXISTS prompts_delete AFTER DELETE ON images BEGIN
    INSERT INTO prompts (prompts, rowid, prompt) VALUES ('delete', old.rowid, old.prompt); END""",
    """CREATE TRIGGER IF NOT EXISTS prompts_update AFTER UPDATE OF prompt ON images BEGIN
    INSERT INTO prompts (prompts, rowid, prompt) VALUES ('delete', old.rowid, old.prompt);
    INSERT INTO prompts (rowid, prompt) VALUES (new.rowid, new.prompt); END""",
    # a row removed while a board still lists it: the board forgets it
    """CREATE TRIGGER IF NOT EXISTS images_unboard AFTER DELETE ON images BEGIN
    DELETE FROM board_images WHERE image = old.id; END""",
)
_MIN_TRIGRAM = 3
# Version 4: each folder's modification time when the index last matched it, so a start
# reads only the folders that changed ("" is the outputs folder, else "2026-11-26/").
_FOLDERS_TABLE = "CREATE TABLE IF NOT EXISTS folders (prefix TEXT PRIMARY KEY, mtime_ns INTEGER NOT NULL)"
_QUOTA_TABLE = """
CREATE TABLE IF NOT EXISTS quota (
    user  TEXT NOT NULL,
    day   TEXT NOT NULL,
    used  INTEGER NOT NULL,
    PRIMARY KEY (user, day)
)"""
# Version 5: the owner ledger of files in Gradio's folders (path resolved; user "" without
# login; handed_at in epoch seconds), so ownership outlives a restart and is shared by processes.
_HANDED_TABLE = """
CREATE TABLE IF NOT EXISTS handed_files (
    path       TEXT NOT NULL,
    user       TEXT NOT NULL,
    handed_at  INTEGER NOT NULL,
    PRIMARY KEY (path, user)
) WITHOUT ROWID"""
_SCHEMA = (_IMAGES_TABLE, *_INDEXES, _QUOTA_TABLE, *_MARK_INDEXES, *_BOARD_TABLES, *_PROMPT_INDEX, _FOLDERS_TABLE,
           _HANDED_TABLE)

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
    2: (
        "ALTER TABLE images ADD COLUMN starred INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE images ADD COLUMN rating INTEGER NOT NULL DEFAULT 0",
        *_MARK_INDEXES,
        *_BOARD_TABLES,
        *_PROMPT_INDEX,
        "INSERT INTO prompts (prompts) VALUES ('rebuild')",
    ),
    3: (_FOLDERS_TABLE,),
    4: (_HANDED_TABLE,),
}

_INSERT = f"INSERT OR IGNORE INTO images ({', '.join(ROW_COLUMNS)}) VALUES ({', '.join('?' * len(ROW_COLUMNS))})"
DistinctColumn = Literal["model", "image_size", "user"]
_DISTINCT_COLUMNS: frozenset[str] = frozenset(("model", "image_size", "user"))


class IndexUnreadable(Exception):
    """The file exists but is not a usable index (corrupt, foreign, unknown version)."""


def _prepare(conn: sqlite3.Connection) -> None:
    # The index can be rebuilt from the PNGs: a WAL without fsync per commit is enough.
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.create_function("contains_ci", 2, _contains, deterministic=True)


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

    def __init__(self, path: Path, folder: Path | None = None) -> None:
        self.path = path
        self.folder = folder  # the folder rows' `file` is relative to: `search` drops rows whose file is gone
        self._connect = SharedConnection(path, _prepare)
        self._pending: list[Mapping[str, Any] | Record] = []  # refused by `add`, inserted before the next read
        self._pending_lock = threading.Lock()

    # -- lifecycle ------------------------------------------------------------------

    def close(self) -> None:
        self._connect.close()

    def check(self) -> None:
        """Raise IndexUnreadable unless the file is our index; upgrade an older schema in place.

        An upgrade keeps the rows and the quota counters; only a file we can't read
        is worth moving aside and rebuilding.
        """
        try:
            with self._connect() as conn:
                with _transaction(conn):
                    self._ensure_schema(conn, allow_create=False)
                conn.execute("SELECT id, file, inference, record, starred, rating FROM images LIMIT 1").fetchall()
                conn.execute("SELECT board, image FROM board_images LIMIT 1").fetchall()
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
        aside = self.aside_path(int(time.time()))
        self.path.replace(aside)
        for extra in journal_files(self.path):
            extra.unlink(missing_ok=True)
        return aside

    def aside_path(self, epoch: int) -> Path:
        """Where `move_aside` puts an unreadable index at `epoch` (kept for whoever wants to look)."""
        return self.path.with_name(f"{self.path.name}{_ASIDE}{epoch}")

    def moved_aside(self) -> list[Path]:
        """The unreadable indexes moved aside so far."""
        return sorted(self.path.parent.glob(f"{glob.escape(self.path.name)}{_ASIDE}*"))

    # -- writes ---------------------------------------------------------------------

    def add(self, record: Mapping[str, Any] | Record) -> None:
        """Insert one record (an autocommit statement: one WAL append, no extra round trips)."""
        row = _row(record)
        with self._connect() as conn:
            conn.execute(_INSERT, row)
        self._restore_boards([record])

    def add_later(self, record: Mapping[str, Any] | Record) -> None:
        """A record `add` refused (its image is saved): inserted again before the next read,
        so a saved image never stays hidden."""
        with self._pending_lock:
            self._pending.append(record)

    def _add_pending(self) -> None:
        if not self._pending:
            return
        with self._pending_lock:
            pending, self._pending = self._pending, []
        try:
            self.add_many(pending)
        except Exception as exc:
            log.warning("Still cannot index %d saved image(s): %s", len(pending), exc)
            with self._pending_lock:
                self._pending[:0] = pending

    def add_many(self, records: Iterable[Mapping[str, Any] | Record]) -> int:
        """Insert records, ignoring ones already indexed (by id or by file)."""
        records = list(records)
        rows = [_row(r) for r in records]
        if not rows:
            return 0
        with self._connect() as conn, _transaction(conn):
            before = conn.total_changes
            conn.executemany(_INSERT, rows)
            added = conn.total_changes - before
        self._restore_boards(records)
        return added

    def _restore_boards(self, records: Iterable[Mapping[str, Any] | Record]) -> None:
        """Boards named in records read from files (a rebuild, a restore) come back.

        The PNG keeps board names only: each goes to the image owner's own board of that
        name (made private if it is not there yet), never to a teammate's board.
        """
        for item in records:
            record = item if isinstance(item, Record) else Record.from_mapping(item)
            for name in record.boards:
                self.link(self.make_board(record.user, name), [record.id], add=True)

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

    def files_in(self, folders: Sequence[str], trees: Sequence[str] = ()) -> set[str]:
        """Indexed files directly in `folders`, and anywhere under `trees` (prefixes like `2026-11-26/`)."""
        found: set[str] = set()
        with self._connect() as conn:
            for prefix in folders:
                if prefix:  # a range on the file's unique index: '0' follows '/'
                    rows = conn.execute("SELECT file FROM images WHERE file >= ? AND file < ?",
                                        (prefix, prefix[:-1] + "0"))
                else:
                    rows = conn.execute("SELECT file FROM images WHERE instr(file, '/') = 0")
                found.update(f for (f,) in rows if "/" not in f[len(prefix):])
            for prefix in trees:
                rows = conn.execute("SELECT file FROM images WHERE file >= ? AND file < ?", (prefix, prefix[:-1] + "0"))
                found.update(f for (f,) in rows)
        return found

    def folders(self) -> dict[str, int]:
        """Each folder's modification time (ns) when the index last matched it."""
        with self._connect() as conn:
            return dict(conn.execute("SELECT prefix, mtime_ns FROM folders"))

    def set_folders(self, mtimes: Mapping[str, int]) -> None:
        with self._connect() as conn, _transaction(conn):
            conn.execute("DELETE FROM folders")
            conn.executemany("INSERT INTO folders (prefix, mtime_ns) VALUES (?, ?)", mtimes.items())

    def files(self) -> set[str]:
        with self._connect() as conn:
            return {row[0] for row in conn.execute("SELECT file FROM images")}

    def count(self) -> int:
        with self._connect() as conn:
            return conn.execute("SELECT count(*) FROM images").fetchone()[0]

    def get(self, record_id: str) -> dict[str, Any] | None:
        self._add_pending()
        with self._connect() as conn:
            row = conn.execute(f"SELECT {_RECORD} FROM images WHERE id = ?", (record_id,)).fetchone()
        return _record(row) if row else None

    def search(
        self,
        query: str | Query = "",
        offset: int = 0,
        limit: int = 50,
        user: str | None = None,
        *,
        model: str | None = None,
        image_size: str | None = None,
        users: Sequence[str] | None = None,
        viewer: str | None = None,
    ) -> list[dict[str, Any]]:
        """Records newest first, all filters combined (AND).

        `query` is the search language of `query.py` (tokens and a case-insensitive
        prompt substring; a str is parsed, QueryError if a token is malformed); `user`
        is the one owner ("mine", private mode), though a `board:` of a shared board
        also shows teammates' images on it; `users` keeps only these owners (None:
        everyone, empty: no one); `model` and `image_size` are exact ("" or None: any).
        `viewer` is who asks: the boards they may see are the ones `board:` finds and
        the ones each record lists.

        With a `folder`, a row whose file was removed by hand while the app runs is
        dropped, not shown (a `stat` per row of the page), and the page is read again.
        """
        self._add_pending()
        where, args = _filters(query, user, model, image_size, users, viewer)
        sql = f"SELECT {_RECORD} FROM images{where} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?"
        args += [min(max(1, limit), MAX_LIMIT), max(0, offset)]
        with self._connect() as conn:
            rows = conn.execute(sql, args).fetchall()
        records = [_record(row) for row in rows]  # decoded after the lock is released
        gone = [r["file"] for r in records if self.folder is not None and not (self.folder / str(r["file"])).is_file()]
        if gone:
            self.remove_files(gone)
            log.info("History index: %d row(s) dropped, their files are gone.", len(gone))
            with self._connect() as conn:
                rows = conn.execute(sql, args).fetchall()
            records = [_record(row) for row in rows]
        return self.for_viewer(records, viewer)

    def search_ids(
        self, query: str | Query = "", user: str | None = None, *, viewer: str | None = None, limit: int | None = None
    ) -> list[str]:
        """The ids of every match, newest first (what a bulk action applies to)."""
        self._add_pending()
        where, args = _filters(query, user, None, None, None, viewer)
        sql = f"SELECT id FROM images{where} ORDER BY created_at DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(max(0, limit))
        with self._connect() as conn:
            return [r[0] for r in conn.execute(sql, args)]

    def count_matching(
        self,
        query: str | Query = "",
        user: str | None = None,
        *,
        model: str | None = None,
        image_size: str | None = None,
        users: Sequence[str] | None = None,
        viewer: str | None = None,
    ) -> int:
        """How many records `search` would page through with the same filters ("page X of Y")."""
        self._add_pending()
        where, args = _filters(query, user, model, image_size, users, viewer)
        with self._connect() as conn:
            return conn.execute(f"SELECT count(*) FROM images{where}", args).fetchone()[0]

    def for_viewer(self, records: list[dict[str, Any]], viewer: str | None) -> list[dict[str, Any]]:
        """The records with `boards` listing only the boards `viewer` may see."""
        if not records:
            return records
        ids = [str(r.get("id")) for r in records]
        sql = (
            "SELECT bi.image, b.name FROM board_images bi JOIN boards b ON b.id = bi.board "
            f"WHERE bi.image IN ({', '.join('?' * len(ids))}) AND (b.owner = ? OR b.shared) ORDER BY b.name"
        )
        names: dict[str, list[str]] = {}
        with self._connect() as conn:
            rows = conn.execute(sql, [*ids, viewer or ""]).fetchall()
        for image, name in rows:
            names.setdefault(image, []).append(name)
        return [{**r, "boards": names.get(str(r.get("id")), [])} for r in records]

    def on_shared_board(self, record_id: str) -> bool:
        """Whether the image is on a board shared with the team (private mode shows it there)."""
        sql = "SELECT 1 FROM board_images bi JOIN boards b ON b.id = bi.board WHERE bi.image = ? AND b.shared LIMIT 1"
        with self._connect() as conn:
            return conn.execute(sql, (record_id,)).fetchone() is not None

    # -- marks and boards ---------------------------------------------------------------

    def update(self, records: Iterable[Record]) -> int:
        """Store new marks (and the JSON record) for indexed images; how many rows changed."""
        rows = [(int(r.starred), r.rating, r.to_json(), r.id) for r in records]
        with self._connect() as conn, _transaction(conn):
            before = conn.total_changes
            conn.executemany("UPDATE images SET starred = ?, rating = ?, record = ? WHERE id = ?", rows)
            return conn.total_changes - before

    def boards(self, viewer: str | None) -> list[dict[str, Any]]:
        """The boards `viewer` may see (their own and the shared ones), by name, with sizes."""
        sql = """SELECT b.name, b.shared, b.owner = ?, count(bi.image) FROM boards b
                 LEFT JOIN board_images bi ON bi.board = b.id
                 WHERE b.owner = ? OR b.shared GROUP BY b.id ORDER BY b.name, b.owner != ?, b.id"""
        owner = viewer or ""
        with self._connect() as conn:
            rows = conn.execute(sql, (owner, owner, owner)).fetchall()
        return [{"name": n, "shared": bool(s), "mine": bool(m), "images": c} for n, s, m, c in rows]

    def find_board(self, viewer: str | None, name: str) -> tuple[int, bool] | None:
        """(board id, viewer owns it) for `name`: the viewer's own board first, else the oldest
        shared one (what an edit of someone else's board is refused on)."""
        sql = ("SELECT id, owner = ? FROM boards WHERE name = ? AND (owner = ? OR shared) "
               "ORDER BY owner != ?, id LIMIT 1")
        owner = viewer or ""
        with self._connect() as conn:
            row = conn.execute(sql, (owner, name, owner, owner)).fetchone()
        return (row[0], bool(row[1])) if row else None

    def own_board(self, owner: str | None, name: str) -> int | None:
        """The id of `owner`'s own board `name` (any case), or None."""
        with self._connect() as conn:
            row = conn.execute("SELECT id FROM boards WHERE owner = ? AND name = ?", (owner or "", name)).fetchone()
        return row[0] if row else None

    def make_board(self, owner: str | None, name: str, shared: bool = False) -> int:
        """The id of `owner`'s board `name`, made if it does not exist yet."""
        with self._connect() as conn, _transaction(conn):
            conn.execute("INSERT OR IGNORE INTO boards (owner, name, shared) VALUES (?, ?, ?)",
                         (owner or "", name, int(shared)))
            return conn.execute("SELECT id FROM boards WHERE owner = ? AND name = ?", (owner or "", name)).fetchone()[0]

    def link(self, board: int, ids: Iterable[str], *, add: bool) -> None:
        """Put images on a board or take them off."""
        sql = ("INSERT OR IGNORE INTO board_images (board, image) VALUES (?, ?)" if add
               else "DELETE FROM board_images WHERE board = ? AND image = ?")
        with self._connect() as conn, _transaction(conn):
            conn.executemany(sql, [(board, i) for i in ids])

    def board_images(self, board: int) -> list[str]:
        with self._connect() as conn:
            return [r[0] for r in conn.execute("SELECT image FROM board_images WHERE board = ?", (board,))]

    def board_names(self, ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """Every board name each image is on (what its PNG records), whoever owns the board."""
        names: dict[str, list[str]] = {i: [] for i in ids}
        with self._connect() as conn:
            for start in range(0, len(ids), 500):
                chunk = list(ids[start : start + 500])
                sql = ("SELECT bi.image, b.name FROM board_images bi JOIN boards b ON b.id = bi.board "
                       f"WHERE bi.image IN ({', '.join('?' * len(chunk))}) ORDER BY b.name")
                for image, name in conn.execute(sql, chunk):
                    if name not in names[image]:
                        names[image].append(name)
        return {i: tuple(n) for i, n in names.items()}

    def edit_board(self, board: int, *, name: str | None = None, shared: bool | None = None) -> None:
        """Rename or share/unshare a board; sqlite3.IntegrityError if the owner has that name already."""
        with self._connect() as conn, _transaction(conn):
            if name is not None:
                conn.execute("UPDATE boards SET name = ? WHERE id = ?", (name, board))
            if shared is not None:
                conn.execute("UPDATE boards SET shared = ? WHERE id = ?", (int(shared), board))

    def drop_board(self, board: int) -> None:
        """Delete a board; its images stay."""
        with self._connect() as conn, _transaction(conn):
            conn.execute("DELETE FROM board_images WHERE board = ?", (board,))
            conn.execute("DELETE FROM boards WHERE id = ?", (board,))

    # -- saved searches -----------------------------------------------------------------

    def save_search(self, owner: str | None, name: str, query: str) -> None:
        with self._connect() as conn:
            conn.execute("INSERT OR REPLACE INTO saved_searches (owner, name, query) VALUES (?, ?, ?)",
                         (owner or "", name, query))

    def saved_searches(self, owner: str | None) -> list[dict[str, str]]:
        with self._connect() as conn:
            rows = conn.execute("SELECT name, query FROM saved_searches WHERE owner = ? ORDER BY name",
                                (owner or "",)).fetchall()
        return [{"name": n, "query": q} for n, q in rows]

    def delete_search(self, owner: str | None, name: str) -> bool:
        with self._connect() as conn:
            return conn.execute("DELETE FROM saved_searches WHERE owner = ? AND name = ?",
                                (owner or "", name)).rowcount > 0

    # -- files handed out (guard.HandedFiles' lasting half) --------------------------------

    def hand_files(self, pairs: Iterable[tuple[str, str | None]], at: float | None = None) -> None:
        """Record that each (resolved path, user) was handed that file (again: a newer time)."""
        now = int(time.time() if at is None else at)
        rows = [(path, user or "", now) for path, user in pairs]
        if rows:
            with self._connect() as conn, _transaction(conn):
                conn.executemany("INSERT OR REPLACE INTO handed_files (path, user, handed_at) VALUES (?, ?, ?)", rows)

    def handed_to(self, path: str) -> set[str | None]:
        """Who was handed the file at `path` (None: a visitor without login)."""
        with self._connect() as conn:
            rows = conn.execute("SELECT user FROM handed_files WHERE path = ?", (path,)).fetchall()
        return {user or None for (user,) in rows}

    def pass_file(self, path: str, giver: str, taker: str | None, at: float | None = None) -> None:
        """Move `giver`'s hold on a file to `taker`."""
        with self._connect() as conn, _transaction(conn):
            conn.execute("DELETE FROM handed_files WHERE path = ? AND user = ?", (path, giver))
            conn.execute("INSERT OR REPLACE INTO handed_files (path, user, handed_at) VALUES (?, ?, ?)",
                         (path, taker or "", int(time.time() if at is None else at)))

    def forget_handed(self, before: float) -> int:
        """Drop the ledger's rows older than `before` (epoch seconds): Gradio has swept those files."""
        with self._connect() as conn:
            return conn.execute("DELETE FROM handed_files WHERE handed_at < ?", (int(before),)).rowcount

    def distinct(self, column: DistinctColumn, user: str | None = None) -> list[str]:
        """Sorted values a filter dropdown can offer; NULL and "" (which mean "any") left out.

        With `user`, only the values of that user's images (private mode: nobody learns
        another user's name, models or sizes from a dropdown).
        """
        if column not in _DISTINCT_COLUMNS:  # the name goes into the SQL text
            raise ValueError(f"cannot list distinct values of {column!r}")
        mine = " AND user = ?" if user is not None else ""
        sql = (
            f"SELECT DISTINCT {column} FROM images "
            f"WHERE {column} IS NOT NULL AND {column} != ''{mine} ORDER BY {column}"
        )
        with self._connect() as conn:
            return [r[0] for r in conn.execute(sql, () if user is None else (user,))]

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
    query: str | Query,
    user: str | None,
    model: str | None,
    image_size: str | None,
    users: Sequence[str] | None,
    viewer: str | None = None,
) -> tuple[str, list[Any]]:
    """The WHERE clause (with its leading space, or "") and arguments shared by search and count."""
    parsed = query if isinstance(query, Query) else parse_query(query or "")
    where: list[str] = []
    args: list[Any] = []
    if parsed.text:
        clause, value = _text_clause(parsed.text)
        where.append(clause)
        args.append(value)
    for term in parsed.terms:
        clause, values = _term_clause(term, viewer, user)
        where.append(f"NOT coalesce(({clause}), 0)" if term.negated else clause)
        args += values
    if user is not None:
        shared = parsed.boards()
        if shared:  # a shared board shows teammates' images too, there and only there
            where.append(f"(user = ? OR id IN (SELECT bi.image FROM board_images bi JOIN boards b ON b.id = bi.board "
                         f"WHERE b.shared AND b.name IN ({', '.join('?' * len(shared))})))")
            args += [user, *shared]
        else:
            where.append("user = ?")
            args.append(user)
    for column, wanted in (("model", model or None), ("image_size", image_size or None)):
        if wanted is not None:
            where.append(f"{column} = ?")
            args.append(wanted)
    if users is not None:
        clause, names = _owners_clause(users)
        where.append(clause)
        args += names
    return (" WHERE " + " AND ".join(where), args) if where else ("", args)


def _text_clause(text: str) -> tuple[str, str]:
    """A case-insensitive prompt substring: the trigram index from 3 characters on.

    Shorter text has no trigram to look up: LIKE (in C) for ASCII, else casefold in Python.
    """
    if len(text) >= _MIN_TRIGRAM:
        return "rowid IN (SELECT rowid FROM prompts WHERE prompts MATCH ?)", '"' + text.replace('"', '""') + '"'
    if text.isascii():
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return "prompt LIKE ? ESCAPE '\\'", f"%{escaped}%"
    return "contains_ci(prompt, ?)", text.casefold()


_BOARD_MEMBERS = ("id IN (SELECT bi.image FROM board_images bi JOIN boards b ON b.id = bi.board "
                  "WHERE b.name = ? AND (b.owner = ? OR b.shared))")
_RATING_OPS = {">=": ">=", "<=": "<=", ">": ">", "<": "<", "=": "="}


def _term_clause(term: Term, viewer: str | None, owner: str | None = None) -> tuple[str, list[Any]]:
    """SQL for one filter token (not yet negated).

    With `owner` (private mode: the viewer's own images, plus teammates' on shared boards),
    a teammate's image has no star, rating or name to match, as the viewer reads it
    (`Access.shown`): a filter must not tell what a listing hides."""
    if term.key == "is":  # only is:starred exists
        return ("starred = 1", []) if owner is None else ("starred = 1 AND user = ?", [owner])
    if term.key == "rating":
        if owner is not None:
            return f"(CASE WHEN user = ? THEN rating ELSE 0 END) {_RATING_OPS[term.op]} ?", [owner, term.value]
        return f"rating {_RATING_OPS[term.op]} ?", [term.value]
    if term.key == "user" and owner is not None:
        return "user = ? AND user = ?", [term.value, owner]
    if term.key == "board":
        return _BOARD_MEMBERS, [term.value, viewer or ""]
    if term.key == "after":
        return "created_at >= ?", [term.value]
    if term.key == "before":
        return "created_at < ?", [term.value]
    column = {"model": "model", "size": "image_size", "user": "user", "seed": "seed"}[term.key]
    collate = " COLLATE NOCASE" if term.key == "model" else ""
    return f"{column} = ?{collate}", [term.value]


def _owners_clause(users: Sequence[str | None]) -> tuple[str, list[str]]:
    """`user IN (...)`, plus `user IS NULL` if None is listed; no owners matches nothing."""
    if isinstance(users, str):  # a lone name, not its letters
        users = [users]
    names = sorted({u for u in users if u is not None})
    parts = [f"user IN ({', '.join('?' * len(names))})"] if names else []
    if any(u is None for u in users):
        parts.append("user IS NULL")
    return ("(" + " OR ".join(parts) + ")" if parts else "0"), names


_RECORD = "record, starred, rating"


def _record(row: tuple[str, int, int]) -> dict[str, Any]:
    """A stored record with its marks from their columns (a record saved before marks has none)."""
    return {**json.loads(row[0]), "starred": bool(row[1]), "rating": row[2]}


def _row(record: Mapping[str, Any] | Record) -> tuple[Any, ...]:
    return (record if isinstance(record, Record) else Record.from_mapping(record)).row()
