"""The history browser: the `/history` API, search and filters, reuse, variation, delete."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import Any, Callable

import gradio as gr

from .. import i18n, provenance
from ..access import Access
from ..errors import AppError, render
from ..generator import RANDOM_SEED
from ..history import MAX_LIMIT, DistinctColumn, HistoryIndex
from ..query import QueryError
from ..record import form_values
from ..storage import Storage
from ..trash import Trash
from . import card, selection, status
from .common import caption, fail, language, refuse, user_of

PAGE_SIZE = 24
ALL = ""  # the filter value meaning "any"

@dataclass
class HistoryHandlers:
    storage: Storage
    index: HistoryIndex
    access: Access  # who sees and deletes what
    trash: Trash

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
            viewer = user_of(request)
            records = self.index.search(query, offset, limit, user=self.access.scope(viewer), viewer=viewer)
            return self.access.shown(records, viewer)
        except QueryError as exc:
            raise fail(render(exc, lang), lang) from None

    # -- browsing -----------------------------------------------------------------------

    def filters(self, request: gr.Request) -> tuple[gr.Dropdown, gr.Dropdown, gr.Dropdown, gr.Checkbox]:
        """Filter choices from what is actually in the history, "all" first.

        Sizes read as everywhere else ("768 × 512 · landscape"). The "mine only" switch
        and the user filter show only to a logged-in visitor who may see everyone's images.
        """
        lang = language(request)
        owner = self.access.scope(user_of(request))  # private mode: only their own values

        def choices(
            column: DistinctColumn, everything: str, name: Callable[[str], str] = lambda v: v
        ) -> list[tuple[str, str]]:
            return [(i18n.label(everything, lang), ALL)] + [(name(v), v) for v in self.index.distinct(column, owner)]

        models = choices("model", "all_models")
        sizes = choices("image_size", "all_sizes", lambda v: card.size_label(v, lang))
        users = choices("user", "all_users")
        sees_all = user_of(request) is not None and owner is None
        return (
            gr.Dropdown(choices=models),
            gr.Dropdown(choices=sizes),
            gr.Dropdown(choices=users, visible=sees_all),
            gr.Checkbox(visible=sees_all),
        )

    def page(
        self, query: str, model: str, size: str, mine: bool, by_user: str, page_no: float, tz: str | None,
        request: gr.Request,
    ) -> tuple[Any, ...]:
        """One page of thumbnails matching the search.

        Returns (gallery, ids, "page x of y", page, Newer, Older, no-matches note, clear
        button, the ids and marks as JSON for the page's picking script): Newer/Older are disabled at the ends; with nothing found, the note says
        so and offers to clear the filters. The gallery's selection is cleared: after a
        delete, the image moving into the deleted one's place must not look selected.
        """
        lang = language(request)
        owner = self.access.scope(user_of(request), bool(mine))
        users = [by_user] if by_user and owner is None else None
        filters: dict[str, Any] = {"model": model or None, "image_size": size or None, "users": users,
                                   "viewer": user_of(request)}
        try:
            total = self.index.count_matching(query or "", owner, **filters)
        except QueryError as exc:  # a malformed filter token: said where the results would be
            note = render(exc, lang)
            return (gr.Gallery(value=[], selected_index=None), [], "", 1, gr.Button(interactive=False),
                    gr.Button(interactive=False), gr.Markdown(note, visible=True), gr.Button(visible=True), "[]")
        pages = max(1, math.ceil(total / PAGE_SIZE))
        page_no = min(max(1, int(page_no or 1)), pages)
        records = self.access.shown(  # a teammate's stars are not drawn on their thumbnails (private mode)
            self.index.search(query or "", (page_no - 1) * PAGE_SIZE, PAGE_SIZE, owner, **filters), user_of(request))
        # The caption, shown on hover only (and the thumbnail's alt text): the prompt's start,
        # when, with which model, and its star and rating in words (a badge shows them at a glance).
        items = [(str(self.storage.thumbnail(r)),
                  " · ".join(part for part in (f'{caption(r, 60)}\n{card.local_time(r.get("created_at"), tz)}',
                                               str(r.get("model", "")), selection.marks(r, lang)[1]) if part))
                 for r in records]
        label = i18n.label("page_of", lang, page=page_no, pages=pages, total=total)
        filtered = bool((query or "").strip() or model or size or by_user)
        empty = total == 0
        note = (i18n.label("no_matches" if filtered else "no_images", lang)) if empty else ""
        return (gr.Gallery(value=items, selected_index=None), [r["id"] for r in records], label, page_no,
                gr.Button(interactive=page_no > 1), gr.Button(interactive=page_no < pages),
                gr.Markdown(note, visible=empty), gr.Button(visible=empty and filtered),
                selection.page_data(records, lang))

    @staticmethod
    def clear_filters() -> tuple[str, str, str, str, int]:
        """Search, model, size and user back to "all", page 1."""
        return "", ALL, ALL, ALL, 1

    @staticmethod
    def first_page() -> int:
        return 1

    @staticmethod
    def step(page_no: float, delta: int) -> int:
        return max(1, int(page_no or 1) + delta)

    def select(self, ids: list[str], tz: str | None, evt: gr.SelectData, request: gr.Request) -> Any:
        """Show the chosen image in full with its settings card and where it lives.

        Returns (*opened, status): the marks arrive with the image, in one answer, so a star
        clicked as soon as the picture shows is never undone by its marks arriving later.
        """
        index = evt.index if isinstance(evt.index, int) else -1
        record = self.index.get(ids[index]) if 0 <= index < len(ids) else None
        if record is None or not self.access.may_see(record, user_of(request)):
            return (*_nothing_opened(), "")
        return (*self._opened(record, tz, request), "")

    def _opened(self, record: dict[str, Any], tz: str | None, request: gr.Request) -> tuple[Any, ...]:
        """The side panel with `record` open: (image, record, card, where, selected id,
        *picture_controls), what the UI calls `opened`."""
        path = self.storage.path_of(record)
        lang = language(request)
        where = i18n.label("file_location", lang, file=str(path), folder=str(path.parent))
        where += "  \n" + provenance.describe(provenance.read_file(path), lang)
        shown = self.access.readable(record, user_of(request))
        return (str(path), shown, card.settings_card(shown, lang, tz), where, record["id"], *picture_controls(shown))

    # -- acting on the selected image -------------------------------------------------------

    def _selected(self, record_id: str | None, request: gr.Request) -> dict[str, Any]:
        record = self.index.get(record_id) if record_id else None
        if record is None or not self.access.may_see(record, user_of(request)):
            raise AppError("nothing_selected" if not record_id else "not_found")
        return record

    @staticmethod
    def _refused(error: AppError, lang: str) -> str:
        """A refusal in the History tab's status line, where it stays until the next action."""
        return status.failed(lang, render(error, lang))

    def reuse(self, record_id: str | None, request: gr.Request) -> Any:
        """Fill the Generate form with the selected image's settings, seed included.

        Returns (the form's fields…, tabs, History status); a refusal stays on the History tab."""
        try:
            record = self._selected(record_id, request)
        except AppError as exc:
            return (*[gr.skip()] * 5, gr.skip(), self._refused(exc, language(request)))
        return (*form_values(record), gr.Tabs(selected="generate"), "")

    def variation(self, record_id: str | None, request: gr.Request) -> Any:
        """The same settings with a new random seed, and a new value for the page's `again`
        state, which runs the one generation event (Stop, Recent and last seed included).

        Returns (the form's fields…, tabs, again, History status)."""
        try:
            record = self._selected(record_id, request)
        except AppError as exc:
            return (*[gr.skip()] * 5, gr.skip(), gr.skip(), self._refused(exc, language(request)))
        return (*form_values(record, seed=RANDOM_SEED), gr.Tabs(selected="generate"), uuid.uuid4().hex, "")

    @staticmethod
    def ask_delete(record_id: str | None) -> Any:
        return gr.Row(visible=bool(record_id))

    @staticmethod
    def cancel_delete() -> Any:
        return gr.Row(visible=False)

    def delete(self, record_id: str | None, request: gr.Request) -> Any:
        """Move the selected image to the trash; the status line offers Undo.

        Returns (confirm row, *opened, status, Undo button, path to undo).
        """
        lang = language(request)
        try:
            record = self._selected(record_id, request)
            trashed = self.trash.delete(record["id"], user_of(request))  # not theirs, or deleted meanwhile
        except AppError as exc:  # said in the status line; the selection stays as it was
            return (gr.Row(visible=False), *_unchanged(), self._refused(exc, lang), gr.Button(visible=False), None)
        note = status.plain(i18n.label("deleted", lang))
        return (gr.Row(visible=False), *_nothing_opened(), note, gr.Button(visible=True), self.storage.relative(trashed))

    def undo(self, trash_path: str | None, tz: str | None, request: gr.Request) -> Any:
        """Put the image just deleted back, open again: returns (*opened, status, Undo button,
        path to undo)."""
        lang = language(request)
        try:
            record = self._restore(trash_path, request)
        except AppError as exc:
            return (*_unchanged(), self._refused(exc, lang), gr.Button(visible=False), None)
        return (*self._opened(record, tz, request), status.plain(i18n.label("restored", lang)),
                gr.Button(visible=False), None)

    def _restore(self, trash_path: str | None, request: gr.Request) -> dict[str, Any]:
        """Raises AppError: nothing picked, or not in this visitor's trash (any more)."""
        if not trash_path:
            raise AppError("nothing_selected")
        return self.trash.restore(trash_path, user_of(request))

    # -- the trash view ---------------------------------------------------------------------

    def trash_view(self, tz: str | None, request: gr.Request) -> Any:
        """The visitor's trashed images (everyone's for the admin or without login).

        Returns (gallery of small previews, their paths, note, Restore, Empty trash). The
        previews are made here (the trash folder itself is never served).
        """
        lang = language(request)
        items = self.trash.items(user_of(request), limit=TRASH_SHOWN)
        previews = []
        shown = []
        for path, record in items:
            image = self.trash.preview(path)
            if image is not None:
                shown.append(path)
                previews.append((image, f'{caption(record, 40)}\n{card.local_time(record.get("created_at"), tz)}'))
        note = i18n.label("trash_count", lang, n=len(items)) if items else i18n.label("trash_empty", lang)
        return (gr.Gallery(value=previews, selected_index=None), shown, note,
                gr.Button(interactive=False), gr.Button(interactive=bool(items)))

    @staticmethod
    def trash_select(paths: list[str], evt: gr.SelectData) -> Any:
        """Remember the picked trashed image; Restore becomes possible."""
        index = evt.index if isinstance(evt.index, int) else -1
        chosen = paths[index] if 0 <= index < len(paths) else None
        return chosen, gr.Button(interactive=chosen is not None)

    def restore(self, trash_path: str | None, request: gr.Request) -> str:
        """Restore the picked trashed image; returns the status line (what went wrong, if anything)."""
        lang = language(request)
        try:
            self._restore(trash_path, request)
        except AppError as exc:
            return self._refused(exc, lang)
        return status.plain(i18n.label("restored", lang))

    def empty_trash(self, request: gr.Request) -> str:
        """Delete for good what this visitor may: their own trashed images (all for the admin)."""
        return status.plain(i18n.label("trash_emptied", language(request), n=self.trash.empty(user_of(request))))


TRASH_SHOWN = 60


def _nothing_opened() -> tuple[Any, ...]:
    """The side panel with no picture open (see `HistoryHandlers._opened`)."""
    return (None, None, "", "", None, *picture_controls(None))


def _unchanged() -> tuple[Any, ...]:
    """The side panel left as it is."""
    return (gr.skip(),) * len(_nothing_opened())


def picture_controls(record: dict[str, Any] | None) -> tuple[Any, ...]:
    """Reuse, Variation, Delete, the star, the rating, the board field and its two buttons: they
    act on the open picture, so they are usable only while one is open (with nothing open they
    looked ready and answered "Pick an image first"); the star and rating show its marks, and
    the board field is emptied when none is open."""
    on = record is not None
    marks = record or {}
    return (gr.Button(interactive=on), gr.Button(interactive=on), gr.Button(interactive=on),
            gr.Checkbox(value=bool(marks.get("starred")), interactive=on),
            gr.Radio(value=int(marks.get("rating") or 0), interactive=on),
            gr.Dropdown(interactive=True) if on else gr.Dropdown(value=None, interactive=False),  # no name left over
            gr.Button(interactive=on), gr.Button(interactive=on))
