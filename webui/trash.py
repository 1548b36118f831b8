"""The trash: deleting moves an image to `outputs/.trash/`, from where it can come back.

One class for the History tab's Delete, Undo and Trash view and for the `/delete`,
`/restore` and `/trash` endpoints, under `Access`'s rule: an image's owner or the admin
(anyone when nobody logs in) deletes it, restores it or empties it from the trash.

The trash keeps each image's path relative to the outputs folder (`.trash/<day>/<name>`),
with `~N` added before `.png` if that name is taken, so nothing in it is ever
overwritten; like every dot-folder it is never indexed or served. Restoring puts the
image back where it was (a free `~N` name if that one is taken now) and indexes it again.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PIL import Image

from .access import Access
from .errors import InvalidInputError
from .history import HistoryIndex
from .storage import Storage, claim_name, record_in_file

log = logging.getLogger(__name__)

_COPY_SUFFIX = re.compile(r"~\d+(?=\.png$)")  # `name~2.png`: a second file that wanted `name.png`
SHOWN = 200  # trashed images listed at most (the newest deletions)
PREVIEW_SIZE = (256, 256)

Trashed = tuple[str, dict[str, Any]]  # (path relative to the outputs folder, the image's record)


class Trash:
    """Moving images of `store` to its trash, listing, restoring and emptying, for a viewer."""

    def __init__(self, store: Storage, index: HistoryIndex, access: Access) -> None:
        self.store, self.index, self.access = store, index, access

    def delete(self, record_id: str, viewer: str | None = None) -> Path:
        """Move an image to the trash, drop its thumbnail and row; return its trash path.

        If the file was already gone, the row is still dropped and the returned path
        (where it would have gone) may not exist. InvalidInputError "not_found" for an
        id `viewer` can't see or whose row points at anything but an image of ours
        (see `Storage.own_file`), "not_yours" for an image they may not delete.
        """
        record = self.index.get(str(record_id or ""))
        if record is None or not self.access.may_see(record, viewer):
            raise InvalidInputError("not_found")
        if not self.access.may_delete(record, viewer):
            raise InvalidInputError("not_yours")
        try:
            source = self.store.own_file(record)
        except ValueError:  # a row that points nowhere sane
            raise InvalidInputError("not_found") from None
        wanted = self.store.trash_dir / source.relative_to(self.store.root)
        with self.store.file_lock:
            trashed = _move_unique(source, wanted)  # the file first: a crash leaves a row the next start drops
        self.index.remove(record["id"])
        self.store.drop_thumbnail(record)
        return trashed or wanted

    def items(self, viewer: str | None = None, limit: int | None = SHOWN) -> list[Trashed]:
        """The trashed images `viewer` may restore, newest deletion first (at most `limit`;
        None: all). Unreadable files are left out."""
        owner = self.access.deleter_scope(viewer)
        found = []
        for path in self._files():
            record = record_in_file(path)
            if record is None or (owner is not None and record.get("user") != owner):
                continue
            found.append((self.store.relative(path), record))
            if limit is not None and len(found) >= limit:
                break
        return found

    def find(self, record_id: str, viewer: str | None = None) -> str | None:
        """The trash path of the image with this record id, if `viewer` may restore it."""
        return next((path for path, record in self.items(viewer, limit=None)
                     if record_id and str(record.get("id")) == record_id), None)

    def restore(self, trash_path: str | Path | None, viewer: str | None = None) -> dict[str, Any]:
        """Move a trashed PNG back where it was and index it again; return its record.

        The original place is its path inside the trash (a `~N` suffix dropped); if
        that name is taken now, `~N` picks a free one in the same folder. The record
        comes from the file's chunks, with `file` set to where it landed. A relative
        `trash_path` is taken from the outputs folder. InvalidInputError "not_found" for
        a path outside the trash, not a PNG with a record, gone, or not `viewer`'s to restore.
        """
        source = self._resolve(trash_path)
        record = record_in_file(source)
        if record is None or not self.access.may_delete(record, viewer):
            raise InvalidInputError("not_found")
        relative = source.relative_to(self.store.trash_dir.resolve())
        wanted = self.store.root / relative.parent / _COPY_SUFFIX.sub("", relative.name)
        placed = _move_unique(source, wanted)
        if placed is None:  # another thread or process restored it first
            raise InvalidInputError("not_found")
        record = self.store.placed(record, placed)
        try:
            self.index.add(record)
        except Exception:  # the file is back; the next start indexes it
            log.exception("Image restored as %s but not indexed yet; it will be on restart.", placed)
        return record

    def empty(self, viewer: str | None = None) -> int:
        """Delete for good what `viewer` may: their own trashed images (all for the admin)."""
        count = 0
        for path, _ in self.items(viewer, limit=None):
            try:
                self._resolve(path).unlink(missing_ok=True)
                count += 1
            except (OSError, InvalidInputError):
                log.warning("Could not purge %s from the trash", path)
        return count

    def preview(self, trash_path: str, size: tuple[int, int] = PREVIEW_SIZE) -> Any:
        """A small in-memory RGB preview of a trashed image (None if unreadable).

        The Trash view shows these: the trash folder itself is never served."""
        try:
            with Image.open(self._resolve(trash_path)) as image:
                image.thumbnail(size)
                return image.convert("RGB")
        except (OSError, ValueError, InvalidInputError, Image.DecompressionBombError):
            return None

    def _files(self) -> list[Path]:
        """The PNGs in the trash, newest deletion first. The trash is small: a walk is fine."""
        trash = self.store.trash_dir
        if not trash.is_dir():
            return []
        files = [p for p in trash.rglob("*.png") if p.is_file()
                 and not any(part.startswith(".") for part in p.relative_to(trash).parts)]
        return sorted(files, key=_mtime, reverse=True)

    def _resolve(self, trash_path: str | Path | None) -> Path:
        """The resolved path of an image inside the trash, or InvalidInputError "not_found"."""
        trash = self.store.trash_dir.resolve()
        if not trash_path:
            raise InvalidInputError("not_found")
        path = (self.store.root / trash_path).resolve()  # `..` and links are gone after this
        if path == trash or not path.is_relative_to(trash):
            raise InvalidInputError("not_found")
        relative = path.relative_to(trash)
        if path.suffix.lower() != ".png" or any(p.startswith(".") for p in relative.parts) or not path.is_file():
            raise InvalidInputError("not_found")
        return path


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # restored or purged meanwhile: last
        return 0.0


def _numbered(wanted: Path, limit: int = 100_000) -> Iterator[Path]:
    """`wanted`, then `name~1.png`, `name~2.png`...: the names a move may take."""
    yield wanted
    for n in range(1, limit):
        yield wanted.with_name(f"{wanted.stem}~{n}{wanted.suffix}")
    raise FileExistsError(f"{wanted}: no free name left")


def _move_unique(source: Path, wanted: Path) -> Path | None:
    """Move `source` to the first free name of `_numbered(wanted)`; never replaces a file.

    Returns None if `source` is gone, e.g. another thread or process moved it first.
    """
    if not os.path.lexists(source):
        return None
    wanted.parent.mkdir(parents=True, exist_ok=True)
    for target in _numbered(wanted):
        try:
            how = claim_name(source, target)
        except FileNotFoundError:
            return None
        if how is None:
            continue
        if how == "linked":
            try:
                source.unlink()  # completes the move
            except FileNotFoundError:  # a concurrent mover won: its copy stays, ours goes
                target.unlink(missing_ok=True)
                return None
        return target
    return None
