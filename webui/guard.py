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
- in private mode an image of ours, wherever it lies (e.g. Gradio's cache copy of it),
  goes to its owner and the admin only (and to teammates where it is on a board shared
  with the team): each PNG carries its owner in its record, and a thumbnail is named by
  its record's id.

Anything else that Gradio would serve passes untouched. A refusal is a 404, the same
answer as a missing file, so nothing tells what exists.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Awaitable, Callable, Mapping

from starlette.concurrency import run_in_threadpool

from .history import HistoryIndex
from .storage import Storage, record_in_file
from .tokens import cookie_user

ASGIApp = Callable[[dict, Callable, Callable], Awaitable[None]]

# Routes that join a path onto Gradio's own package folders (its front end), never ours.
PACKAGE_ROUTES = ("/static/", "/assets/", "/svelte/", "/custom_component/")


class ServedFiles:
    """The rule: may `user` be sent the file a route was asked for? (`allows`, run in a thread)."""

    def __init__(self, store: Storage, index: HistoryIndex, *, private: bool,
                 is_admin: Callable[[str | None], bool]) -> None:
        self.store, self.index, self.private, self.is_admin = store, index, private, is_admin

    def allows(self, raw: str, user: str | None) -> bool:
        if "://" in raw or raw.startswith(("http:", "https:", "data:")):
            return True  # a URL: Gradio's own rules (public addresses only) apply
        try:
            lexical = Path(os.path.abspath(raw))  # what Gradio opens
            real = lexical.resolve(strict=True)
        except (OSError, ValueError, RuntimeError):
            return True  # names no file (an event id, a session hash...): nothing of ours
        root = self.store.root
        if lexical.is_relative_to(root) or real.is_relative_to(root):
            record = self.store.image_at(real)  # None for a link out of the folder, too
            return record is not None and self._may_see(record, user)
        if not self.private:
            return True  # Gradio's cache: files it made for a visitor
        return self._may_see(self.owner_record(real), user)

    def owner_record(self, path: Path) -> Mapping[str, Any] | None:
        """The record of the image a file outside the outputs folder is a copy of, or None.

        Gradio keeps a copy's file name: a thumbnail is `<record id>.webp`, and a PNG
        carries its record (and so its owner) in its chunks.
        """
        suffix = path.suffix.lower()
        if suffix == ".webp":
            return self.index.get(path.stem)
        if suffix == ".png":
            record = record_in_file(path)
            return record if record is not None and "id" in record else None
        return None

    def _may_see(self, record: Mapping[str, Any] | None, user: str | None) -> bool:
        if not self.private or record is None or self.is_admin(user):
            return True
        if user is None:
            return False
        # a teammate's image where it was put on a board shared with the team
        return record.get("user") == user or self.index.on_shared_board(str(record.get("id")))

    def may_read(self, path: str | Path, user: str | None) -> bool:
        """The owner rule for a file an event was handed (PNG Info): an image of someone
        else's is refused in private mode, wherever it lies."""
        if not self.private or self.is_admin(user):
            return True
        try:
            real = Path(path).resolve(strict=True)
        except (OSError, ValueError, RuntimeError):
            return True  # nothing to show: the reader says so
        if real.is_relative_to(self.store.root):
            record = self.store.image_at(real)
        else:
            record = self.owner_record(real)  # type: ignore[assignment]  # read-only use
        return self._may_see(record, user)


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

        async def guarded(message: dict) -> None:
            nonlocal refused
            if refused:
                return  # the file's bytes, after our 404
            if message["type"] == "http.response.start" and message["status"] < 400:
                paths = _client_paths(scope)
                if paths and not await run_in_threadpool(self._allowed, paths, current_user(visitor)):
                    refused = True
                    await _not_found(send)
                    return
            await send(message)

        await self.app(scope, receive, guarded)

    def _allowed(self, paths: list[str], user: str | None) -> bool:
        return all(self.files.allows(p, user) for p in paths)


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


async def _not_found(send: Callable) -> None:
    await send({"type": "http.response.start", "status": 404,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"9")]})
    await send({"type": "http.response.body", "body": b"Not found"})
