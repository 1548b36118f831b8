"""Who may see and act on which image: the team's rules, in one place.

The History tab, the curating endpoints, the trash, the REST API and the file routes
all ask this object, so a rule changes here or nowhere:

* seeing: without private mode everyone sees everything; in private mode a person sees
  their own images, the admin sees all, and a teammate's image shows where it was put
  on a board shared with the team;
* changing (star, rate, board) an image: whoever sees it, except that in private mode only
  its owner (or the admin) changes it;
* deleting, and restoring or purging from the trash: its owner, or the admin (and anyone
  when nobody logs in);
* a file route, in private mode, serves no image to a request without a login;
* a file of an image goes as saved to its owner only: anyone else receives the same
  pixels with the record as they may read it in its chunks (`handed`), so no copy
  carries the owner's private curation (boards only the owner sees; in private mode
  also the stars, the rating and the owner's name).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .history import HistoryIndex

Record = Mapping[str, Any]


# What a teammate reads of an image that is not theirs, in private mode: no owner, no marks.
TEAMMATE_SEES: dict[str, Any] = {"user": None, "starred": False, "rating": 0}


def _never_admin(name: str | None) -> bool:
    return False


@dataclass(frozen=True)
class Access:
    """The rules for one outputs folder; `index` knows which images are on shared boards."""

    index: HistoryIndex
    private: bool = False  # each user sees only their own images (the admin sees all)
    is_admin: Callable[[str | None], bool] = _never_admin

    def scope(self, viewer: str | None, mine: bool = False) -> str | None:
        """The one owner whose images `viewer` browses, or None for everyone's.

        `mine` is the History tab's "mine only" switch (it means nothing without a login).
        """
        if viewer is None:
            return None
        if mine or (self.private and not self.is_admin(viewer)):
            return viewer
        return None

    def may_see(self, record: Record, viewer: str | None) -> bool:
        owner = self.scope(viewer)
        return owner is None or record.get("user") == owner or self.index.on_shared_board(str(record.get("id")))

    def may_change(self, record: Record, viewer: str | None) -> bool:
        owner = self.scope(viewer)
        return owner is None or record.get("user") == owner

    def deleter_scope(self, viewer: str | None) -> str | None:
        """The one owner whose images `viewer` may delete, restore or purge; None for anyone's."""
        return None if viewer is None or self.is_admin(viewer) else viewer

    def may_delete(self, record: Record, viewer: str | None) -> bool:
        owner = self.deleter_scope(viewer)
        return owner is None or record.get("user") == owner

    def may_fetch(self, record: Record, user: str | None) -> bool:
        """The file routes' rule: `may_see`, but in private mode nothing without a login."""
        if self.private and user is None:
            return False
        return self.may_see(record, user)

    def readable(self, record: Record, viewer: str | None) -> dict[str, Any]:
        """One record as `viewer` may read it: only the boards they may see; in private mode
        no teammate's name or marks (an image of a board shared with them)."""
        return self.shown(self.index.for_viewer([dict(record)], viewer), viewer)[0]

    def shown(self, records: list[dict[str, Any]], viewer: str | None) -> list[dict[str, Any]]:
        """Records as `viewer` may read them: in private mode, no teammate's name, star or rating
        (the owner's own curation; only the owner can set them there)."""
        owner = self.scope(viewer)
        if owner is None:
            return records
        return [r if r.get("user") == owner else {**r, **TEAMMATE_SEES} for r in records]

    def handed(self, record: Record, viewer: str | None) -> dict[str, Any] | None:
        """The record a copy of this image's file carries when it goes to `viewer`: None when
        the file goes byte for byte as saved (to its owner; to anyone when nobody logs in),
        else the record as `viewer` may read it (see `readable`)."""
        if viewer == (record.get("user") or None):
            return None
        return self.readable(record, viewer)
