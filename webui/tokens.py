"""Personal API tokens: a script or an AI assistant acts as its user, without a password.

`python launch.py token NAME` prints a new token for NAME (once: only its SHA-256 is
kept); `python launch.py token NAME --revoke` removes all of NAME's tokens. A request
carrying `Authorization: Bearer <token>` is then that user's, under the same
private-history and daily-limit rules as their browser. Tokens are long random strings,
so a fast hash is enough (a password needs scrypt because people choose weak ones).

File format (UTF-8, `api-tokens.txt` beside the accounts file, mode 0o600)::

    # YUNYX web UI API tokens — python launch.py token NAME [--revoke]
    alice:3f5e…(64 hex digits)

`Identity`, an ASGI layer in front of Gradio, turns a valid token into the user's Gradio
session (so every route and event sees `request.username`) and states who the caller
is in the `X-Yunyx-User` header it alone may set: it removes that header from every
incoming request first. Handlers read it where Gradio has no username to give (the MCP
server runs queue-free tools without one). With login on, the MCP routes — which
Gradio leaves open — need a token or a session; a wrong token is 401 everywhere.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import logging
import secrets
import threading
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, Awaitable, Callable, Mapping, TextIO

from . import locks
from .accounts import Accounts, AccountsError, valid_name, write_private_lines
from .config import users_file

log = logging.getLogger(__name__)

ASGIApp = Callable[[dict, Callable, Callable], Awaitable[None]]
TOKENS_FILE = "api-tokens.txt"
PREFIX = "yx_"
USER_HEADER = "x-yunyx-user"  # set only by Identity; handlers may trust it
MCP_PATH = "/gradio_api/mcp"
REST_PATH = "/api/v1"  # checks tokens itself (webui/rest.py), with this module's ApiTokens.user_for
HEADER = "# YUNYX web UI API tokens — python launch.py token NAME [--revoke]; only SHA-256 hashes\n"


def tokens_path(users_file: Path | None, cwd: Path) -> Path:
    """The tokens file: beside the accounts file, else in the working folder (single `--auth` login)."""
    return (users_file.parent if users_file is not None else cwd) / TOKENS_FILE


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def bearer(headers: Mapping[str, str]) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if there is one."""
    scheme, _, value = (headers.get("authorization") or "").strip().partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


class ApiTokens:
    """The tokens file, read again whenever it changes (a new or revoked token works at once)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._users: dict[str, str] = {}  # digest → name

    def user_for(self, token: str | None) -> str | None:
        """The user a token belongs to, or None (unknown, revoked, or not a token at all)."""
        if not token or not token.startswith(PREFIX) or len(token) > 200:
            return None
        digest = _digest(token)
        for known, name in self._current().items():
            if hmac.compare_digest(known, digest):
                return name
        return None

    def user_from_headers(self, headers: Mapping[str, str]) -> str | None:
        """The reusable check: whose token is in these (lower-cased) request headers, if anyone's."""
        return self.user_for(bearer(headers))

    def _current(self) -> dict[str, str]:
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = None
        with self._lock:
            if stamp != self._stamp:
                self._users = dict(_read(self.path)) if stamp else {}
                self._stamp = stamp
            return self._users

    def issue(self, name: str) -> str:
        """A new token for `name`; only its hash is written."""
        token = PREFIX + secrets.token_urlsafe(32)
        with locks.holding(self.path.parent):
            write_private_lines(self.path, _lines(self.path) + [f"{name}:{_digest(token)}"])
        return token

    def revoke(self, name: str) -> int:
        """Remove every token of `name`; how many there were."""
        with locks.holding(self.path.parent):
            lines = _lines(self.path)
            kept = [line for line in lines if line.partition(":")[0] != name or line.startswith("#")]
            if len(kept) != len(lines):
                write_private_lines(self.path, kept)
        return len(lines) - len(kept)


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return HEADER.splitlines()


def _read(path: Path) -> list[tuple[str, str]]:
    """(digest, name) pairs; malformed lines are skipped with a warning naming the line."""
    pairs = []
    for number, line in enumerate(_lines(path), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, digest = line.partition(":")
        if valid_name(name) and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest):
            pairs.append((digest, name))
        else:
            log.warning("%s:%d: not NAME:SHA256, ignored", path, number)
    return pairs


# --------------------------------------------------------------------------- the ASGI layer


class Identity:
    """Bearer tokens → the user's Gradio session; the trusted `X-Yunyx-User` header; MCP behind login."""

    def __init__(self, app: ASGIApp, tokens: ApiTokens, is_user: Callable[[str], bool] | None) -> None:
        """`is_user` is None without login: tokens mean nothing then, the header is only removed."""
        self.app, self.tokens, self.is_user = app, tokens, is_user
        self._sessions: dict[str, str] = {}  # user → the Gradio session token made for their API calls

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        raw = [(k, v) for k, v in scope.get("headers", []) if k.lower() != USER_HEADER.encode()]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw}
        gradio: Any = scope.get("app")  # Gradio's App (Starlette sets it before any middleware runs)
        user = None
        token = bearer(headers)
        if self.is_user is None:
            pass
        elif token is not None:
            user = self.tokens.user_for(token)
            if (user is None or not self.is_user(user)) and scope.get("path", "").startswith(REST_PATH):
                await self.app({**scope, "headers": raw}, receive, send)  # the REST API answers in its own format
                return
            if user is None or not self.is_user(user):
                log.warning("Refused an API token from %s.", (scope.get("client") or ("?",))[0])
                await _unauthorized(send, scope, "Invalid API token.")
                return
            # the token decides, whatever cookies came along (the MCP loopback client sends its own)
            raw = [(k, v) for k, v in raw if k.lower() != b"cookie"]
            raw.append((b"cookie", f"access-token-{gradio.cookie_id}={self._session(gradio, user)}".encode()))
        else:
            user = cookie_user(gradio, headers.get("cookie", ""))
            if user is None and scope.get("path", "").startswith(MCP_PATH):
                await _unauthorized(send, scope, "Log in first: send Authorization: Bearer <your API token>.")
                return
        if user is not None:
            raw.append((USER_HEADER.encode(), user.encode("latin-1", "replace")))
        await self.app({**scope, "headers": raw}, receive, send)

    def _session(self, gradio: Any, user: str) -> str:
        """A Gradio login token for `user`, made once and made again if a logout removed it."""
        session = self._sessions.get(user)
        if session is None or gradio.tokens.get(session) != user:
            session = secrets.token_urlsafe(16)
            gradio.tokens[session] = user
            self._sessions[user] = session
        return session


def request_user(request: Any) -> str | None:
    """The logged-in user of a `gr.Request` (None without login).

    Gradio gives no username to the MCP server's queue-free calls; `Identity` names the
    caller in a header it alone sets.
    """
    name = getattr(request, "username", None)
    if name or request is None:
        return name or None
    headers = getattr(request, "headers", None) or {}
    try:
        return headers.get(USER_HEADER) or None
    except Exception:  # headers may be an odd mapping in some Gradio paths
        return None


def cookie_user(gradio: Any, header: str) -> str | None:
    """The user of Gradio's login cookie, read the way Gradio's own routes read it."""
    tokens, cookie_id = getattr(gradio, "tokens", None), getattr(gradio, "cookie_id", None)
    if not tokens or cookie_id is None or not header:
        return None
    cookies = SimpleCookie()
    try:
        cookies.load(header)
    except Exception:  # a malformed cookie header: nobody
        return None
    for name in (f"access-token-{cookie_id}", f"access-token-unsecure-{cookie_id}"):
        if name in cookies:
            return tokens.get(cookies[name].value)
    return None


async def _unauthorized(send: Callable, scope: dict, detail: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    await send({"type": "http.response.start", "status": 401,
                "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")]})
    await send({"type": "http.response.body", "body": json.dumps({"detail": detail}).encode()})


MCP_LOOPBACK_USER = "(mcp)"  # not a valid account name: owns nothing, has no quota of anyone's


def log_in_mcp_loopback(blocks: Any) -> None:
    """Let the MCP server's own client (it calls this app back over HTTP) pass the login.

    Gradio builds that client once, without credentials, so with login on every tool
    failed ("credentials were not provided"). It gets a session of a pseudo-user that
    owns nothing; each call forwards its caller's headers, whose token then decides (a
    valid Bearer token replaces the cookies, see `Identity`).
    """
    from gradio_client import Client

    server, app = getattr(blocks, "mcp_server_obj", None), blocks.server_app
    if server is None or app is None:
        return
    session = secrets.token_urlsafe(16)
    app.tokens[session] = MCP_LOOPBACK_USER
    server._client_instance = Client(
        server.local_url or blocks.local_url, download_files=False, verbose=False, analytics_enabled=False,
        ssl_verify=False, _skip_components=False,
        headers={"x-gradio-user": "mcp", "cookie": f"access-token-{app.cookie_id}={session}"},
    )


# --------------------------------------------------------------------------- command line


def add_command(commands: Any) -> None:
    """Declare `token` on the command line's subparsers (see webui/cli.py)."""
    token = commands.add_parser(
        "token", help="make a personal API token for a user (or revoke theirs)",
        description="Print a new personal API token for NAME, for scripts and AI assistants "
                    "(Authorization: Bearer <token>); only its hash is stored. --revoke removes all of NAME's.")
    token.add_argument("name", metavar="NAME")
    token.add_argument("--revoke", action="store_true", help="remove every token of NAME")
    token.add_argument("--users", metavar="FILE", help="accounts file (default: $YUNYX_USERS, else ./users.txt)")
    token.set_defaults(run=run)


def run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO, *,
        environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> int:
    """Run a parsed `token` command: the new token on stdout (shown only now), notes on stderr."""
    cwd = Path.cwd() if cwd is None else cwd
    users = users_file(args.users, environ, cwd)
    store = ApiTokens(tokens_path(users, cwd))
    if args.revoke:
        print(f"revoked {store.revoke(args.name)} token(s) of {args.name}", file=stdout)
        return 0
    if not valid_name(args.name):
        print(f"error: bad user name {args.name!r}", file=stderr)
        return 1
    try:
        if users.exists() and args.name not in Accounts.load(users).accounts:
            print(f"error: no user {args.name} in {users}", file=stderr)
            return 1
    except AccountsError as exc:
        print(f"error: {exc}", file=stderr)
        return 1
    print(store.issue(args.name), file=stdout)
    print(f"(a new API token for {args.name}, stored hashed in {store.path}; "
          "send it as: Authorization: Bearer <token>)", file=stderr)
    return 0
