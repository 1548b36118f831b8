"""The history browser: the `/history` API, search and filters, reuse, variation, delete."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import gradio as gr

from .. import i18n, provenance
from ..errors import render
from ..generator import RANDOM_SEED
from ..history import MAX_LIMIT, DistinctColumn
from ..query import QueryError
from ..record import form_values
from ..storage import Storage
from .common import caption, fail, language, refuse, user_of

PAGE_SIZE = 24
ALL = ""  # the filter value meaning "any"

@dataclass
class HistoryHandlers:
    storage: Storage
    private: bool = False  # each user sees only their own images (admins see all)
    is_admin: Callable[[str | None], bool] = lambda name: False  # noqa: E731 (set per instance)

    # -- the API ----------------------------------------------------------------------

    def history(self, query: str = "", offset: int = 0, limit: int = 50, request: gr.Request = None) -> list[dict[str, Any]]:
        """Saved image records, newest first.

        Args:
            query: case-insensitive text to find in the prompt, with optional filter tokens (is:starred, rating:>=4, board:NAME or board:"two words", model:NAME, size:WxH, user:NAME, seed:N, after:YYYY-MM-DD, before:YYYY-MM-DD; a leading - excludes); "" for all images.
            offset: how many of the newest records to skip (0 or more).
            limit: how many records to return (1-500).
        Returns:
            Records with id, prompt, model, image_size, prompt_enhancement, seed, inference, file, created_at, user, starred, rating, boards.
        """
        lang = language(request)
        try:
            offset, limit = int(offset), int(limit)
        except (TypeError, ValueError):
            raise refuse("bad_history_query", lang) from None
        if offset < 0 or not 1 <= limit <= MAX_LIMIT:
            raise refuse("bad_history_query", lang)
        query = query if isinstance(query, str) else ""
        try:
            records = self.storage.history(query, offset, limit, user=self._visible_owner(request, mine=False),
                                           viewer=user_of(request))
            return self._shown(records, request)
        except QueryError as exc:
            raise fail(render(exc, lang), lang) from None

    def _visible_owner(self, request: gr.Request | None, mine: bool) -> str | None:
        """Whose images a visitor may see: None for everyone's, else exactly theirs."""
        user = user_of(request)
        if user is None:
            return None
        if mine or (self.private and not self.is_admin(user)):
            return user
        return None

    def may_see(self, record: dict[str, Any], request: gr.Request | None) -> bool:
        """Private mode: one's own images, and teammates' where they are on a shared board."""
        owner = self._visible_owner(request, mine=False)
        return (owner is None or record.get("user") == owner
                or self.storage.index.on_shared_board(str(record.get("id"))))

    def _shown(self, records: list[dict[str, Any]], request: gr.Request | None) -> list[dict[str, Any]]:
        """Records as the visitor may read them: in private mode, no teammate's name."""
        owner = self._visible_owner(request, mine=False)
        if owner is None:
            return records
        return [r if r.get("user") == owner else {**r, "user": None} for r in records]

    # -- browsing -----------------------------------------------------------------------

    def filters(self, request: gr.Request) -> tuple[gr.Dropdown, gr.Dropdown, gr.Dropdown, gr.Checkbox]:
        """Filter choices from what is actually in the history, "all" first.

        The "mine only" switch and the user filter show only to a logged-in visitor who
        may see everyone's images.
        """
        lang = language(request)
        owner = self._visible_owner(request, mine=False)  # private mode: only their own values

        def choices(column: DistinctColumn, everything: str) -> list[tuple[str, str]]:
            return [(i18n.label(everything, lang), ALL)] + [(v, v) for v in self.storage.distinct(column, owner)]

        models, sizes = choices("model", "all_models"), choices("image_size", "all_sizes")
        users = choices("user", "all_users")
        sees_all = user_of(request) is not None and owner is None
        return (
            gr.Dropdown(choices=models),
            gr.Dropdown(choices=sizes),
            gr.Dropdown(choices=users, visible=sees_all),
            gr.Checkbox(visible=sees_all),
        )

    def page(
        self, query: str, model: str, size: str, mine: bool, by_user: str, page_no: float, request: gr.Request
    ) -> tuple[gr.Gallery, list[str], str, int]:
        """One page of thumbnails matching the search; returns (gallery, ids, "page x of y", page).

        The gallery's selection is cleared: after a delete, the image moving into the
        deleted one's place must not look selected.
        """
        lang = language(request)
        owner = self._visible_owner(request, bool(mine))
        users = [by_user] if by_user and owner is None else None
        filters = {"model": model or None, "image_size": size or None, "users": users, "viewer": user_of(request)}
        try:
            total = self.storage.count_matching(query or "", owner, **filters)
        except QueryError as exc:
            raise fail(render(exc, lang), lang) from None
        pages = max(1, math.ceil(total / PAGE_SIZE))
        page_no = min(max(1, int(page_no or 1)), pages)
        records = self.storage.history(query or "", (page_no - 1) * PAGE_SIZE, PAGE_SIZE, owner, **filters)
        items = [(str(self.storage.thumbnail(r)), caption(r, 60)) for r in records]
        label = i18n.label("page_of", lang, page=page_no, pages=pages, total=total)
        return gr.Gallery(value=items, selected_index=None), [r["id"] for r in records], label, page_no

    @staticmethod
    def first_page() -> int:
        return 1

    @staticmethod
    def step(page_no: float, delta: int) -> int:
        return max(1, int(page_no or 1) + delta)

    def select(self, ids: list[str], evt: gr.SelectData, request: gr.Request) -> Any:
        """Show the chosen image in full with all its settings and where it lives."""
        index = evt.index if isinstance(evt.index, int) else -1
        record = self.storage.get(ids[index]) if 0 <= index < len(ids) else None
        if record is None or not self.may_see(record, request):
            return None, None, "", None
        path = self.storage.path_of(record)
        lang = language(request)
        where = i18n.label("file_location", lang, file=str(path), folder=str(path.parent))
        where += "  \n" + provenance.describe(provenance.read_file(path), lang)
        shown = self._shown(self.storage.index.for_viewer([record], user_of(request)), request)[0]
        return str(path), shown, where, record["id"]

    # -- acting on the selected image -------------------------------------------------------

    def _selected(self, record_id: str | None, request: gr.Request) -> dict[str, Any]:
        record = self.storage.get(record_id) if record_id else None
        if record is None or not self.may_see(record, request):
            lang = language(request)
            raise refuse("not_found", lang)
        return record

    def reuse(self, record_id: str | None, request: gr.Request) -> Any:
        """Fill the Generate form with the selected image's settings, seed included."""
        return (*form_values(self._selected(record_id, request)), gr.Tabs(selected="generate"))

    def variation(self, record_id: str | None, request: gr.Request) -> Any:
        """The same settings with a new random seed (the caller then generates)."""
        return (*form_values(self._selected(record_id, request), seed=RANDOM_SEED), gr.Tabs(selected="generate"))

    @staticmethod
    def ask_delete(record_id: str | None) -> Any:
        return gr.Row(visible=bool(record_id))

    @staticmethod
    def cancel_delete() -> Any:
        return gr.Row(visible=False)

    def delete(self, record_id: str | None, request: gr.Request) -> Any:
        """Move the selected image to `outputs/.trash/` (restorable) and forget it."""
        record = self._selected(record_id, request)
        user = user_of(request)
        if user is not None and record.get("user") != user and not self.is_admin(user):
            lang = language(request)
            raise refuse("not_yours", lang)
        lang = language(request)
        try:
            trashed = self.storage.delete(record["id"])
        except (KeyError, ValueError):  # deleted meanwhile by someone else, or a bad row
            raise refuse("not_found", lang) from None
        gr.Info(i18n.label("deleted", lang, path=str(trashed)))
        return gr.Row(visible=False), None, None, "", None
