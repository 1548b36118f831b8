"""What Gradio's file routes may serve: the app's own images, and in private mode only to their owner.

Gradio serves a file the client names in the URL (`/gradio_api/file=<path>`,
`/gradio_api/file/<path>`, GET, HEAD and Range) from the outputs folder and from its
cache. Matching URL spellings is a losing game (two routes, percent-encoding, `..`,
`//`, relative paths, symlinks), so this ASGI middleware lets Gradio route the request
and, as the answer starts, reads the path the route parsed (Starlette leaves the matched
route's parameters in the request scope), resolves it as Gradio does, and decides on the
file itself:

- inside the outputs folder only the app's own images are served (saved PNGs and their
  thumbnails): never the index, a moved-aside copy of it, the trash, or any other file
  that happens to sit there (with `--outputs .`, the source and `.git`);
- with logins, a file in Gradio's own folders (its cache and uploads: copies of images,
  thumbnails, share-pack ZIPs, library exports, trash previews, uploads) goes only to
  the users the app handed it to (`HandedFiles`: every event's output files, recorded as
  the answer leaves, and every upload, recorded from the upload route's answer; kept in
  the history index too, so a restart or a second process on the outputs folder knows
  it) and to the admin; a file the app handed to nobody goes to nobody;
- in private mode an image of ours, wherever it lies (e.g. Gradio's cache copy of it),
  goes to its owner and the admin only (and to teammates where it is on a board shared
  with the team): each PNG carries its owner in its record, and a thumbnail is named by
  its record's id.

A PNG of ours that may go to the visitor but is not theirs (a teammate's image on a shared
board; the admin's view of anyone's) goes as `ServedFiles.copy_for` makes it: the same
pixels and chunks, with the record in `generation` and `parameters` as the visitor may read
it (`Access.handed`): none of the owner's private curation leaves in the file. GET, HEAD
and Range are answered from that copy. A file route gets both in one decision
(`ServedFiles.answer`), which reads the file's record once for the verdict and the copy.

Anything else that Gradio would serve passes untouched. A refusal is a 404, the same
answer as a missing file, so nothing tells what exists. Events that read a client-named
file (PNG Info, the library import) ask `ServedFiles.may_read`, the same rule, and read
the same copy.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterable, Iterator, Literal, Mapping

from gradio import utils as gradio_utils
from starlette.concurrency import run_in_threadpool

from . import metadata
from .access import Access
from .history import HistoryIndex
from .storage import Storage, record_in_file
from .tokens import MCP_LOOPBACK_USER, cookie_user, request_user

log = logging.getLogger(__name__)

ASGIApp = Callable[[dict, Callable, Callable], Awaitable[None]]

# Routes that join a path onto Gradio's own package folders (its front end), never ours.
PACKAGE_ROUTES = ("/static/", "/assets/", "/svelte/", "/custom_component/")
# What a file route's request gets: None, Gradio's own answer; False, a 404; bytes, the visitor's copy.
Answer = bytes | Literal[False] | None
UPLOAD_ROUTE = "/gradio_api/upload"  # answers with the paths of the uploaded files
MAX_UPLOAD_ANSWER = 1024 * 1024  # bytes of an upload answer read for its paths


class HandedFiles:
    """Which users the app handed each file in Gradio's folders to: the owner ledger.

    Keyed by the resolved path. Held in memory (every file request asks) and, with an
    `index`, also in its `handed_files` table: a file handed out before a restart, or by
    another process on the same outputs folder, still goes to its users. Memory is asked
    first; the table only when memory does not know the user. Gradio's cache is swept (see
    `App`), so memory drops entries whose file is gone once it grows past `limit`, and the
    table its rows older than `forget_after` seconds: when the ledger opens, and again as
    rows are added, at most once every `trim_every` seconds (a flood of uploads must not
    grow the table until the next start). `clock` (epoch seconds) dates rows and trims.
    """

    def __init__(self, index: HistoryIndex | None = None, limit: int = 50_000,
                 forget_after: float | None = None, trim_every: float | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.index, self.limit = index, limit
        self.forget_after, self.trim_every, self.clock = forget_after, trim_every, clock
        self._owners: dict[str, set[str | None]] = {}
        self._lock = threading.Lock()
        self._trimmed_at: float | None = None  # when the table was last trimmed
        self._trim()

    def hand(self, paths: Iterable[str], user: str | None) -> None:
        keys = [k for k in (_key(p) for p in paths) if k is not None]
        with self._lock:
            new = [(key, user) for key in dict.fromkeys(keys) if user not in self._owners.get(key, ())]
            for key, _ in new:
                self._owners.setdefault(key, set()).add(user)
            if len(self._owners) > self.limit:
                self._prune()
        if new and self.index is not None:
            self._lasting(self.index.hand_files, new, self.clock())
            self._trim()

    def holds(self, path: Path, user: str | None) -> bool:
        """Whether the app handed the file to `user` (this process or any other on the folder)."""
        key = _key(str(path))
        if key is None:
            return False
        with self._lock:
            if user in self._owners.get(key, ()):
                return True
        if self.index is None or not (users := self._lasting(self.index.handed_to, key) or set()):
            return False
        with self._lock:
            self._owners.setdefault(key, set()).update(users)
        return user in users

    def owners(self, path: Path) -> frozenset[str | None]:
        """Who was handed the file (empty: nobody), as this process knows it."""
        key = _key(str(path))
        with self._lock:
            return frozenset(self._owners.get(key, ())) if key is not None else frozenset()

    def claim(self, paths: Iterable[str], giver: str, taker: str | None) -> None:
        """Files `giver` holds become `taker`'s instead: the first event to read them takes them.

        Asks memory only: `giver` (the MCP server's client) uploads to this same process."""
        if taker is None or taker == giver:
            return
        for key in dict.fromkeys(k for k in (_key(p) for p in paths) if k is not None):
            with self._lock:  # check and take at once: of two events naming it, one takes it
                owners = self._owners.get(key, set())
                if giver not in owners:
                    continue
                owners.discard(giver)
                owners.add(taker)
            if self.index is not None:
                self._lasting(self.index.pass_file, key, giver, taker, self.clock())

    def _trim(self) -> None:
        """Drop the table's rows older than `forget_after`, unless it was trimmed less than
        `trim_every` seconds ago (None: only once, when the ledger opens)."""
        if self.index is None or self.forget_after is None:
            return
        now = self.clock()
        with self._lock:  # of two threads adding rows at once, one trims
            last = self._trimmed_at
            if last is not None and (self.trim_every is None or now - last < self.trim_every):
                return
            self._trimmed_at = now
        self._lasting(self.index.forget_handed, now - self.forget_after)

    def _lasting(self, action: Callable[..., Any], *args: Any) -> Any:
        """Run an index call; an index that can't be written leaves the memory half alone."""
        try:
            return action(*args)
        except sqlite3.Error as exc:
            log.warning("The file ledger in the history index failed (%s); memory only.", exc)
            return None

    def _prune(self) -> None:
        for key in [k for k in self._owners if not os.path.exists(k)]:
            del self._owners[key]
        while len(self._owners) > self.limit:  # all still there: the oldest go
            del self._owners[next(iter(self._owners))]


def _is_png(path: Path) -> bool:
    return path.suffix.lower() == ".png"


def _key(path: str) -> str | None:
    try:
        return str(Path(os.path.abspath(path)).resolve())
    except (OSError, ValueError, RuntimeError):
        return None


def output_files(value: Any) -> Iterator[str]:
    """Every file path in an event's output data (FileData dicts, however nested: galleries, updates, diffs)."""
    if isinstance(value, dict):
        path = value.get("path")
        if isinstance(path, str) and path and "://" not in path:
            yield path
        for item in value.values():
            if isinstance(item, (dict, list, tuple)):
                yield from output_files(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from output_files(item)


def gradio_folders(blocks: Any = None) -> list[Path]:
    """The folders Gradio serves files it made from: uploads, its cache, cached examples."""
    folders: list[Any] = [gradio_utils.get_upload_folder(), gradio_utils.get_cache_folder()]
    if blocks is not None and getattr(blocks, "GRADIO_CACHE", None):
        folders.append(blocks.GRADIO_CACHE)
    found = []
    for folder in folders:
        try:
            found.append(Path(os.path.abspath(folder)).resolve())
        except (OSError, ValueError, RuntimeError):
            continue
    return found


class ServedFiles:
    """The rule: may `user` be sent the file a route was asked for, and as what? (`answer`, run in a thread)."""

    def __init__(self, store: Storage, access: Access, *, logins: bool | None = None,
                 forget_after: float | None = None, trim_every: float | None = None) -> None:
        """`forget_after`: seconds after which a file handed out is surely swept from Gradio's cache;
        `trim_every`: how often, at most, the ledger's table forgets such rows while the app runs."""
        self.store, self.access = store, access
        self.logins = access.private if logins is None else logins  # private mode implies logins
        # the ledger lasts in the index only with logins: without them it is never read
        self.handed = HandedFiles(store.index if self.logins else None, forget_after=forget_after,
                                  trim_every=trim_every)
        self._folders: list[Path] | None = None  # Gradio's folders, once `watch` knows the Blocks

    def watch(self, blocks: Any) -> None:
        """Record the files each event hands its caller: wraps the Blocks' `process_api`, the one
        function every event, API call and MCP tool goes through, as its answer leaves.

        Before the event runs, files it reads that the MCP server's own client uploaded become
        the caller's (`HandedFiles.claim`): that client uploads what a tool's caller sent (a
        `data:` or http URL) under its pseudo-user, then calls the tool as that caller, so the
        first event to read such a file is its caller's, and nobody else may read it after.

        Only with logins: without them the ledger is never read (`_may_have`), so events
        don't pay for it."""
        self._folders = gradio_folders(blocks)  # fixed for the app's life: resolved once, not per request
        if not self.logins:
            return
        original = blocks.process_api

        async def process_api(*args: Any, **kwargs: Any) -> Any:
            request = kwargs.get("request", args[3] if len(args) > 3 else None)
            if isinstance(request, list):
                request = request[0] if request else None
            user = request_user(request)
            named = list(output_files(kwargs.get("inputs", args[1] if len(args) > 1 else None)))
            if named:
                await run_in_threadpool(self.handed.claim, named, MCP_LOOPBACK_USER, user)
            result = await original(*args, **kwargs)
            handed = list(output_files(result.get("data"))) if isinstance(result, dict) else []
            if handed:
                await run_in_threadpool(self.handed.hand, handed, user)
            return result

        blocks.process_api = process_api

    def answer(self, raw: str, user: str | None) -> Answer:
        """The one decision on a path a route was asked for, reading its record once: None, the
        file goes as Gradio serves it; False, refused; bytes, `user`'s copy of someone else's
        PNG of ours (as `copy_for` makes it, from the record the verdict read)."""
        if "://" in raw or raw.startswith(("http:", "https:", "data:")):
            return None  # a URL: Gradio's own rules (public addresses only) apply
        try:
            lexical = Path(os.path.abspath(raw))  # what Gradio opens
            real = lexical.resolve(strict=True)
        except (OSError, ValueError, RuntimeError):
            return None  # names no file (an event id, a session hash...): nothing of ours
        root = self.store.root
        record: Mapping[str, Any] | None = None
        if lexical.is_relative_to(root) or real.is_relative_to(root):
            record = self.store.image_at(real)  # None for a link out of the folder, too
            if record is None or not self._may_see(record, user):
                return False
        elif not self.logins:
            return None  # one visitor, or everyone alike: Gradio's folders and rules, nothing rewritten
        elif self._in_gradio_folders(lexical, real):
            if not self._handed_to(real, user):
                return False
            if self.access.private or _is_png(real):  # the owner rule's record is the copy's too
                record = self.owner_record(real)
            if self.access.private and not self._may_see(record, user):
                return False
        elif _is_png(real):  # not a file Gradio made: its own rules apply; a PNG of ours goes as `user` may read it
            record = self.owner_record(real)
        try:
            return self._rewritten(real, record, user)
        except ValueError:
            return False  # someone else's image that can't be rewritten must not go at all

    def _in_gradio_folders(self, *paths: Path) -> bool:
        folders = self._folders if self._folders is not None else gradio_folders()
        return any(p.is_relative_to(f) for p in paths for f in folders)

    def _may_have(self, real: Path, user: str | None) -> bool:
        """A file in Gradio's folders: to whom the app handed it, and the admin; in private mode
        an image of ours also by the owner rule (a board unshared since takes it back).
        The MCP server's pseudo-user reads nothing of its own: its uploads are claimed by the
        caller's event (see `watch`)."""
        if not self._handed_to(real, user):
            return False
        return not self.access.private or self._may_see(self.owner_record(real), user)

    def _handed_to(self, real: Path, user: str | None) -> bool:
        """Without logins every file in Gradio's folders; with them, the files the app handed
        `user` (all of them to the admin)."""
        if not self.logins:
            return True  # one visitor, or everyone alike
        return self.access.is_admin(user) or (user != MCP_LOOPBACK_USER and self.handed.holds(real, user))

    def owner_record(self, path: Path) -> Mapping[str, Any] | None:
        """The record of the image a file outside the outputs folder is a copy of, or None.

        Gradio keeps a copy's file name: a thumbnail is `<record id>.webp`, and a PNG
        carries its record (and so its owner) in its chunks.
        """
        suffix = path.suffix.lower()
        if suffix == ".webp":
            return self.access.index.get(path.stem)
        if suffix == ".png":
            record = record_in_file(path)
            return record if record is not None and "id" in record else None
        return None

    def _may_see(self, record: Mapping[str, Any] | None, user: str | None) -> bool:
        return record is None or self.access.may_fetch(record, user)

    def copy_for(self, path: str | Path, user: str | None, data: bytes | None = None) -> bytes | None:
        """What `user` receives of a PNG of ours that is someone else's: its bytes (`data`, else
        read from `path`) with the record in its text chunks as `user` may read it
        (`Access.handed`; its boards as the index has them now). None: the file goes as it is
        (not an image of ours, or the visitor's own). Raises ValueError when such a file
        can't be rewritten: it must then not go at all.

        The record is the file's own, never the index's row of the id it names: a file
        made up to name another image's id (an upload) must not fetch that image's record."""
        if not self.logins:
            return None  # one visitor, or everyone alike: every file goes as saved (no record read per request)
        try:
            real = Path(os.path.abspath(path)).resolve(strict=True)
        except (OSError, ValueError, RuntimeError):
            return None
        if not _is_png(real):
            return None  # thumbnails are WebP made by us: pixels only
        record = self.store.image_at(real) if real.is_relative_to(self.store.root) else self.owner_record(real)
        return self._rewritten(real, record, user, data)

    def _rewritten(self, real: Path, record: Mapping[str, Any] | None, user: str | None,
                   data: bytes | None = None) -> bytes | None:
        """The PNG at `real` (or its bytes `data`) with `record` as `user` may read it, or None
        when it goes as it is. Raises ValueError when it can't be rewritten."""
        if not self.logins or record is None or not _is_png(real):
            return None
        handed = self.access.handed(record, user)
        if handed is None:
            return None
        try:
            return metadata.embed_record(real.read_bytes() if data is None else data, handed)
        except (OSError, TypeError, ValueError) as exc:  # NotPNGError is a ValueError
            raise ValueError(f"not rewritable: {type(exc).__name__}") from None

    def may_read(self, path: str | Path, user: str | None) -> bool:
        """The rule for a file a client named as an event's input (PNG Info, the library
        import): in Gradio's folders only what the app handed this user (their uploads,
        their outputs); in private mode an image of someone else's, wherever it lies, never."""
        try:
            lexical = Path(os.path.abspath(path))
            real = lexical.resolve(strict=True)
        except (OSError, ValueError, RuntimeError):
            return True  # nothing to show: the reader says so
        if real.is_relative_to(self.store.root):
            return self.access.is_admin(user) or self._may_see(self.store.image_at(real), user)
        if self._in_gradio_folders(lexical, real):
            return self._may_have(real, user)
        return not self.access.private or self.access.is_admin(user) or self._may_see(self.owner_record(real), user)


class FileGuard:
    """ASGI middleware applying `ServedFiles` to every route that serves a client-named path."""

    def __init__(self, app: ASGIApp, files: ServedFiles) -> None:
        self.app, self.files = app, files

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = False
        visitor = {"app": scope.get("app"), "headers": scope.get("headers", [])}  # a mounted app replaces "app"
        upload: list[dict] | None = None  # an upload's answer, held until its paths are recorded

        async def guarded(message: dict) -> None:
            nonlocal refused, upload
            if refused:
                return  # the file's bytes, after our 404
            if upload is not None:
                upload.append(message)
                if message["type"] == "http.response.body" and not message.get("more_body", False):
                    held, upload = upload, None
                    await run_in_threadpool(self._record_upload, held, current_user(visitor))
                    for part in held:
                        await send(part)
                return
            if (message["type"] == "http.response.start" and message["status"] == 200
                    and _is_upload(scope)):
                upload = [message]
                return
            if message["type"] == "http.response.start" and message["status"] < 400:
                paths = _client_paths(scope)
                answer = await run_in_threadpool(self._answer, paths, current_user(visitor)) if paths else None
                if answer is not None:
                    refused = True  # Gradio's own answer goes nowhere: ours instead
                    await (_send_copy(scope, send, answer) if isinstance(answer, bytes) else _not_found(send))
                    return
            await send(message)

        await self.app(scope, receive, guarded)

    def _answer(self, paths: list[str], user: str | None) -> Answer:
        """None: Gradio's answer goes; False: refused; bytes: the visitor's copy (`ServedFiles.answer`)."""
        copy: bytes | None = None
        for path in paths:
            answer = self.files.answer(path, user)
            if answer is False:
                return False
            copy = copy if copy is not None else answer
        return copy

    def _record_upload(self, messages: list[dict], user: str | None) -> None:
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        if len(body) > MAX_UPLOAD_ANSWER:
            return
        try:
            paths = json.loads(body)
        except ValueError:
            return
        if isinstance(paths, list):
            self.files.handed.hand([p for p in paths if isinstance(p, str)], user)


def _is_upload(scope: dict) -> bool:
    route = scope.get("route")
    return scope.get("method") == "POST" and str(getattr(route, "path", "")).endswith(UPLOAD_ROUTE)


def _client_paths(scope: dict) -> list[str]:
    """The path parameters of the route that answered, unless it serves Gradio's own files."""
    route = scope.get("route")
    template = getattr(route, "path", "") or ""
    if route is None or template.startswith(PACKAGE_ROUTES):
        return []
    return [v for v in (scope.get("path_params") or {}).values() if isinstance(v, str) and v]


def current_user(scope: dict) -> str | None:
    """The logged-in user of this request's Gradio login cookie (None without one)."""
    header = next((v for k, v in scope.get("headers", []) if k == b"cookie"), b"")
    return cookie_user(scope.get("app"), header.decode("latin-1"))


async def _send_copy(scope: dict, send: Callable, data: bytes) -> None:
    """Answer GET, HEAD or a single-range GET from `data` (a multi-range request gets it all)."""
    size = len(data)
    headers = [(b"content-type", b"image/png"), (b"accept-ranges", b"bytes"),
               (b"cache-control", b"private, no-cache")]  # made per visitor: no shared cache may keep it
    status, start, end = 200, 0, size - 1
    wanted = _byte_range(next((v for k, v in scope.get("headers", []) if k == b"range"), b"").decode("latin-1"), size)
    if wanted is False:
        await send({"type": "http.response.start", "status": 416,
                    "headers": [(b"content-range", f"bytes */{size}".encode()), (b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})
        return
    if wanted is not None:
        status, (start, end) = 206, wanted
        headers.append((b"content-range", f"bytes {start}-{end}/{size}".encode()))
    headers.append((b"content-length", str(end - start + 1).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    body = b"" if scope.get("method") == "HEAD" else data[start:end + 1]
    await send({"type": "http.response.body", "body": body})


def _byte_range(header: str, size: int) -> tuple[int, int] | Literal[False] | None:
    """A `Range: bytes=...` header's one range as (first, last) byte; None for the whole file (no
    header, several ranges, another unit); False when it can't be satisfied."""
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash or not (first.isdigit() or last.isdigit()) or not all(v.isdigit() for v in (first, last) if v):
        return None
    if not first:  # the last N bytes
        if int(last) == 0:
            return False
        start, end = max(size - int(last), 0), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        return False
    return start, end


async def _not_found(send: Callable) -> None:
    await send({"type": "http.response.start", "status": 404,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"9")]})
    await send({"type": "http.response.body", "body": b"Not found"})
