"""The app without a page: backend, service, storage and generator, built from Settings.

The web app and the command line share it, so a picture made from a script goes
through exactly the same validation, API client and storage as one made in the page.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import Settings
from .demo_backend import DemoBackend
from .generator import Generator
from .service import ImageService
from .storage import Storage


@dataclass
class Core:
    settings: Settings
    storage: Storage
    service: ImageService
    generator: Generator
    backend: DemoBackend | None
    api_base: str

    @property
    def demo_mode(self) -> bool:
        return self.backend is not None

    def close(self) -> None:
        """Release everything; safe to call twice."""
        self.service.close()
        self.storage.close()
        if self.backend is not None:
            self.backend.stop()


def open_core(settings: Settings) -> Core:
    """Start the demo backend when there is no key (or --demo), else use the real API."""
    backend = None
    if settings.demo_mode:
        backend = DemoBackend().start()
        base, key = backend.base_url, None
    else:
        base, key = settings.api_base, settings.api_key.reveal() if settings.api_key else None
    storage = Storage(settings.outputs).open()
    service = ImageService(
        base,
        key,
        timeout=settings.timeout,
        max_retries=settings.max_retries,
        max_retry_wait=settings.max_retry_wait,
        pool_size=max(8, settings.concurrency * 2),
    )
    generator = Generator(service, storage, settings.concurrency)
    return Core(settings, storage, service, generator, backend, base)
