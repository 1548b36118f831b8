"""Login throttling: failed logins cost a growing wait, per client address and per name.

Gradio checks every `POST /login` with our password hash (scrypt, ~50 ms of CPU), so an
unthrottled guesser both tries passwords at speed and slows everyone else down. This
ASGI layer sits in front of Gradio's `/login` route and answers 429 with `Retry-After`
*before* any hash is computed when the client's address or the name it tries is
waiting out a back-off. It learns the outcome from the status Gradio answers (200 in,
400 wrong credentials).

Per address: 5 free failures, then 1 s, 2 s, 4 s … up to 5 minutes. Per name: the same
growth but capped at 30 s, so a guesser cannot lock the real owner out for long.
Failures are forgotten after 15 quiet minutes; a success clears that address and name.

Behind a share link every visitor arrives from the tunnel on 127.0.0.1; for loopback
peers the last `X-Forwarded-For` entry (the one the tunnel added) names the client.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Awaitable, Callable
from urllib.parse import parse_qs

log = logging.getLogger(__name__)

ASGIApp = Callable[[dict, Callable, Callable], Awaitable[None]]
MAX_LOGIN_BODY = 64 * 1024
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0
    blocked_until: float = 0.0


class Backoff:
    """Failures per key with exponential back-off; bounded in memory (oldest keys dropped)."""

    def __init__(self, free: int, cap: float, forget_after: float = 900.0, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.free, self.cap, self.forget_after, self.max_keys, self.clock = free, cap, forget_after, max_keys, clock
        self._entries: OrderedDict[str, _Failures] = OrderedDict()
        self._lock = threading.Lock()

    def wait(self, key: str) -> float:
        """Seconds `key` must still wait (0 when it may try now)."""
        with self._lock:
            entry = self._current(key)
            return max(0.0, entry.blocked_until - self.clock()) if entry else 0.0

    def failed(self, key: str) -> None:
        with self._lock:
            now = self.clock()
            entry = self._current(key) or _Failures()
            entry.count += 1
            entry.last = now
            over = entry.count - self.free
            if over > 0:
                entry.blocked_until = now + min(self.cap, 2.0 ** (over - 1))
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_keys:
                self._entries.popitem(last=False)

    def clear(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def _current(self, key: str) -> _Failures | None:
        entry = self._entries.get(key)
        if entry is not None and self.clock() - entry.last > self.forget_after:
            del self._entries[key]
            return None
        return entry


class LoginThrottle:
    """The policy: one back-off per client address, a shorter one per user name."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.by_address = Backoff(free=5, cap=300.0, clock=clock)
        self.by_name = Backoff(free=5, cap=30.0, clock=clock)

    def wait(self, address: str, name: str) -> float:
        return max(self.by_address.wait(address), self.by_name.wait(name))

    def failed(self, address: str, name: str) -> None:
        self.by_address.failed(address)
        self.by_name.failed(name)

    def succeeded(self, address: str, name: str) -> None:
        self.by_address.clear(address)
        self.by_name.clear(name)


class LoginGuard:
    """ASGI layer in front of Gradio's `POST /login`: 429 + Retry-After while throttled."""

    def __init__(self, app: ASGIApp, throttle: LoginThrottle) -> None:
        self.app, self.throttle = app, throttle

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("path", "").rstrip("/") != "/login":
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive, MAX_LOGIN_BODY)
        if body is None:
            await _answer(send, 413, b"Login request too large.")
            return
        address, name = client_address(scope), _form_name(scope, body)
        wait = self.throttle.wait(address, name)
        if wait > 0:
            seconds = max(1, round(wait + 0.49))
            log.warning("Throttled a login for user %r from %s: too many failed attempts (retry in %d s).",
                        name[:64], address, seconds)
            await _answer(send, 429, f"Too many failed logins. Try again in {seconds} s.".encode(),
                          [(b"retry-after", str(seconds).encode())])
            return
        status: list[int] = []

        async def watch(message: dict) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await self.app(scope, _replay(body, receive), watch)
        if status and status[0] == 200:
            self.throttle.succeeded(address, name)
        elif status and status[0] in (400, 401):
            log.warning("Failed login for user %r from %s.", name[:64], address)
            self.throttle.failed(address, name)


def client_address(scope: dict) -> str:
    """The peer's address; behind a loopback proxy (the share tunnel) the last X-Forwarded-For entry."""
    peer = (scope.get("client") or ("unknown", 0))[0]
    if peer in LOOPBACK:
        for key, value in scope.get("headers", []):
            if key.lower() == b"x-forwarded-for":
                forwarded = value.decode("latin-1").split(",")[-1].strip()
                if forwarded:
                    return forwarded[:64]
    return peer


def _form_name(scope: dict, body: bytes) -> str:
    """The `username` field of an urlencoded or multipart login form, stripped as Gradio strips it."""
    content_type = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == b"content-type"),
                        "")
    if content_type.startswith("multipart/form-data"):
        import email.parser
        import email.policy

        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + body)
        for part in message.iter_parts() if message.is_multipart() else []:
            if part.get_param("name", header="content-disposition") == "username":
                payload = part.get_payload(decode=True)
                return payload.decode("utf-8", "replace").strip() if isinstance(payload, bytes) else ""
        return ""
    form = parse_qs(body.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="replace")
    return form.get("username", [""])[0].strip()


async def _read_body(receive: Callable, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Callable) -> Callable:
    """A receive that hands over the body already read once, then whatever the client sends next."""
    sent = False

    async def replay() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _answer(send: Callable, status: int, body: bytes, headers: list | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})
