"""The curating endpoints: marks, boards, bulk actions, trash, share packs, saved searches,
plus `/batch`, `/compare` and `/png_info` for scripts.

Each is a named Gradio endpoint (an MCP tool with `--mcp`) whose docstring documents its
parameters. The rules (who sees, changes, deletes what) live in `curation.Curator`;
this edge only names the visitor and turns typed errors into a `gr.Error` in their language.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import gradio as gr

from .. import i18n, provenance
from ..curation import Curator, board_name
from ..errors import AppError, InvalidInputError, render
from ..generator import Generator, batch_params, compare_params, validate
from . import selection, status
from .common import fail, language, user_of
from .pnginfo import PngInfoHandlers
from .selection import Choices, dock_count, filter_query, picks_bar, read_picked

log = logging.getLogger(__name__)

CHIPS_PER_KIND = 500  # boards, models, sizes or users offered as chips (many fold into one menu chip)


@contextmanager
def _spoken(request: gr.Request | None) -> Iterator[None]:
    """Typed errors become a toast in the visitor's language; bugs say "internal error"."""
    try:
        yield
    except gr.Error:
        raise
    except Exception as exc:  # AppError, or a bug of ours (render logs its traceback)
        lang = language(request)
        raise fail(render(exc, lang), lang) from None


def _one(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The one changed record; none means its file went away meanwhile."""
    if not records:
        raise InvalidInputError("not_found")
    return records[0]


@dataclass
class CurationHandlers:
    curator: Curator
    generator: Generator
    pnginfo: PngInfoHandlers
    visible_label: bool = False  # share packs carry stamped copies unless the caller says otherwise

    # -- stars, ratings, boards -----------------------------------------------------------

    def mark(self, record_id: str, starred: bool | None = None, rating: int | None = None,
             request: gr.Request = None) -> dict[str, Any]:
        """Star or unstar an image and give it a rating; the marks are also written into the PNG.

        Args:
            record_id: the image's record id (from /history or /generate).
            starred: true to star, false to unstar, null to leave as it is.
            rating: 0 (none) to 5, or null to leave as it is.
        Returns:
            The image's record with its new marks.
        """
        with _spoken(request):
            return _one(self.curator.mark([record_id], user_of(request), starred=starred, rating=rating))

    def board(self, record_ids: list[str], add: list[str] | None = None, remove: list[str] | None = None,
              request: gr.Request = None) -> list[dict[str, Any]]:
        """Put images on boards and take them off others; a board is made on first use.

        Args:
            record_ids: the images' record ids.
            add: names of your boards to put the images on (a teammate's board of the same name is never touched; new boards are private in private mode, shared otherwise).
            remove: names of your boards to take the images off (the images stay in history).
        Returns:
            The images' records, each listing the boards you can see it on.
        """
        with _spoken(request):
            return self.curator.board(record_ids or [], user_of(request), add=add or [], remove=remove or [])

    def boards(self, request: gr.Request = None) -> list[dict[str, Any]]:
        """The boards you can see: your own and the ones shared with the team.

        Returns:
            One entry per board: name, shared (bool), mine (bool), images (count).
        """
        with _spoken(request):
            return self.curator.boards(user_of(request))

    def board_edit(self, name: str, rename: str | None = None, shared: bool | None = None,
                   request: gr.Request = None) -> dict[str, Any]:
        """Rename one of your boards, or share it with the team (or make it private again).

        Args:
            name: the board's current name.
            rename: a new name, or null to keep it.
            shared: true to share with the team, false for private, null to leave as it is.
        Returns:
            The board: name, shared, mine, images.
        """
        with _spoken(request):
            return self.curator.edit_board(name, user_of(request), rename=rename or None, shared=shared)

    def board_delete(self, name: str, request: gr.Request = None) -> None:
        """Delete one of your boards; its images stay in history.

        Args:
            name: the board's name.
        """
        with _spoken(request):
            self.curator.delete_board(name, user_of(request))

    # -- bulk actions and share packs -----------------------------------------------------

    def bulk(self, query: str = "", record_ids: list[str] | None = None, starred: bool | None = None,
             rating: int | None = None, add: list[str] | None = None, remove: list[str] | None = None,
             trash: bool = False, request: gr.Request = None) -> dict[str, int]:
        """Apply one change to many images: the listed ones, or every image a search finds.

        Args:
            query: a /history search (free text and tokens such as is:starred or board:NAME); used when record_ids is empty, and applies to every match, not one page.
            record_ids: these images instead of a search.
            starred: star (true) or unstar (false); null leaves stars alone.
            rating: 0-5; null leaves ratings alone.
            add: board names to put the images on.
            remove: board names to take the images off.
            trash: true to move the images to the trash (only your own, or any as admin).
        Returns:
            {"count": how many images the change applied to}.
        """
        with _spoken(request):
            return {"count": self._apply(query, record_ids, user_of(request), starred=starred, rating=rating,
                                         add=add, remove=remove, trash=trash)}

    def _apply(self, query: str, record_ids: list[str] | None, viewer: str | None, *, starred: bool | None = None,
               rating: int | None = None, add: list[str] | None = None, remove: list[str] | None = None,
               trash: bool = False) -> int:
        """`bulk`'s work, raising typed errors: how many images the change applied to."""
        ids = self.curator.choose(query or "", record_ids or [], viewer)
        if not ids:
            raise InvalidInputError("nothing_chosen")
        if trash:
            return self.curator.delete(ids, viewer)
        done = ids
        if starred is not None or rating is not None:
            done = [r["id"] for r in self.curator.mark(ids, viewer, starred=starred, rating=rating)]
        if add or remove:
            done = [r["id"] for r in self.curator.board(ids, viewer, add=add or [], remove=remove or [])]
        return len(done)

    def export(self, query: str = "", record_ids: list[str] | None = None, visible_label: bool | None = None,
               request: gr.Request = None) -> str:
        """A share pack: a ZIP of the chosen images with their settings and a printable contact sheet.

        Args:
            query: a /history search; used when record_ids is empty (at most 1,000 images, newest first).
            record_ids: these images instead of a search.
            visible_label: also add copies stamped "AI生成 / AI-generated" under labelled/ (null: the app's --visible-label setting).
        Returns:
            The ZIP: images/ (the PNGs byte for byte), metadata.json, metadata.csv, index.html.
        """
        with _spoken(request):
            return self._pack(query or "", record_ids or [], user_of(request), visible_label)

    def _pack(self, query: str, record_ids: list[str], viewer: str | None, visible_label: bool | None = None) -> str:
        """A share pack's path, for every door that makes one (the API, History's export and
        bulk export); `visible_label` None follows the app's --visible-label setting."""
        stamp = self.visible_label if visible_label is None else bool(visible_label)
        return str(self.curator.export(query, record_ids, viewer, stamp=provenance.stamp_visible_label if stamp else None))

    # -- trash ----------------------------------------------------------------------------

    def delete(self, record_id: str, request: gr.Request = None) -> None:
        """Move an image to the trash (outputs/.trash); /restore brings it back.

        Args:
            record_id: the image's record id; only its owner (or the admin) may delete it.
        """
        with _spoken(request):
            self.curator.delete([record_id], user_of(request))

    def restore(self, record_id: str, request: gr.Request = None) -> dict[str, Any]:
        """Bring a deleted image back from the trash into history, with its file.

        Args:
            record_id: the deleted image's record id.
        Returns:
            The image's record (its file may have a ~N suffix if the old name was taken).
        """
        with _spoken(request):
            return self.curator.restore(record_id, user_of(request))

    def trash(self, request: gr.Request = None) -> list[dict[str, Any]]:
        """The deleted images you could restore, newest first.

        Returns:
            Their records.
        """
        with _spoken(request):
            return self.curator.trashed(user_of(request))

    # -- saved searches -------------------------------------------------------------------

    def searches(self, request: gr.Request = None) -> list[dict[str, str]]:
        """Your saved searches.

        Returns:
            One entry per search: name, query.
        """
        return self.curator.index.saved_searches(user_of(request))

    def search_save(self, name: str, query: str, request: gr.Request = None) -> list[dict[str, str]]:
        """Save a search under a name (replacing one of the same name).

        Args:
            name: what to call it (1-80 characters).
            query: the /history search to keep; it is checked now.
        Returns:
            Your saved searches.
        """
        viewer = user_of(request)
        with _spoken(request):
            name = " ".join(str(name or "").split())
            if not 1 <= len(name) <= 80:
                raise InvalidInputError("bad_search_name")
            self.curator.choose(query or "", [], viewer, limit=0)  # a malformed token fails here
            self.curator.index.save_search(viewer, name, query or "")
        return self.searches(request)

    def search_delete(self, name: str, request: gr.Request = None) -> list[dict[str, str]]:
        """Forget a saved search.

        Args:
            name: its name.
        Returns:
            Your saved searches.
        """
        self.curator.index.delete_search(user_of(request), str(name or ""))
        return self.searches(request)

    # -- generating for scripts -------------------------------------------------------------

    def batch(self, prompt: str, model: str, image_size: str, prompt_enhancement: bool, seed: int | None,
              count: int, random_each: bool = False, request: gr.Request = None) -> list[list[Any]]:
        """Several images of one prompt: seeds seed, seed+1, ... (or a random seed each).

        Args:
            prompt: what the pictures should show.
            model: model name.
            image_size: one of 1024x1024, 512x1024, 768x512, 768x1024, 1024x576, 576x1024.
            prompt_enhancement: let the service enrich the prompt.
            seed: the first seed; -1 or null for a random one.
            count: how many images (1-8).
            random_each: a new random seed for every image instead of counting up.
        Returns:
            A list of [path of the saved PNG, its record], in seed order; failed ones left out (all failed: an error).
        """
        with _spoken(request):
            params = validate(prompt, model, image_size, prompt_enhancement, seed)
            return self._run(batch_params(params, int(count or 1), bool(random_each)), request)

    def compare(self, prompt: str, seed: int | None, models: list[str], sizes: list[str],
                enhancements: list[bool], request: gr.Request = None) -> list[list[Any]]:
        """One prompt and seed across models x sizes x enhancement settings.

        Args:
            prompt: what the pictures should show.
            seed: the shared seed; -1 or null for one random seed for all.
            models: model names (at least one).
            sizes: image sizes (at least one).
            enhancements: [false], [true] or [false, true].
        Returns:
            A list of [path of the saved PNG, its record], one per combination (models, then sizes, then enhancement).
        """
        with _spoken(request):
            if not models or not sizes or not enhancements:
                raise InvalidInputError("bad_compare_axes")
            flags = sorted({bool(e) for e in enhancements})
            params = validate(prompt, models[0], sizes[0], flags[0], seed)
            return self._run(compare_params(params, models, sizes, len(flags) == 2), request)

    def _run(self, jobs: list, request: gr.Request | None) -> list[list[Any]]:
        done: dict[int, dict[str, Any]] = {}
        errors: list[BaseException] = []
        for index, outcome in self.generator.generate_many(jobs, user_of(request)):
            if isinstance(outcome, BaseException):
                errors.append(outcome)
            else:
                done[index] = outcome
        if errors and not done:
            raise errors[0]
        for error in errors:
            if not isinstance(error, AppError):
                log.error("A generation failed unexpectedly", exc_info=error)
        store = self.curator.storage
        return [[str(store.path_of(done[i])), done[i]] for i in sorted(done)]

    # -- the History tab -----------------------------------------------------------------------

    def _board_names(self, viewer: str | None) -> list[str]:
        return list(dict.fromkeys(b["name"] for b in self.curator.boards(viewer)))

    def _board_choices(self, viewer: str | None) -> gr.Dropdown:
        return gr.Dropdown(choices=self._board_names(viewer))

    def _both_board_choices(self, viewer: str | None) -> tuple[gr.Dropdown, gr.Dropdown]:
        """The selected image's and the picked images' board boxes: one look-up, two updates."""
        names = self._board_names(viewer)
        return gr.Dropdown(choices=names), gr.Dropdown(choices=list(names))

    def board_choices(self, request: gr.Request) -> tuple[Any, Any]:
        """The boards to pick from, for the selected image's and the picked images' board boxes.

        Only choices: the marks of the selected image come with the selection itself, so
        nothing arriving later can undo a star clicked right after picking a thumbnail."""
        return self._both_board_choices(user_of(request))

    # The detail panel's actions: a refusal stays in the History status line (in the
    # visitor's language) instead of a toast over an "Error" mark; a success clears it.

    @staticmethod
    def _refused(exc: Exception, request: gr.Request | None) -> str:
        lang = language(request)
        return status.failed(lang, render(exc, lang))  # a bug of ours reads "internal error" (logged)

    def star_selected(self, record_id: str | None, starred: bool, request: gr.Request) -> tuple[Any, Any, str]:
        """(record, star box, History status): a refused star puts the box back."""
        try:
            record = _one(self.curator.mark([str(record_id or "")], user_of(request), starred=bool(starred)))
        except Exception as exc:
            return gr.skip(), not starred, self._refused(exc, request)
        return record, gr.skip(), ""

    def rate_selected(self, record_id: str | None, rating: int, request: gr.Request) -> tuple[Any, str]:
        """(record, History status)."""
        try:
            record = _one(self.curator.mark([str(record_id or "")], user_of(request), rating=int(rating or 0)))
        except Exception as exc:
            return gr.skip(), self._refused(exc, request)
        return record, ""

    def board_selected(self, record_id: str | None, name: str | None, add: bool,
                       request: gr.Request) -> tuple[Any, Any, str]:
        """Add the selected image to the named board (made if new), or take it off.

        Returns (record, board choices, History status)."""
        viewer = user_of(request)
        names = [name or ""]
        try:
            record = _one(self.curator.board([str(record_id or "")], viewer, add=names if add else (),
                                             remove=() if add else names))
        except Exception as exc:
            return gr.skip(), gr.skip(), self._refused(exc, request)
        # said, as the bulk bar says it: the thumbnail's badge shows a star or a rating, not a board
        said = self._note("board_added_one" if add else "board_removed_one", 1, request, board=board_name(names[0]))
        return record, self._board_choices(viewer), said

    def export_filter(self, query: str, model: str, size: str, mine: bool, by_user: str, page_no: float,
                      request: gr.Request) -> tuple[Any, str]:
        """A share pack of every image the History tab's search and filters find: (pack, History status)."""
        viewer = user_of(request)
        try:
            pack = self._pack(filter_query(query, model, size, mine, by_user, viewer), [], viewer)
        except Exception as exc:
            return gr.skip(), self._refused(exc, request)
        return pack, ""

    # -- the History grid's picks: bulk actions on the selection or the whole filter ----------
    # Each answers in the History status line: what was done, or why not (in the visitor's
    # language, until the next action), never a toast over an "Error" mark.

    def _chosen(self, picked_text: str, query: str, model: str, size: str, mine: bool, by_user: str,
                viewer: str | None) -> tuple[str, list[str]]:
        """(query, ids) for `bulk`/`export`: the picked ids, or the whole filter when "all" was
        picked. Nothing picked is an error here, never "every image" (the API's empty query)."""
        picked = read_picked(picked_text)
        if picked.empty:
            raise InvalidInputError("nothing_chosen")
        if picked.all:
            return filter_query(query, model, size, mine, by_user, viewer), []
        return "", list(picked.ids)

    def picks(self, picked_text: str, query: str, model: str, size: str, mine: bool, by_user: str,
              request: gr.Request) -> tuple[str, Any, str]:
        """The line over the grid ("3 selected · Select all 57 in this filter"), the docked bulk
        bar (shown only while something is picked) and its "3 selected ✕"."""
        viewer = user_of(request)
        picked = read_picked(picked_text)
        try:
            total = self.curator.count(filter_query(query, model, size, mine, by_user, viewer), viewer)
        except AppError:  # a malformed token: the grid says so already
            total = 0
        lang = language(request)
        return picks_bar(picked, total, lang), gr.Column(visible=not picked.empty), dock_count(picked, total, lang)

    def _note(self, key: str, count: int, request: gr.Request | None, **params: Any) -> str:
        return status.done_text(i18n.label(key, language(request), n=count, **params))

    def _bulk(self, picked: str, filters: tuple[str, str, str, bool, str], request: gr.Request | None,
              **change: Any) -> int:
        viewer = user_of(request)
        return self._apply(*self._chosen(picked, *filters, viewer), viewer, **change)

    def bulk_star(self, picked: str, starred: bool, query: str, model: str, size: str, mine: bool, by_user: str,
                  request: gr.Request) -> str:
        """Star (or unstar) every picked image; returns the History status line."""
        try:
            done = self._bulk(picked, (query, model, size, mine, by_user), request, starred=bool(starred))
        except Exception as exc:
            return self._refused(exc, request)
        return self._note("bulk_starred" if starred else "bulk_unstarred", done, request)

    def bulk_rate(self, picked: str, rating: int | None, query: str, model: str, size: str, mine: bool,
                  by_user: str, request: gr.Request) -> tuple[Any, Any]:
        """Rate every picked image; the rating picker empties again for the next use.
        Returns (History status, rating picker)."""
        if rating is None:
            return gr.skip(), gr.skip()
        try:
            done = self._bulk(picked, (query, model, size, mine, by_user), request, rating=int(rating))
        except Exception as exc:
            return self._refused(exc, request), gr.Radio(value=None)
        shown = str(rating) if rating else i18n.label("rating_none", language(request))
        return self._note("bulk_rated", done, request, rating=shown), gr.Radio(value=None)

    def bulk_board(self, picked: str, board: str | None, add: bool, query: str, model: str, size: str, mine: bool,
                   by_user: str, request: gr.Request) -> tuple[str, Any, Any]:
        """Put every picked image on the named board (made if new), or take them off it.
        Returns (History status, the two board boxes' choices)."""
        names = [board or ""]
        try:
            done = self._bulk(picked, (query, model, size, mine, by_user), request,
                              add=names if add else None, remove=None if add else names)
        except Exception as exc:
            return self._refused(exc, request), gr.skip(), gr.skip()
        viewer = user_of(request)
        note = self._note("bulk_added" if add else "bulk_removed", done, request, board=board_name(names[0]))
        return note, *self._both_board_choices(viewer)

    def bulk_ask_delete(self, picked: str, query: str, model: str, size: str, mine: bool, by_user: str,
                        request: gr.Request) -> tuple[Any, Any, str]:
        """"Move 12 images to the trash?" with the number it would really be.
        Returns (question row, question, History status)."""
        viewer = user_of(request)
        try:
            chosen_query, ids = self._chosen(picked, query, model, size, mine, by_user, viewer)
            count = len(ids) if ids else self.curator.count(chosen_query, viewer)
        except Exception as exc:
            return gr.Row(visible=False), gr.skip(), self._refused(exc, request)
        return gr.Row(visible=True), i18n.label("bulk_delete_question", language(request), n=count), ""

    @staticmethod
    def bulk_cancel() -> Any:
        return gr.Row(visible=False)

    def bulk_trash(self, picked: str, query: str, model: str, size: str, mine: bool, by_user: str,
                   request: gr.Request) -> tuple[str, Any]:
        """Move every picked image to the trash (all or none: only one's own, or any as admin).
        Returns (History status, question row)."""
        try:
            done = self._bulk(picked, (query, model, size, mine, by_user), request, trash=True)
        except Exception as exc:
            return self._refused(exc, request), gr.Row(visible=False)
        return self._note("bulk_trashed", done, request), gr.Row(visible=False)

    def bulk_export(self, picked: str, query: str, model: str, size: str, mine: bool, by_user: str,
                    request: gr.Request) -> tuple[Any, str]:
        """A share pack of the picked images (at most 1,000): (pack, History status)."""
        viewer = user_of(request)
        try:
            pack = self._pack(*self._chosen(picked, query, model, size, mine, by_user, viewer), viewer)
        except Exception as exc:
            return gr.skip(), self._refused(exc, request)
        return pack, ""

    # -- query chips and saved searches ---------------------------------------------------------

    def chips(self, query: str, tz: str | None, request: gr.Request) -> str:
        """Chips for the search box: tokens to add (the visitor's boards, models, sizes, and
        users only for who may see everyone's), the active ones to remove, the saved searches."""
        viewer = user_of(request)
        owner = self.curator.access.scope(viewer)
        index = self.curator.index
        choices = Choices(
            boards=tuple(b["name"] for b in self.curator.boards(viewer))[:CHIPS_PER_KIND],
            models=tuple(index.distinct("model", owner))[:CHIPS_PER_KIND],
            sizes=tuple(index.distinct("image_size", owner))[:CHIPS_PER_KIND],
            users=tuple(index.distinct("user", None))[:CHIPS_PER_KIND] if viewer is not None and owner is None else (),
        )
        return selection.chips(query or "", choices, self.searches(request), language(request), tz)

    def save_search_page(self, name: str, query: str, model: str, size: str, mine: bool, by_user: str,
                         tz: str | None, request: gr.Request) -> tuple[Any, Any, str]:
        """Save the History tab's search (box and dropdowns) under a name.
        Returns (name box, chips, History status)."""
        lang = language(request)
        full = filter_query(query, model, size, mine, by_user, user_of(request))
        if not full.strip():
            return gr.skip(), gr.skip(), status.failed(lang, i18n.message("empty_search", lang))
        try:
            saved = self.search_save(name, full, request)
        except gr.Error as exc:  # already in the visitor's words
            return gr.skip(), gr.skip(), status.failed(lang, exc.message)
        said = i18n.message("search_saved", lang, name=next((s["name"] for s in saved if s["query"] == full), name))
        return "", self.chips(query, tz, request), status.done_text(said)

    def chip_clicked(self, action_text: str, query: str, tz: str | None, request: gr.Request) -> tuple[str, str]:
        """A chip under the search box: add or remove a token, run or forget a saved search.

        Returns (search box, chips)."""
        action = selection.chip_action(action_text)
        if action.get("forget"):
            self.search_delete(action["forget"], request)
        query = selection.edit_query(query or "", action)
        return query, self.chips(query, tz, request)

    # -- reading any image -------------------------------------------------------------------

    def png_info(self, file: str | None, request: gr.Request = None) -> dict[str, Any]:
        """What the app reads from an image: its text chunks and the generation settings in them.

        Args:
            file: a PNG (or JPEG/WebP) file.
        Returns:
            {"format", "kind" (ours, a1111, comfyui, other, none), "chunks", "record", "fields"}.
        """
        with _spoken(request):
            return self.pnginfo.read(file, request)
