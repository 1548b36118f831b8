"""Where images live: PNG files under the outputs folder plus the history index.

Saving is crash-safe and never overwrites: the bytes go to a temporary file, which
is then hard-linked to its final name (`os.link` refuses an existing name, even one
another process just took), so a name only ever holds a whole image. On start,
leftovers of a crash are finished or cleared and the index is brought back in line
with the files.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import tempfile
import threading
import unicodedata
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from PIL import Image

from . import metadata
from .history import HistoryIndex, IndexUnreadable

log = logging.getLogger(__name__)

INDEX_NAME = "history.sqlite3"
TRASH_DIR = ".trash"
TMP_PREFIX = ".tmp-"
THUMBS_DIR = ".thumbs"
THUMB_SIZE = (384, 384)
RESCUE_DIR_NAME = "yunyx-webui-rescue"
MAX_NAME = 128
_HEAD_BYTES = 256 * 1024  # text chunks sit before IDAT: the head of a file is enough
_IEND = b"IEND\xaeB`\x82"
_COUNTER = re.compile(r"^(\d{5,})-")
_NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS, errno.EXDEV}


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def slugify(prompt: str, max_len: int = 60) -> str:
    """A file-name-safe hint of the prompt: ASCII words joined by '-', never a path."""
    text = unicodedata.normalize("NFKD", prompt)
    words = re.findall(r"[A-Za-z0-9]+", text)
    slug = ""
    for word in words:
        candidate = f"{slug}-{word.lower()}" if slug else word.lower()
        if len(candidate) > max_len:
            break
        slug = candidate
    return slug


def file_name(counter: int, seed: int | None, prompt: str) -> str:
    """`00001-<seed>-<slug>.png`, at most MAX_NAME characters."""
    stem = f"{counter:05d}-{seed if seed is not None else 'noseed'}"
    slug = slugify(prompt, max_len=MAX_NAME - len(stem) - len(".png") - 1)
    return f"{stem}-{slug}.png" if slug else f"{stem}.png"


class SaveError(Exception):
    """The image could not be written; `folder` is the directory that refused it."""

    def __init__(self, folder: Path, detail: str) -> None:
        super().__init__(f"{folder}: {detail}")
        self.folder = folder
        self.detail = detail


class Storage:
    """Saves images with their record and answers history queries."""

    def __init__(self, root: Path, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.root = Path(root).resolve()
        self.index = HistoryIndex(self.root / INDEX_NAME)
        self._clock = clock
        self._lock = threading.Lock()
        self._next_counter: dict[Path, int] = {}
        self._syncer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fsync")

    # -- start-up -------------------------------------------------------------------

    def open(self) -> "Storage":
        """Create the folder, recover from crashes, and make the index match the files."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._recover_leftovers()
        try:
            self.index.check() if self.index.path.exists() else self.index.create()
        except IndexUnreadable as exc:
            aside = self.index.move_aside()
            log.warning("History index unreadable (%s); moved to %s and rebuilding.", exc, aside)
            self.index.create()
        self.reconcile()
        return self

    def image_files(self) -> Iterator[Path]:
        """Every saved PNG (not the trash, not temporary files), any depth."""
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                if name.endswith(".png") and not name.startswith("."):
                    yield Path(dirpath, name)

    def reconcile(self) -> tuple[int, int]:
        """Index PNGs the index lacks; drop rows whose file is gone. Returns (added, dropped)."""
        on_disk = {self.relative(p): p for p in self.image_files()}
        indexed = self.index.files()
        missing = [on_disk[f] for f in on_disk.keys() - indexed]
        records = [r for r in map(self._record_from_file, missing) if r is not None]
        added = self.index.add_many(records)
        dropped = self.index.remove_files(indexed - on_disk.keys())
        if added or dropped:
            log.info("History index: %d image(s) added from files, %d row(s) dropped.", added, dropped)
        return added, dropped

    def _record_from_file(self, path: Path) -> dict[str, Any] | None:
        try:
            with path.open("rb") as fh:
                head = fh.read(_HEAD_BYTES)
            record = metadata.read_record(head)
            if record is None and len(head) == _HEAD_BYTES:
                record = metadata.read_record(path.read_bytes())
        except OSError:
            return None
        if record is None:
            return None
        record = dict(record)
        record["file"] = self.relative(path)  # the file's real place wins over its memory
        record.setdefault("id", uuid.uuid5(uuid.NAMESPACE_URL, record["file"]).hex)
        if not record.get("created_at"):
            record["created_at"] = iso_utc(datetime.fromtimestamp(path.stat().st_mtime, timezone.utc))
        return record

    def _recover_leftovers(self) -> None:
        """Finish saves a crash interrupted, then clear empty reservations and temp files."""
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                if name.startswith(TMP_PREFIX):
                    self._finish_or_drop(Path(dirpath, name))
            for name in filenames:
                path = Path(dirpath, name)
                if name.endswith(".png") and path.exists() and path.stat().st_size == 0:
                    path.unlink(missing_ok=True)

    def _finish_or_drop(self, tmp: Path) -> None:
        """A temporary file left by a crash: give a whole image its name, drop the rest."""
        try:
            data = tmp.read_bytes()
            record = metadata.read_record(data) if data.endswith(_IEND) else None
            if record is None or not record.get("file"):
                tmp.unlink()
                return
            target = self.root / str(record["file"])
            if target.parent != tmp.parent:
                target = tmp.parent / f"recovered{tmp.name}"
            if target.exists() and target.stat().st_size > 0:
                if target.read_bytes() == data:  # the crash came after the link
                    tmp.unlink()
                    return
                target = tmp.parent / f"recovered{tmp.name}"
            os.replace(tmp, target)
            log.warning("Recovered an image a crash interrupted: %s", target)
        except (OSError, ValueError, TypeError):
            tmp.unlink(missing_ok=True)

    # -- saving ---------------------------------------------------------------------

    def relative(self, path: Path) -> str:
        return Path(path).resolve().relative_to(self.root).as_posix()

    def path_of(self, record: Mapping[str, Any]) -> Path:
        """Absolute path of a record's file, refusing anything outside the outputs folder."""
        path = (self.root / str(record["file"])).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError("record points outside the outputs folder")
        return path

    def save(self, png: bytes, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Write `png` with its record in the text chunks, index it, return the record.

        `fields` holds the generation parameters (prompt, model, image_size,
        prompt_enhancement, seed, inference, user). Raises SaveError if the disk refuses.
        When this returns, the file is complete under its final name (a crash of the
        app can't lose it); the fsync to stable storage follows off the request path.
        """
        now = self._clock()
        folder = self.root / now.strftime("%Y-%m-%d")
        base = {
            "id": uuid.uuid4().hex,
            "user": None,
            **{k: fields.get(k) for k in metadata.RECORD_KEYS if k in fields},
            "created_at": iso_utc(now),
        }
        try:
            folder.mkdir(parents=True, exist_ok=True)
            target, record = self._write_new(folder, png, base)
        except OSError as exc:
            raise SaveError(folder, exc.strerror or type(exc).__name__) from exc
        self._syncer.submit(_fsync_file_and_folder, target)
        try:
            self.index.add(record)
        except Exception:  # the file is safe; the next start indexes it
            log.exception("Image saved as %s but not indexed yet; it will be on restart.", target)
        return record

    def _write_new(self, folder: Path, png: bytes, base: dict[str, Any]) -> tuple[Path, dict[str, Any]]:
        """Write a temporary file, then give it a fresh final name that no one else holds.

        The record inside the PNG names its own file, so a lost race for a name
        (another process took it) rewrites the temporary file with the next name.
        """
        seed = base.get("seed") if isinstance(base.get("seed"), int) else None
        prompt = str(base.get("prompt") or "")
        tmp = folder / f"{TMP_PREFIX}{uuid.uuid4().hex}.png"
        try:
            while True:
                target = self._next_name(folder, seed, prompt)
                if target.exists():
                    continue
                record = {**base, "file": f"{folder.name}/{target.name}"}
                _write_exclusive(tmp, metadata.embed_record(png, record))
                if _claim(tmp, target):
                    return target, record
                tmp.unlink()
        finally:
            tmp.unlink(missing_ok=True)

    def _next_name(self, folder: Path, seed: int | None, prompt: str) -> Path:
        with self._lock:
            counter = self._next_counter.get(folder) or self._scan_counter(folder)
            self._next_counter[folder] = counter + 1
        return folder / file_name(counter, seed, prompt)

    @staticmethod
    def _scan_counter(folder: Path) -> int:
        highest = 0
        with os.scandir(folder) as entries:
            for entry in entries:
                match = _COUNTER.match(entry.name)
                if match:
                    highest = max(highest, int(match.group(1)))
        return highest + 1

    def close(self) -> None:
        """Finish pending fsyncs and close the index."""
        self._syncer.shutdown(wait=True)
        self.index.close()

    # -- reading --------------------------------------------------------------------

    def history(
        self, query: str = "", offset: int = 0, limit: int = 50, user: str | None = None
    ) -> list[dict[str, Any]]:
        return self.index.search(query, offset, limit, user)

    def get(self, record_id: str) -> dict[str, Any] | None:
        return self.index.get(record_id)

    def thumbnail(self, record: Mapping[str, Any]) -> Path:
        """A small WebP of the image, made once and kept in `.thumbs/`.

        Galleries show these: handing Gradio the full PNGs would make it hash and copy
        megabytes per refresh. Falls back to the PNG itself if the thumbnail can't be made.
        """
        source = self.path_of(record)
        thumb = self.root / THUMBS_DIR / f"{_safe_id(record)}.webp"
        if thumb.exists():
            return thumb
        try:
            thumb.parent.mkdir(exist_ok=True)
            with Image.open(source) as img:
                img.thumbnail(THUMB_SIZE)
                fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=".webp", dir=thumb.parent)
                with os.fdopen(fd, "wb") as fh:
                    img.convert("RGB").save(fh, "WEBP", quality=82, method=2)
            os.replace(tmp, thumb)
        except (OSError, ValueError, Image.DecompressionBombError):
            return source
        return thumb

    @staticmethod
    def rescue(png: bytes, name: str = "image.png") -> Path:
        """Park an image the outputs folder refused in the system temp folder.

        Gradio serves its temp folder, so the user can still download the picture.
        """
        folder = Path(tempfile.gettempdir()) / RESCUE_DIR_NAME
        folder.mkdir(exist_ok=True)
        fd, path = tempfile.mkstemp(prefix="unsaved-", suffix="-" + Path(name).name, dir=folder)
        with os.fdopen(fd, "wb") as fh:
            fh.write(png)
        return Path(path)


def _write_exclusive(path: Path, data: bytes) -> None:
    """Create `path` (it must not exist) and write `data`: one open, one write."""
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def _claim(tmp: Path, target: Path) -> bool:
    """Give `tmp`'s content the name `target` unless that name is taken; True on success.

    `os.link` fails with EEXIST instead of overwriting, atomically and across processes.
    File systems without hard links reserve the name with O_EXCL and rename over it.
    """
    try:
        os.link(tmp, target)
        return True
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
    try:
        fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    os.close(fd)
    os.replace(tmp, target)
    return True


def _fsync_file_and_folder(path: Path) -> None:
    """Push a saved image and its directory entry to stable storage (power-loss safety)."""
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:  # the file is written; only the flush failed
        log.warning("Could not fsync %s: %s", path, exc)


def _safe_id(record: Mapping[str, Any]) -> str:
    """Record ids come from files on disk: keep only characters safe in a file name."""
    return re.sub(r"[^A-Za-z0-9_-]", "", str(record.get("id", "")))[:64] or "unknown"
