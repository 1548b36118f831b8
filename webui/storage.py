"""Where images live: PNG files under the outputs folder plus the history index.

Saving is crash-safe and never overwrites: the bytes go to an unnamed file
(`O_TMPFILE`; a named temporary file where the file system has none), which is then
hard-linked to its final name (a link refuses an existing name, even one another
process just took), so a name only ever holds a whole image. On start,
leftovers of a crash are finished or cleared and the index is brought back in line
with the files.

The trash (`.trash/`) is the store's folder but `trash.Trash`'s business: it moves
files with `own_file` and `file_lock`, so a delete and a rewrite of the marks never
interleave. Like every dot-folder, the trash is never indexed.
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
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping

from PIL import Image

from . import locks, metadata, provenance
from .db import database_files
from .history import HistoryIndex, IndexUnreadable
from .record import Record

log = logging.getLogger(__name__)

INDEX_NAME = "history.sqlite3"
TRASH_DIR = ".trash"
TMP_PREFIX = ".tmp-"
THUMBS_DIR = ".thumbs"
THUMB_SIZE = (384, 384)
MAX_NAME = 128
_HEAD_BYTES = 256 * 1024  # text chunks sit before IDAT: the head of a file is enough
_IEND = b"IEND\xaeB`\x82"
_COUNTER = re.compile(r"^(\d{5,})-")
_RECORD_FIELDS = frozenset(f.name for f in dataclass_fields(Record)) - {"extra"}
_NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS, errno.EXDEV}


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def slugify(prompt: str, max_len: int = 60) -> str:
    """A file-name-safe hint of the prompt: words (any script: a Chinese prompt stays
    Chinese) joined by '-', at most `max_len` UTF-8 bytes, never a path.

    Only letters and digits survive (Unicode `\\w` minus `_`): no dots, slashes,
    control or direction-override characters; NFKC folds full-width forms.
    """
    text = unicodedata.normalize("NFKC", prompt)
    words = re.findall(r"[^\W_]+", text)
    slug = ""
    for word in words:
        word = word.lower()
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate.encode("utf-8")) > max_len:
            if not slug:  # one long run (Chinese has no spaces): keep what fits
                while word and len(word.encode("utf-8")) > max_len:
                    word = word[:-1]
                slug = word
            break
        slug = candidate
    return slug


def file_name(counter: int, seed: int | None, prompt: str) -> str:
    """`00001-<seed>-<slug>.png`, at most MAX_NAME bytes in UTF-8."""
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
    """The image store: saves PNGs with their record, recovers on start, makes thumbnails."""

    def __init__(
        self, root: Path, *, clock: Callable[[], datetime] = utc_now, labeller: provenance.Labeller | None = None
    ) -> None:
        self.root = Path(root).resolve()
        self.labeller = labeller or provenance.Labeller()  # the AI labels every saved PNG carries
        self.index = HistoryIndex(self.root / INDEX_NAME, folder=self.root)  # handed to who lists or marks
        self._clock = clock
        self._lock = threading.Lock()
        self.file_lock = threading.Lock()  # held while an image's file is rewritten or moved: never both at once
        self._next_counter: dict[Path, int] = {}
        self._syncer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fsync")
        self._folders: set[Path] = set()  # day folders made (or found) by this process
        self._unnamed_files = hasattr(os, "O_TMPFILE")  # until the file system says otherwise

    # -- start-up -------------------------------------------------------------------

    def open(self) -> "Storage":
        """Create the folder, recover from crashes, and make the index match the files.

        Only folders whose modification time changed since the last start are read (a
        file added, removed or renamed in a folder changes its time), so a start with
        the index present costs a `stat` per folder, not a read per image.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        for folder in (THUMBS_DIR, TRASH_DIR):
            _clear_leftovers(self.root / folder)
        # One process at a time: two apps started at once on a new folder both went to create the
        # index; one failed ("database is locked") or moved the other's half-made file aside.
        with locks.holding(self.root):
            try:
                self.index.check() if self.index.path.exists() else self.index.create()
            except IndexUnreadable as exc:
                aside = self.index.move_aside()
                log.warning("History index unreadable (%s); moved to %s and rebuilding.", exc, aside)
                self.index.create()
        self._reconcile_changed()
        return self

    def _scan_folder(self, folder: Path, prefix: str, recover: bool) -> tuple[dict[str, Path], list[tuple[Path, str]]]:
        """The saved PNGs directly in one folder, and its subfolders (dot-folders left out).

        Relative paths are built while walking (no `resolve()` per file). With `recover`,
        a crash's leftovers are finished or cleared on the way: temporary files, and
        empty files under a final name.
        """
        found: dict[str, Path] = {}
        subfolders: list[tuple[Path, str]] = []
        entries = _entries(folder)
        if recover and any(e.name.startswith(TMP_PREFIX) for e in entries):
            for entry in entries:
                if entry.name.startswith(TMP_PREFIX) and entry.is_file(follow_symlinks=False):
                    self._finish_or_drop(Path(entry.path))
            entries = _entries(folder)  # finished saves now stand under their names
        for entry in entries:
            if entry.name.startswith("."):
                continue  # .trash, .thumbs, temporary files
            if entry.is_dir(follow_symlinks=False):
                subfolders.append((Path(entry.path), f"{prefix}{entry.name}/"))
            elif entry.name.endswith(".png") and entry.is_file(follow_symlinks=False):
                if recover and entry.stat().st_size == 0:
                    Path(entry.path).unlink(missing_ok=True)
                    continue
                found[prefix + entry.name] = Path(entry.path)
        return found, subfolders

    def _reconcile_changed(self) -> tuple[int, int]:
        """Reconcile only the folders that changed since the index last saw them.

        A folder's time is read before its entries, so a change made while it is read
        makes it look changed next time. A folder the index knew that is gone takes
        its rows with it. Returns (added, dropped).
        """
        known = self.index.folders()
        children: dict[str, list[str]] = {}
        for prefix in known:
            if prefix:
                children.setdefault(_parent(prefix), []).append(prefix)
        found: dict[str, Path] = {}
        changed: list[str] = []
        seen: dict[str, int] = {}
        folders = [(self.root, "")]
        while folders:
            folder, prefix = folders.pop()
            try:
                mtime = folder.stat().st_mtime_ns
            except OSError:
                continue
            seen[prefix] = mtime
            if known.get(prefix) == mtime:  # as the index saw it: its known subfolders may have changed
                folders += [(self.root / child, child) for child in children.get(prefix, ())]
                continue
            changed.append(prefix)
            files, subfolders = self._scan_folder(folder, prefix, recover=True)
            found.update(files)
            folders += subfolders
        indexed = self.index.files_in(changed, [p for p in known if p not in seen])
        missing = found.keys() - indexed
        records = [r for r in (self._record_from_file(found[f], f) for f in missing) if r is not None]
        added = self.index.add_many(records)
        dropped = self.index.remove_files(indexed - found.keys())
        self.index.set_folders(seen)
        if added or dropped:
            log.info("History index: %d image(s) added from files, %d row(s) dropped.", added, dropped)
        return added, dropped

    def _record_from_file(self, path: Path, relative: str | None = None) -> dict[str, Any] | None:
        record = record_in_file(path)
        return self.placed(record, path, relative) if record is not None else None

    def placed(self, record: Mapping[str, Any], path: Path, relative: str | None = None) -> dict[str, Any]:
        """The record as indexed for the file at `path`."""
        record = dict(record)
        record["file"] = relative or self.relative(path)  # the file's real place wins over its memory
        record.setdefault("id", uuid.uuid5(uuid.NAMESPACE_URL, record["file"]).hex)
        if not record.get("created_at"):
            record["created_at"] = iso_utc(datetime.fromtimestamp(path.stat().st_mtime, timezone.utc))
        return record

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
                on_disk = record_in_file(target)
                if on_disk is not None and record.get("id") and on_disk.get("id") == record.get("id"):
                    os.replace(tmp, target)  # a rewrite of the marks, cut before its rename
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

    def save(self, png: bytes, fields: Mapping[str, Any], *, produce_id: str | None = None) -> dict[str, Any]:
        """Write `png` with its record and AI labels in chunks, index it, return the record.

        `fields` holds the generation parameters (prompt, model, image_size,
        prompt_enhancement, seed, inference, user); `produce_id` is the API's id for the
        image, if it gave one (the labels' ProduceID). Raises SaveError if the disk refuses.
        When this returns, the file is complete under its final name (a crash of the
        app can't lose it); the fsync to stable storage follows off the request path.
        """
        now = self._clock()
        folder = self.root / now.strftime("%Y-%m-%d")
        known = {k: v for k, v in fields.items() if k in _RECORD_FIELDS}
        base = Record.from_mapping({**known, "id": uuid.uuid4().hex, "created_at": iso_utc(now)})
        labels = self.labeller.chunks_for(png, base.to_dict(), produce_id)
        try:
            target, record = self._write_new(folder, png, labels, base)
        except OSError as exc:
            raise SaveError(folder, exc.strerror or type(exc).__name__) from exc
        try:
            self.index.add(record)
        except Exception:  # the file is safe: index it again before the next listing
            log.exception("Image saved as %s but not indexed yet; trying again before the next listing.", target)
            self.index.add_later(record)
            return {**record.to_dict(), "indexed": False}
        finally:
            # Handed over last: the fsync thread wakes once this save is done instead of
            # competing with it for the GIL (on a busy machine a woken thread may hold it
            # for a whole time slice).
            self._syncer.submit(_fsync_file_and_folder, target)
        return record.to_dict()

    def _write_new(self, folder: Path, png: bytes, labels: bytes, base: Record) -> tuple[Path, Record]:
        """Write the image, its record and labels under a fresh final name that no one else holds.

        The record inside the PNG names its own file, so a lost race for a name
        (another process took it) writes the file again with the next free name.
        The pixels are never copied: the pieces go to the file with one `writev`.
        """
        if folder not in self._folders:
            folder.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)
        while True:
            target = self._next_name(folder, base.seed, base.prompt)
            record = replace(base, file=f"{folder.name}/{target.name}")
            pieces = metadata.text_pieces(png, metadata.text_chunks(record), labels)
            try:
                created = self._create(target, pieces)
            except FileNotFoundError:  # the day's folder was removed while the app ran
                self._folders.discard(folder)
                folder.mkdir(parents=True, exist_ok=True)
                self._folders.add(folder)
                created = self._create(target, pieces)
            if created:
                return target, record
            with self._lock:  # another process took the name: count on from what is on disk
                self._next_counter.pop(folder, None)

    def _create(self, target: Path, pieces: list[bytes | memoryview]) -> bool:
        """Write `pieces` as a new file named `target`, atomically; False if the name is taken."""
        if self._unnamed_files:
            try:
                return _link_unnamed(target, pieces)
            except _Unsupported:
                self._unnamed_files = False  # this file system: temporary files from now on
        tmp = target.parent / f"{TMP_PREFIX}{uuid.uuid4().hex}.png"
        try:
            _write_exclusive(tmp, pieces)
            return claim_name(tmp, target) is not None
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

    def rewrite(self, record: Record) -> None:
        """Write a record's new marks into its PNG: text chunks change, pixels never do.

        Atomic like a save: the new bytes go to a temporary file in the same folder that
        then replaces the old file, so the name always holds a whole image (a crash in
        between is finished at the next start). FileNotFoundError if the file is gone,
        ValueError if the record's file is not an image of ours.
        """
        with self.file_lock:
            path = self.own_file(record.to_dict())
            data = path.read_bytes()
            updated = metadata.add_text_chunks(data, metadata.text_chunks(record))
            tmp = path.with_name(f"{TMP_PREFIX}{uuid.uuid4().hex}.png")
            try:
                _write_exclusive(tmp, updated)
                os.replace(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)
        self._syncer.submit(_fsync_file_and_folder, path)

    def close(self) -> None:
        """Finish pending fsyncs and close the index."""
        self._syncer.shutdown(wait=True)
        self.index.close()

    # -- reading --------------------------------------------------------------------

    def image_at(self, path: Path) -> dict[str, Any] | None:
        """The record of the image of ours at `path` (resolved), or None: what the outputs folder may serve.

        Ours are the saved PNGs (outside dot-folders, carrying a record, as a start
        indexes them) and the thumbnails of indexed records. Not the index, a moved-aside
        copy of it, the trash, or any other file in the folder.
        """
        try:
            parts = path.relative_to(self.root).parts
        except ValueError:
            return None
        if len(parts) == 2 and parts[0] == THUMBS_DIR and path.suffix == ".webp" and path.is_file():
            return self.index.get(path.stem)
        if path.suffix != ".png" or any(p.startswith(".") for p in parts) or not path.is_file():
            return None
        return record_in_file(path)

    def private_paths(self) -> list[Path]:
        """What must never be served although it sits in the outputs folder: the index and its
        journal files, and the trash."""
        return [*database_files(self.index.path), self.trash_dir]

    def thumbnail(self, record: Mapping[str, Any]) -> Path:
        """A small WebP of the image, made once and kept in `.thumbs/`.

        Galleries show these: handing Gradio the full PNGs would make it hash and copy
        megabytes per refresh. Falls back to the PNG itself if the thumbnail can't be made.
        """
        source = self.path_of(record)
        thumb = self._thumb_path(record)
        if _non_empty(thumb):
            return thumb
        tmp = None
        try:
            thumb.parent.mkdir(exist_ok=True)
            with Image.open(source) as img:
                img.thumbnail(THUMB_SIZE)
                fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=".webp", dir=thumb.parent)
                with os.fdopen(fd, "wb") as fh:
                    img.convert("RGB").save(fh, "WEBP", quality=82, method=2)
            os.replace(tmp, thumb)
        except (OSError, ValueError, Image.DecompressionBombError):
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            return source
        return thumb

    def _thumb_path(self, record: Mapping[str, Any]) -> Path:
        return self.root / THUMBS_DIR / f"{_safe_id(record)}.webp"

    # -- the trash's part ----------------------------------------------------------------

    @property
    def trash_dir(self) -> Path:
        """Where `trash.Trash` keeps deleted images (a dot-folder: never indexed or served)."""
        return self.root / TRASH_DIR

    def own_file(self, record: Mapping[str, Any]) -> Path:
        """The record's file, if rewriting or moving it can only ever touch an image of ours.

        The index could be stale or edited: refuse anything outside the outputs folder,
        reached through a link, inside a dot-folder (trash, thumbnails) or not a PNG
        (the index file itself sits in the outputs folder). ValueError otherwise.
        """
        path = self.path_of(record)
        lexical = os.path.normpath(self.root / str(record["file"]))
        if os.path.normcase(path) != os.path.normcase(lexical):
            raise ValueError("record's file is reached through a symbolic link")
        relative = path.relative_to(self.root)
        if path.suffix.lower() != ".png" or any(p.startswith(".") for p in relative.parts):
            raise ValueError(f"record's file is not a saved image: {relative}")
        if path.exists() and not path.is_file():
            raise ValueError(f"record's file is not a regular file: {relative}")
        return path

    def drop_thumbnail(self, record: Mapping[str, Any]) -> None:
        self._thumb_path(record).unlink(missing_ok=True)


def _clear_leftovers(folder: Path) -> None:
    """What a crash leaves in the app's own dot-folders (thumbnails, trash): temporary
    files, and empty files (a thumbnail cut short; a name reserved for a move)."""
    for entry in _entries(folder):
        if entry.is_dir(follow_symlinks=False):
            _clear_leftovers(Path(entry.path))
        elif entry.is_file(follow_symlinks=False) and (
                entry.name.startswith(TMP_PREFIX) or entry.stat(follow_symlinks=False).st_size == 0):
            Path(entry.path).unlink(missing_ok=True)
            log.warning("Removed a leftover of an interrupted write: %s", entry.path)


def _non_empty(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except OSError:
        return False


def _parent(prefix: str) -> str:
    """`a/b/` -> `a/`, `a/` -> `` (folder prefixes as the index stores them)."""
    head, _, _ = prefix[:-1].rpartition("/")
    return f"{head}/" if head else ""


def _entries(folder: Path) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as it:
            return list(it)
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return []


def _write_exclusive(path: Path, data: bytes | list[bytes | memoryview]) -> None:
    """Create `path` (it must not exist) and write `data`: one open, one write."""
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    try:
        _write_all(fd, [data] if isinstance(data, bytes) else data)
    finally:
        os.close(fd)


def _write_all(fd: int, pieces: list[bytes | memoryview]) -> None:
    """One `writev` of all pieces; a short write (rare on a regular file) finishes in a loop."""
    written = os.writev(fd, pieces)
    if written < sum(len(p) for p in pieces):
        view = memoryview(b"".join(pieces))[written:]
        while view:
            view = view[os.write(fd, view):]


class _Unsupported(Exception):
    """The file system (or the OS) cannot give an unnamed file a name."""


def _link_unnamed(target: Path, pieces: list[bytes | memoryview]) -> bool:
    """Write `pieces` into an unnamed file in `target`'s folder, then link it to `target`.

    An `O_TMPFILE` file has no name until linked, so a crash leaves nothing behind, and
    the link refuses an existing name, atomically and across processes (False then).
    Cheaper than a named temporary file: no name to make up, no unlink afterwards.
    """
    try:
        fd = os.open(target.parent, os.O_TMPFILE | os.O_WRONLY, 0o644)
    except OSError as exc:
        if exc.errno in (errno.EISDIR, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL):
            raise _Unsupported from exc
        raise
    try:
        _write_all(fd, pieces)
        try:
            # linkat(AT_SYMLINK_FOLLOW) of /proc/self/fd/N names the open file. Python calls
            # linkat (plain link() would link the /proc symlink itself) only when given a
            # dir fd; the source path is absolute, so that fd is not used.
            os.link(f"/proc/self/fd/{fd}", target, src_dir_fd=fd)
        except FileExistsError:
            return False
        except OSError as exc:
            if exc.errno in _NO_HARD_LINKS or exc.errno == errno.ENOENT:  # no hard links, no /proc
                raise _Unsupported from exc
            raise
        return True
    finally:
        os.close(fd)


def claim_name(source: Path, target: Path) -> str | None:
    """Give `source`'s content the name `target` unless that name is taken.

    `os.link` fails with EEXIST instead of overwriting, atomically and across processes;
    `source` then still exists ("linked"). File systems without hard links reserve the
    name with O_EXCL and rename onto it; `source` is then gone ("renamed"). None if the
    name is taken; FileNotFoundError if `source` is gone.
    """
    try:
        os.link(source, target)
        return "linked"
    except FileExistsError:
        return None
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
    try:
        os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except FileExistsError:
        return None
    try:
        os.replace(source, target)
    except BaseException:
        target.unlink(missing_ok=True)  # the empty reservation
        raise
    return "renamed"


def record_in_file(path: Path) -> dict[str, Any] | None:
    """The record in a PNG file's chunks (our JSON, else A1111 infotext), or None."""
    try:
        with path.open("rb") as fh:
            head = fh.read(_HEAD_BYTES)
        record = metadata.read_record(head)
        if record is None and len(head) == _HEAD_BYTES:
            record = metadata.read_record(path.read_bytes())
    except OSError:
        return None
    return record


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
