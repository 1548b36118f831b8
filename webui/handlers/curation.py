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

from .. import provenance
from ..curation import Curator
from ..errors import AppError, InvalidInputError, render
from ..generator import Generator, batch_params, compare_params, validate
from .common import fail, language, user_of
from .pnginfo import PngInfoHandlers

log = logging.getLogger(__name__)


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
        viewer = user_of(request)
        with _spoken(request):
            ids = self.curator.choose(query or "", record_ids or [], viewer)
            if not ids:
                raise InvalidInputError("nothing_chosen")
            if trash:
                if not all(self.curator.may_delete(self.curator.get(i, viewer), viewer) for i in ids):
                    raise InvalidInputError("not_yours")  # before any is moved: all or none
                for record_id in ids:
                    self.curator.delete(record_id, viewer)
                return {"count": len(ids)}
            done = ids
            if starred is not None or rating is not None:
                done = [r["id"] for r in self.curator.mark(ids, viewer, starred=starred, rating=rating)]
            if add or remove:
                done = [r["id"] for r in self.curator.board(ids, viewer, add=add or [], remove=remove or [])]
            return {"count": len(done)}

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
        stamp = self.visible_label if visible_label is None else bool(visible_label)
        with _spoken(request):
            return str(self.curator.export(query or "", record_ids or [], user_of(request),
                                           stamp=provenance.stamp_visible_label if stamp else None))

    # -- trash ----------------------------------------------------------------------------

    def delete(self, record_id: str, request: gr.Request = None) -> None:
        """Move an image to the trash (outputs/.trash); /restore brings it back.

        Args:
            record_id: the image's record id; only its owner (or the admin) may delete it.
        """
        with _spoken(request):
            self.curator.delete(record_id, user_of(request))

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
            return self.curator.trash(user_of(request))

    # -- saved searches -------------------------------------------------------------------

    def searches(self, request: gr.Request = None) -> list[dict[str, str]]:
        """Your saved searches.

        Returns:
            One entry per search: name, query.
        """
        return self.curator.storage.index.saved_searches(user_of(request))

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
            self.curator.storage.index.save_search(viewer, name, query or "")
        return self.searches(request)

    def search_delete(self, name: str, request: gr.Request = None) -> list[dict[str, str]]:
        """Forget a saved search.

        Args:
            name: its name.
        Returns:
            Your saved searches.
        """
        self.curator.storage.index.delete_search(user_of(request), str(name or ""))
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

    def _board_choices(self, viewer: str | None) -> gr.Dropdown:
        return gr.Dropdown(choices=list(dict.fromkeys(b["name"] for b in self.curator.boards(viewer))))

    def marks_of(self, record_id: str | None, request: gr.Request) -> tuple[bool, int, Any]:
        """The selected image's star and rating, and the boards to pick from."""
        viewer = user_of(request)
        try:
            record = self.curator.visible(self.curator.get(str(record_id or ""), viewer), viewer)
        except AppError:
            return False, 0, self._board_choices(viewer)
        return bool(record.get("starred")), int(record.get("rating") or 0), self._board_choices(viewer)

    def star_selected(self, record_id: str | None, starred: bool, request: gr.Request) -> dict[str, Any]:
        with _spoken(request):
            return _one(self.curator.mark([str(record_id or "")], user_of(request), starred=bool(starred)))

    def rate_selected(self, record_id: str | None, rating: int, request: gr.Request) -> dict[str, Any]:
        with _spoken(request):
            return _one(self.curator.mark([str(record_id or "")], user_of(request), rating=int(rating or 0)))

    def board_selected(self, record_id: str | None, name: str | None, add: bool,
                       request: gr.Request) -> tuple[dict[str, Any], Any]:
        """Add the selected image to the named board (made if new), or take it off."""
        viewer = user_of(request)
        names = [name or ""]
        with _spoken(request):
            record = _one(self.curator.board([str(record_id or "")], viewer, add=names if add else (),
                                             remove=() if add else names))
        return record, self._board_choices(viewer)

    def export_filter(self, query: str, model: str, size: str, mine: bool, by_user: str, page_no: float,
                      request: gr.Request) -> str:
        """A share pack of every image the History tab's search and filters find."""
        viewer = user_of(request)
        tokens = [query or ""]
        for key, value in (("model", model), ("size", size), ("user", by_user or (viewer if mine else None))):
            if value:
                tokens.append(f'{key}:"{value.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"')
        with _spoken(request):
            stamp = provenance.stamp_visible_label if self.visible_label else None
            return str(self.curator.export(" ".join(tokens), [], viewer, stamp=stamp))

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
