"""Cross-process advisory locks: one writer at a time for a folder's read-change-write steps.

Two processes may share a folder: two apps on one outputs folder (their history index is made
once, by whichever starts first), or a script running `adduser` side by side (each rewrites
the accounts file). The lock is taken on the folder itself: the files in it are replaced
whole on each write, so they cannot carry a lock, and a lock file would be left lying beside
them. Where `fcntl` is missing (Windows) or the folder cannot be opened, nothing is serialised.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def holding(folder: Path) -> Iterator[None]:
    """Hold `folder` (an exclusive `flock`) until the block ends; another process waits."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # no folder: the step itself says what is wrong
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
