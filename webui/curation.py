"""Curating saved images: stars, ratings, boards, bulk actions, trash, under the team's rules.

Framework-free like the generator: the page, the Gradio endpoints and scripts share it.
Every change lands twice: in the image's PNG (its `generation` record, rewritten text
chunks only, so a rebuilt index keeps the marks) and in the index (so a search sees
it at once). Who may see and change what is `Access`'s rule (`access.py`); deleting and
restoring are the trash's (`trash.py`). A board is private to its owner or shared with
the team; only its owner puts images on it, renames, shares or deletes it (its images
stay); `board:NAME` finds the viewer's own board of that name and the boards of that
name shared with them.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import sharepack
from .access import Access
from .errors import InvalidInputError
from .history import HistoryIndex
from .query import Query, parse_query
from .record import MAX_RATING, Record
from .storage import Storage
from .trash import Trash

log = logging.getLogger(__name__)

MAX_BOARD_NAME = 80
MAX_EXPORT = 1000


@dataclass
class Curator:
    """Marks, boards, bulk actions and share packs for one outputs folder."""

    storage: Storage
    index: HistoryIndex
    access: Access
    trash: Trash

    # -- who sees what ------------------------------------------------------------------

    def get(self, record_id: str, viewer: str | None) -> dict[str, Any]:
        """A record `viewer` may see; InvalidInputError("not_found") otherwise (theirs or not, same answer)."""
        record = self.index.get(str(record_id)) if record_id else None
        if record is None or not self.access.may_see(record, viewer):
            raise InvalidInputError("not_found")
        return record

    def choose(self, query: str | Query, record_ids: Sequence[str] | None, viewer: str | None,
               limit: int | None = None) -> list[str]:
        """What a bulk action applies to: `record_ids` if any (each must be visible), else
        every image the search finds (the whole filter, not a page), newest first."""
        if record_ids:
            chosen = list(dict.fromkeys(str(i) for i in record_ids))
            for record_id in chosen:
                self.get(record_id, viewer)
            return chosen[:limit] if limit is not None else chosen
        parsed = query if isinstance(query, Query) else parse_query(query or "")
        return self.index.search_ids(parsed, self.access.scope(viewer), viewer=viewer, limit=limit)

    def count(self, query: str | Query, viewer: str | None) -> int:
        """How many images `choose(query, [], viewer)` would find (a bulk action's reach)."""
        parsed = query if isinstance(query, Query) else parse_query(query or "")
        return self.index.count_matching(parsed, self.access.scope(viewer), viewer=viewer)

    # -- stars and ratings --------------------------------------------------------------

    def mark(self, record_ids: Sequence[str], viewer: str | None, *, starred: bool | None = None,
             rating: int | None = None) -> list[dict[str, Any]]:
        """Star/unstar and rate images; None leaves a mark as it is. Returns the records."""
        if rating is not None and (isinstance(rating, bool) or not isinstance(rating, int)
                                   or not 0 <= rating <= MAX_RATING):
            raise InvalidInputError("bad_rating")
        records = self._changeable(record_ids, viewer)
        return self._write([r.with_marks(starred=starred, rating=rating) for r in records], viewer)

    # -- boards -------------------------------------------------------------------------

    def board(self, record_ids: Sequence[str], viewer: str | None, *, add: Iterable[str] = (),
              remove: Iterable[str] = (), shared: bool | None = None) -> list[dict[str, Any]]:
        """Put images on the viewer's boards (a board is made on first use) and take them off.

        A name is always the viewer's own board: a teammate's board of the same name, shared
        or not, is never changed (boards belong to their owner; names are unique per owner).
        A new board is private in private mode and shared otherwise, unless `shared` says.
        """
        add_names, remove_names = _names(add), _names(remove)
        records = self._changeable(record_ids, viewer)
        index = self.index
        ids = [r.id for r in records]
        made_shared = (not self.access.private) if shared is None else shared
        for name in add_names:
            index.link(index.make_board(viewer, name, made_shared), ids, add=True)
        for name in remove_names:
            board = index.own_board(viewer, name)
            if board is not None:
                index.link(board, ids, add=False)
        return self._rewrite_boards(ids, viewer)

    def boards(self, viewer: str | None) -> list[dict[str, Any]]:
        """The boards `viewer` may see: name, shared, mine, images."""
        return self.index.boards(viewer)

    def edit_board(self, name: str, viewer: str | None, *, rename: str | None = None,
                   shared: bool | None = None) -> dict[str, Any]:
        """Rename a board and/or share it with the team (or make it private again)."""
        board, images = self._owned_board(name, viewer)
        new_name = _names([rename])[0] if rename else None
        try:
            self.index.edit_board(board, name=new_name, shared=shared)
        except sqlite3.IntegrityError:
            raise InvalidInputError("board_name_taken", name=new_name) from None
        if new_name is not None:
            self._rewrite_boards(images, viewer)
        wanted = (new_name or name).casefold()
        return next(b for b in self.boards(viewer) if b["name"].casefold() == wanted and b["mine"])

    def delete_board(self, name: str, viewer: str | None) -> None:
        """Delete a board; its images stay where they are."""
        board, images = self._owned_board(name, viewer)
        self.index.drop_board(board)
        self._rewrite_boards(images, viewer)

    def _owned_board(self, name: str, viewer: str | None) -> tuple[int, list[str]]:
        found = self.index.find_board(viewer, str(name or "").strip())
        if found is None:
            raise InvalidInputError("board_not_found", name=name)
        board, mine = found
        if not mine:
            raise InvalidInputError("board_not_yours", name=name)
        return board, self.index.board_images(board)

    # -- share packs ----------------------------------------------------------------------

    def export(self, query: str | Query, record_ids: Sequence[str] | None, viewer: str | None,
               stamp: Callable[[bytes], bytes] | None = None) -> Path:
        """A share pack (see `sharepack`) of the chosen images, at most MAX_EXPORT of them."""
        ids = self.choose(query, record_ids, viewer, limit=MAX_EXPORT)
        if not ids:
            raise InvalidInputError("nothing_chosen")

        def entries() -> Iterator[sharepack.Entry]:
            for record_id in ids:
                record = self.index.get(record_id)
                if record is not None:
                    handed = self.access.handed(record, viewer)
                    shown = self.access.readable(record, viewer) if handed is None else handed
                    yield sharepack.Entry(shown, self.storage.path_of(record), rewrite=handed is not None)

        try:
            return sharepack.write_pack(entries(), stamp=stamp)
        except OSError as exc:
            raise InvalidInputError("export_failed", detail=exc.strerror or type(exc).__name__) from exc

    # -- the trash ----------------------------------------------------------------------

    def delete(self, record_ids: Sequence[str], viewer: str | None) -> int:
        """Move images to the trash: all of them, or none if any is not `viewer`'s to delete."""
        records = [self.get(record_id, viewer) for record_id in dict.fromkeys(str(i) for i in record_ids)]
        if not all(self.access.may_delete(record, viewer) for record in records):
            raise InvalidInputError("not_yours")  # before any is moved: all or none
        for record in records:
            self.trash.delete(record["id"], viewer)
        return len(records)

    def restore(self, record_id: str, viewer: str | None) -> dict[str, Any]:
        """Bring a trashed image back by its record id (its owner or the admin)."""
        return self.access.readable(self.trash.restore(self.trash.find(str(record_id or ""), viewer), viewer), viewer)

    def trashed(self, viewer: str | None) -> list[dict[str, Any]]:
        """The trashed records `viewer` could restore, newest first."""
        found = [record for _, record in self.trash.items(viewer, limit=None) if "id" in record]
        return sorted(found, key=lambda r: str(r.get("created_at", "")), reverse=True)

    # -- writing changes ------------------------------------------------------------------

    def _changeable(self, record_ids: Sequence[str], viewer: str | None) -> list[Record]:
        records = []
        for record_id in dict.fromkeys(str(i) for i in record_ids or ()):
            record = self.get(record_id, viewer)
            if not self.access.may_change(record, viewer):
                raise InvalidInputError("not_found")
            records.append(Record.from_mapping(record))
        if not records:
            raise InvalidInputError("nothing_chosen")
        return records

    def _rewrite_boards(self, ids: Sequence[str], viewer: str | None) -> list[dict[str, Any]]:
        names = self.index.board_names(list(ids))
        records = []
        for record_id in ids:
            record = self.index.get(record_id)
            if record is not None:
                records.append(Record.from_mapping(record).with_marks(boards=names[record_id]))
        return self._write(records, viewer)

    def _write(self, records: list[Record], viewer: str | None) -> list[dict[str, Any]]:
        """Each record into its PNG, then the index; an image whose file is gone is skipped."""
        written = []
        for record in records:
            try:
                self.storage.rewrite(record)
            except (FileNotFoundError, ValueError) as exc:
                log.warning("Marks of %s not written to its file (%s).", record.id, type(exc).__name__)
                continue
            written.append(record)
        self.index.update(written)
        return [self.access.readable(r.to_dict(), viewer) for r in written]


def board_name(value: Any) -> str:
    """A board's name as it is kept and said: runs of spaces made one, none at either end."""
    return " ".join(str(value).split()) if value is not None else ""


def _names(values: Iterable[Any]) -> list[str]:
    """Board names from a list (or one string); InvalidInputError for an empty or overlong one."""
    if isinstance(values, str):
        values = [values]
    names = []
    for value in values or ():
        name = board_name(value)
        if not 1 <= len(name) <= MAX_BOARD_NAME:
            raise InvalidInputError("bad_board_name")
        names.append(name)
    return list(dict.fromkeys(names))
