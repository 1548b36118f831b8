"""Private mode for Gradio's file routes: a user's images are served to them and the admin only.

Gradio serves files by path (`/gradio_api/file=<path>`) to anyone logged in; a path
copied from someone else's page would open their image. This ASGI middleware asks
storage whose image a requested file is (each PNG carries its owner in its record)
and answers 404 to anyone else. Files that are not our images pass through untouched.
"""

from __future__ import annotations

import re
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, Awaitable, Callable

from starlette.concurrency import run_in_threadpool

from .storage import Storage

_FILE_ROUTE = re.compile(r"/file=(?P<path>.+)$")
ASGIApp = Callable[[dict, Callable, Callable], Awaitable[None]]


class PrivateFiles:
    def __init__(self, app: ASGIApp, storage: Storage, is_admin: Callable[[str | None], bool]) -> None:
        self.app, self.storage, self.is_admin = app, storage, is_admin

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        match = _FILE_ROUTE.search(scope.get("path", "")) if scope["type"] == "http" else None
        if match and not await self._allowed(scope, match.group("path")):
            await _not_found(send)
            return
        await self.app(scope, receive, send)

    async def _allowed(self, scope: dict, raw_path: str) -> bool:
        user = _current_user(scope)
        if self.is_admin(user):
            return True
        try:
            path = Path(raw_path).resolve()
        except (OSError, ValueError):
            return True  # not a file path: Gradio's own checks answer
        known, owner = await run_in_threadpool(self.storage.owner_of_file, path)
        return not known or (user is not None and owner == user)


def _current_user(scope: dict) -> str | None:
    """The logged-in user, read the way Gradio's own routes read it (its login cookie)."""
    app: Any = scope.get("app")
    tokens = getattr(app, "tokens", None)
    cookie_id = getattr(app, "cookie_id", None)
    if not tokens or cookie_id is None:
        return None
    header = next((v for k, v in scope.get("headers", []) if k == b"cookie"), b"")
    cookies = SimpleCookie()
    try:
        cookies.load(header.decode("latin-1"))
    except Exception:  # a malformed cookie header: nobody
        return None
    for name in (f"access-token-{cookie_id}", f"access-token-unsecure-{cookie_id}"):
        if name in cookies:
            return tokens.get(cookies[name].value)
    return None


async def _not_found(send: Callable) -> None:
    await send({"type": "http.response.start", "status": 404,
                "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
    await send({"type": "http.response.body", "body": b"Not found"})
