"""Browser caching for Gradio's file route, so a second visit does not fetch the thumbnails again.

Gradio 6.31 serves files (`/gradio_api/file=<path>`) with an ETag but no Cache-Control, and
answers a revalidation (`If-None-Match`) with the whole file again. Galleries show copies in
Gradio's cache, in folders named by a hash of the file's content
(`<cache>/<64 hex>/<name>`): such a URL always means the same bytes, so the browser may keep
it for good. Other files are revalidated, and an unchanged one costs a 304.

Always `private`: in private history the picture is one user's, and no shared proxy may keep it.
This middleware sits inside `guard.FileGuard`, which still decides who may have a file
(a 304 is refused like a 200).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

ASGIApp = Callable[[dict, Callable, Callable], Awaitable[None]]

IMMUTABLE = b"private, max-age=31536000, immutable"
REVALIDATE = b"private, no-cache"
_CONTENT_ADDRESSED = re.compile(r"/[0-9a-f]{64}/[^/]+$")
_KEPT_ON_304 = (b"etag", b"cache-control", b"last-modified")


class FileCaching:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if "/file=" not in path or scope.get("method") not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        policy = IMMUTABLE if _CONTENT_ADDRESSED.search(path) else REVALIDATE
        wanted = _etags(_header(scope, b"if-none-match"))
        not_modified = False

        async def send_cached(message: dict[str, Any]) -> None:
            nonlocal not_modified
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                headers.append((b"cache-control", policy))
                etag = next((v for k, v in headers if k.lower() == b"etag"), None)
                if etag is not None and (etag in wanted or b"*" in wanted):
                    not_modified = True
                    kept = [(k, v) for k, v in headers if k.lower() in _KEPT_ON_304]
                    await send({"type": "http.response.start", "status": 304, "headers": kept})
                    return
                message = {**message, "headers": headers}
            elif not_modified and message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b""})
                return
            await send(message)

        await self.app(scope, receive, send_cached)


def _header(scope: dict, name: bytes) -> bytes:
    return next((v for k, v in scope.get("headers", []) if k.lower() == name), b"")


def _etags(value: bytes) -> set[bytes]:
    return {tag.strip().removeprefix(b"W/") for tag in value.split(b",") if tag.strip()}
