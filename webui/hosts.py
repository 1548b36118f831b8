"""Answer only to the host names the app is reached by, and to no other site's pages.

DNS rebinding: a page on `evil.example` re-points its own name at 127.0.0.1 and then
drives the app as a same-origin page would (spending the owner's credit on an app
without login). The browser still sends `Host: evil.example`, so the app refuses any
Host that is not one of its own. IP literals are always accepted: rebinding needs a
name. Separately, a request that carries another site's `Origin` is refused, so
Gradio's CORS layer never reflects a foreign origin (it would, for any non-local Host).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any, Awaitable, Callable, Iterable
from urllib.parse import urlsplit

ASGIApp = Callable[[dict, Callable, Callable], Awaitable[None]]
LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD_BINDS = frozenset({"0.0.0.0", "::", ""})


def host_name(value: str) -> str:
    """`Host`/`Origin` value → bare lower-case name: `[::1]:7860` → `::1`, `http://a.b:1` → `a.b`."""
    value = value.strip()
    if "://" in value:
        return (urlsplit(value).hostname or "").lower()
    if value.startswith("["):
        return value[1:].partition("]")[0].lower()
    return value.rpartition(":")[0].lower() if value.count(":") == 1 else value.lower()


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class AllowedHosts:
    """The names this app answers to: local ones, the bind address, the share link, extras."""

    def __init__(self, bind: str, extra: str | Iterable[str] | None = (),
                 share_url: Callable[[], str | None] = lambda: None):
        """`extra`: names, or one comma-separated string of them (as `--allowed-hosts` gives it)."""
        if isinstance(extra, str) or extra is None:
            extra = [name.strip() for name in (extra or "").split(",") if name.strip()]
        names = set(LOCAL_NAMES) | {host_name(e) if ":" in e else e.lower() for e in extra}
        bind = bind.strip().lower()
        if bind in WILDCARD_BINDS:  # reachable by this machine's name too
            names.add(socket.gethostname().lower())
        else:
            names.add(bind)
        self.any = "*" in names
        self.names = frozenset(names - {"*"})
        self._share_url = share_url

    def __contains__(self, name: str) -> bool:
        if self.any or name in self.names or _is_ip(name):
            return True
        share = self._share_url()
        return share is not None and name == host_name(share)


class HostGuard:
    """ASGI middleware, outermost: 400 for a foreign Host, 403 for a foreign Origin."""

    def __init__(self, app: ASGIApp, allowed: AllowedHosts) -> None:
        self.app, self.allowed = app, allowed

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = _headers(scope)
            host = host_name(headers.get("host", ""))
            if host not in self.allowed:
                await _refuse(scope, send, 400, f"This app does not answer to the host name {host!r}. "
                              "Its owner can allow it with --allowed-hosts.")
                return
            origin = headers.get("origin")
            if origin is not None and host_name(origin) not in self.allowed:
                await _refuse(scope, send, 403, "Requests from other sites' pages are refused.")
                return
        await self.app(scope, receive, send)


def _headers(scope: dict) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


async def _refuse(scope: dict[str, Any], send: Callable, status: int, text: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
    await send({"type": "http.response.body", "body": text.encode()})
