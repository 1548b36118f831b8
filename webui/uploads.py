"""Reading a file a visitor dropped on the page (PNG Info): bounded, and only a regular file.

Gradio hands an event the path of the upload in its cache folder. The file is read
here, not by the handler: a size cap and the checks below keep a hostile upload (a
link, a FIFO, a device, a huge file) from pointing anywhere, blocking or filling memory.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import tempfile
import time
from pathlib import Path

MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # also Gradio's upload limit (`launch(max_file_size=...)`)
DOWNLOADS_DIR_NAME = "yunyx-webui-chunks"
DOWNLOAD_LIFETIME_S = 3600  # Gradio serves its own copy; ours is only needed until then


def read_upload(path: str | Path, max_bytes: int = MAX_UPLOAD_BYTES) -> bytes:
    """The bytes of an uploaded file, at most `max_bytes`.

    Only a regular file is read: a symlink, FIFO or device could point anywhere,
    block forever or never end. ValueError for those and for a file too large;
    OSError (FileNotFoundError...) if it can't be opened.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    flags |= getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)  # O_NONBLOCK: opening a FIFO must not wait for a writer
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # O_NOFOLLOW met a symlink
            raise ValueError(f"{path}: not a regular file") from None
        raise
    try:
        info = os.fstat(fd)  # of what was opened: nothing can swap it after the check
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{path}: not a regular file")
        if info.st_size > max_bytes:
            raise ValueError(f"{path}: {info.st_size} bytes, more than {max_bytes}")
        data = _read_up_to(fd, max_bytes + 1)  # it may have grown since fstat
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise ValueError(f"{path}: more than {max_bytes} bytes")
    return data


def _read_up_to(fd: int, limit: int) -> bytes:
    """Read until end of file or `limit` bytes, whichever comes first."""
    chunks: list[bytes] = []
    left = limit
    while left > 0:
        chunk = os.read(fd, min(left, 1024 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def save_chunks(chunks: dict[str, str]) -> Path:
    """Write every text chunk in full to a JSON file in the temp folder, for PNG Info's download.

    Gradio copies the returned file into its cache to serve it; copies older than an
    hour are dropped on the next call, so the folder never grows.
    """
    folder = Path(tempfile.gettempdir()) / DOWNLOADS_DIR_NAME
    folder.mkdir(exist_ok=True)
    _drop_older_than(folder, DOWNLOAD_LIFETIME_S)
    fd, path = tempfile.mkstemp(prefix="chunks-", suffix=".json", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8", errors="surrogatepass") as fh:
        json.dump(chunks, fh, ensure_ascii=False, indent=1)
    return Path(path)


def _drop_older_than(folder: Path, seconds: float) -> None:
    limit = time.time() - seconds
    for entry in os.scandir(folder):
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < limit:
                os.unlink(entry.path)
        except OSError:
            pass  # another app on this machine took it first
