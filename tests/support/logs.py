"""Logging for tests: turn it all on, and leave it as it was found.

Logger levels are process-wide: a test that calls `launch.main` (which quiets urllib3) or
raises a level must not change what a later test sees.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

NOISY = ("urllib3", "requests", "httpx", "webui")


@contextmanager
def logging_restored() -> Iterator[None]:
    """Restore every logger's level and the root's handlers on the way out."""
    root = logging.getLogger()
    handlers = list(root.handlers)
    levels = {name: logger.level for name, logger in logging.Logger.manager.loggerDict.items()
              if isinstance(logger, logging.Logger)}
    root_level = root.level
    try:
        yield
    finally:
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)
        root.setLevel(root_level)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


@contextmanager
def debug_logs() -> Iterator[io.StringIO]:
    """Everything logged at DEBUG and above, from every library, into the yielded stream."""
    stream = io.StringIO()
    with logging_restored():
        root = logging.getLogger()
        root.addHandler(logging.StreamHandler(stream))
        root.setLevel(logging.DEBUG)
        for name in NOISY:
            logging.getLogger(name).setLevel(logging.DEBUG)
        yield stream
