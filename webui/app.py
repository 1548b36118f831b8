"""The app factory: `create_app(settings)` builds every part, with no global state.

A test builds an app with its own outputs folder and backend; two apps can live
side by side in one process.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable

import anyio
import anyio.to_thread
import gradio as gr
from starlette.middleware import Middleware
from starlette.routing import Mount

from .access import Access
from .accounts import Accounts
from .admission import VisitorQueue
from .asgi import lifespans, outermost
from .caching import FileCaching
from .compression import PageCompression
from .config import Settings
from .core import Core, open_core
from .curation import Curator
from .gradio_speed import NO_TELEMETRY, lean_page_config, lean_sessions, quiet_queue, skip_missing_matplotlib
from .guard import FileGuard, ServedFiles
from .handlers import (
    CurationHandlers,
    GenerateHandlers,
    Handlers,
    HistoryHandlers,
    LibraryHandlers,
    PngInfoHandlers,
    UsageHandlers,
)
from .hosts import AllowedHosts, HostGuard
from .login_page import LoginPage
from .logins import LoginGuard, LoginThrottle
from .rest import PREFIX, build_rest
from .storage import Storage
from .tokens import ApiTokens, Identity, log_in_mcp_loopback, tokens_path
from .trash import Trash
from .ui import CSS, HEAD, T, build_ui
from .uploads import MAX_UPLOAD_BYTES

log = logging.getLogger(__name__)

# Gradio's cache holds a copy of every image and upload it served: each hour, copies older
# than a day go (the originals stay in the outputs folder); all of them when the app stops.
CACHE_SWEEP = (3600, 86400)


@dataclass
class App:
    """Everything one running web UI owns; `close()` releases it all."""

    settings: Settings
    blocks: gr.Blocks
    core: Core
    files: ServedFiles  # what the file routes and PNG Info may hand to whom
    trash: Trash  # outputs/.trash: the History tab's and the endpoints' one trash
    handlers: Handlers  # every event's handler, by area (tests call them directly)
    rest: Any = None  # the /api/v1 app (webui/rest.py), mounted at launch
    tokens: ApiTokens | None = None  # personal API tokens (webui/tokens.py)
    _closed: bool = field(default=False, repr=False)

    @property
    def demo_mode(self) -> bool:
        return self.core.demo_mode

    @property
    def storage(self) -> Storage:
        return self.core.storage

    def launch_kwargs(self) -> dict[str, Any]:
        """Arguments for `Blocks.launch`: paths, auth and the Gradio features we keep off."""
        s = self.settings
        blocked = [str(p) for p in self.storage.private_paths()] + [str(Path.cwd() / ".env")]
        blocked += [str(p) for p in self.core.library.private_paths()]
        if s.users_file is not None:
            blocked.append(str(s.users_file.resolve()))
        middleware = [Middleware(PageCompression, skip=(PREFIX,)), Middleware(FileGuard, files=self.files),
                      Middleware(FileCaching)]
        return {
            "server_name": s.host,
            "server_port": s.port,
            "share": s.share,
            "auth": make_auth(self.core.accounts),
            "auth_message": "YUNYX text to image",
            "app_kwargs": {"middleware": middleware, "telemetry": NO_TELEMETRY,
                           "lifespan": lifespans(lean_sessions, outermost(self.front_layers())),
                           "routes": [Mount(PREFIX, app=self.rest)]},
            "allowed_paths": [str(s.outputs.resolve())],
            "blocked_paths": blocked,
            "max_file_size": MAX_UPLOAD_BYTES,
            "run_history": False,
            "enable_monitoring": False,
            "mcp_server": s.mcp,
            "show_error": False,
            "quiet": True,
            "footer_links": ["api"],
            "theme": gr.themes.Soft(),
            "css": CSS,
            "head": HEAD,
            "i18n": T,
        }

    def front_layers(self) -> list:
        """ASGI layers that see every request before Gradio does, outermost first."""
        hosts = AllowedHosts(self.settings.host, self.settings.allowed_hosts, lambda: self.blocks.share_url)
        logins = LoginThrottle()
        tokens = self.tokens or ApiTokens(tokens_path(self.settings.users_file, Path.cwd()))
        accounts = self.core.accounts
        is_user = (lambda name: name in accounts.accounts) if accounts is not None else None
        return [lambda inner: HostGuard(inner, hosts), lambda inner: LoginGuard(inner, logins),
                lambda inner: Identity(inner, tokens, is_user), LoginPage]

    def launch(self, **overrides: Any) -> Any:
        # _frontend=False: Gradio's one-shot `HEAD /` check (3 s timeout, then "localhost is not
        # accessible" and the app stops) fails on a busy machine; the server is up when launch returns.
        launched = self.blocks.launch(**{"_frontend": False, **self.launch_kwargs(), **overrides})
        if self.settings.mcp and self.core.accounts is not None:
            log_in_mcp_loopback(self.blocks)
        return launched

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self.blocks.close()
        finally:
            self.core.close()


HASHING_THREADS = 2  # password hashes computed at once; the rest of the app keeps the other threads


def make_auth(accounts: Accounts | None) -> Callable[[str, str], Awaitable[bool]] | None:
    """Gradio's login check: hashed passwords, constant-time; refusals logged without the password.

    A coroutine, so Gradio awaits it: the hash runs in a worker thread (at most
    HASHING_THREADS at once), never on the event loop that serves everyone else.
    """
    if accounts is None:
        return None
    limiter: anyio.CapacityLimiter | None = None

    async def check(name: str, password: str) -> bool:
        nonlocal limiter
        limiter = limiter or anyio.CapacityLimiter(HASHING_THREADS)
        ok = await anyio.to_thread.run_sync(accounts.check, name, password, limiter=limiter)
        if not ok:
            log.warning("Refused a login for user %r.", name[:64])
        return ok

    return check


def operator_check(core: Core) -> Callable[[gr.Request | None], bool]:
    """Whoever runs the app: everyone without login, else the admin. Only they see setup steps."""
    def is_operator(request: gr.Request | None) -> bool:
        return core.accounts is None or core.is_admin(getattr(request, "username", None))
    return is_operator


def create_app(settings: Settings) -> App:
    """Build the core (storage, service, generator; the demo backend without a key) and the page."""
    core = open_core(settings)
    is_admin = core.is_admin
    store, index = core.storage, core.storage.index
    access = Access(index, private=settings.private_history, is_admin=is_admin)
    trash = Trash(store, index, access)
    files = ServedFiles(store, access, logins=core.accounts is not None, forget_after=2 * CACHE_SWEEP[1],
                        trim_every=CACHE_SWEEP[0])  # the ledger forgets as often as the cache is swept
    curator = Curator(store, index, access, trash)
    generate = GenerateHandlers(core.generator, store, index, is_operator=operator_check(core))
    handlers = Handlers(
        generate=generate,
        history=HistoryHandlers(store, index, access, trash),
        library=LibraryHandlers(core.library, core.generator, core.storage, curator, is_admin, jobs=generate,
                                files=files),
        pnginfo=PngInfoHandlers(files),
        usage=UsageHandlers(core.quota, is_admin),
        curation=CurationHandlers(curator, core.generator, PngInfoHandlers(files),
                                  visible_label=settings.visible_label),
    )
    blocks = build_ui(handlers, demo_mode=core.demo_mode, api_base=core.api_base,
                      concurrency=settings.concurrency, logged_in=core.accounts is not None)
    # api_open=False: no route skips the queue (and so the per-visitor cap); max_size=None: browsing
    # is never "queue full", generations are bounded per visitor and in total by VisitorQueue.
    files.watch(blocks)  # the owner ledger of every file an event hands out
    blocks.queue(default_concurrency_limit=settings.concurrency, max_size=None, api_open=False)
    blocks.delete_cache = CACHE_SWEEP
    quiet_queue(blocks)
    skip_missing_matplotlib()
    lean_page_config()
    VisitorQueue(blocks, per_visitor=settings.visitor_queue).install()
    tokens = ApiTokens(tokens_path(settings.users_file, Path.cwd()))
    rest = build_rest(core.storage, core.generator, handlers.history, login_required=core.accounts is not None,
                      token_user=tokens.user_for, copy_for=files.copy_for)
    return App(settings, blocks, core, files, trash, handlers, rest, tokens)
