"""The app without a page: backend, service, storage and generator, built from Settings.

The web app and the command line share it, so a picture made from a script goes
through exactly the same validation, API client and storage as one made in the page.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .accounts import Accounts
from .config import ConfigError, Settings
from .demo import DemoBackend
from .generator import Generator
from .provenance import APP_NAME, DEFAULT_PRODUCER, Labeller
from .quota import DailyLimits, Quota
from .recipes import LIBRARY_NAME, Library
from .service import ImageService
from .storage import Storage

DEMO_PRODUCER = "YUNYX demo backend (offline)"


@dataclass
class Core:
    settings: Settings
    storage: Storage
    service: ImageService
    generator: Generator
    backend: DemoBackend | None
    api_base: str
    library: Library
    quota: Quota  # the one daily-limit counter: the generator takes slots from it, Usage reads it
    accounts: Accounts | None = None

    def is_admin(self, name: str | None) -> bool:
        return self.accounts is not None and self.accounts.is_admin(name)

    @property
    def demo_mode(self) -> bool:
        return self.backend is not None

    def close(self) -> None:
        """Release everything; safe to call twice."""
        self.service.close()
        self.storage.close()
        self.library.close()
        if self.backend is not None:
            self.backend.stop()


def load_accounts(settings: Settings) -> Accounts | None:
    """`--users FILE`, or the single `--auth` login (its owner is the admin); None without login.

    Raises AccountsError (naming the file and line) for a malformed accounts file.
    """
    if settings.users_file is not None:
        return Accounts.load(settings.users_file)
    if settings.auth is not None:
        name, password = settings.auth
        return Accounts.single(name, password.reveal())
    return None


def labeller_for(settings: Settings) -> Labeller:
    """Who the AI labels name: the API's host as producer (unless set), this app as propagator."""
    host = urlsplit(settings.api_base).hostname or DEFAULT_PRODUCER
    return Labeller(
        producer=settings.label_producer or (DEMO_PRODUCER if settings.demo_mode else host),
        propagator=settings.label_propagator or APP_NAME,
    )


def open_storage(outputs: Path, labeller: Labeller | None = None) -> Storage:
    """The outputs folder, opened; a folder we cannot use is a ConfigError that names it."""
    if outputs.exists() and not outputs.is_dir():
        raise ConfigError(f"--outputs {outputs}: that is a file, not a folder.")
    try:
        return Storage(outputs, labeller=labeller).open()
    except (OSError, sqlite3.Error) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise ConfigError(f"--outputs {outputs}: cannot use it as the outputs folder ({reason}).") from None


def open_core(settings: Settings) -> Core:
    """Start the demo backend when there is no key (or --demo), else use the real API."""
    accounts = load_accounts(settings)  # first: a bad accounts file stops before anything starts
    storage = open_storage(settings.outputs, labeller_for(settings))  # then a bad --outputs, before any thread
    backend = None
    if settings.demo_mode:
        backend = DemoBackend().start()
        base, key = backend.base_url, None
    else:
        base, key = settings.api_base, settings.api_key.reveal() if settings.api_key else None
    service = ImageService(
        base,
        key,
        timeout=settings.timeout,
        max_retries=settings.max_retries,
        max_retry_wait=settings.max_retry_wait,
        retry_wait=settings.retry_wait,
        pool_size=max(8, settings.concurrency * 2),
    )
    limits = DailyLimits(
        settings.daily_limit, settings.admin_limit, accounts.is_admin if accounts else (lambda name: False)
    )
    quota = Quota(storage.index, limits)
    generator = Generator(service, storage, settings.concurrency, quota)
    library = Library(settings.outputs / LIBRARY_NAME)
    return Core(settings, storage, service, generator, backend, base, library, quota, accounts)
