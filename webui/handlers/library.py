"""The prompt library and the prompt matrix: endpoints and page events.

Recipes are shared with the team or kept private (the admin sees all); a matrix runs
through the same generator as every other picture, so the concurrency limit, daily
limits and saving apply to each of its cells.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import gradio as gr

from .. import i18n
from ..curation import Curator
from ..errors import AppError, InvalidInputError, render
from ..generator import Generator
from ..guard import ServedFiles
from ..recipes import (
    Expansion,
    Library,
    MatrixPlan,
    Recipe,
    expand,
    fill,
    plan_matrix,
    prompt_lines,
    read_import,
    slots,
    write_export,
)
from ..storage import Storage
from .common import fail, file_url, language, refuse, user_of
from .generate import GRID_OUTPUTS, GenerateHandlers
from .steps import Steps, job_state

log = logging.getLogger(__name__)

MAX_SLOT_FIELDS = 6  # slot boxes the page keeps ready; a recipe with more is filled over the API


@dataclass(frozen=True)
class MatrixForm:
    """The Matrix tab's form: what decides the grid's shape, declared once.

    The page's events send these by name (`inputs_kwargs`: the Matrix tab's box of each
    name, see `ui.library_tab.MatrixTab.form`); a handler takes them as `**form` and builds
    this, so a field added here reaches every matrix event without another parameter list.
    """

    prompts: str = ""  # one prompt a line (when no recipe is picked)
    recipe: str | None = None  # the picked recipe's id
    slot_values: str = ""  # `name: a | b` lines, one slot a line
    models: Sequence[str] = ()
    sizes: Sequence[str] = ()
    both: bool = False  # enhancement off and on, else off only

    @property
    def enhancements(self) -> list[bool]:
        return [False, True] if self.both else [False]


@dataclass
class LibraryHandlers:
    library: Library
    generator: Generator
    storage: Storage
    curator: Curator
    is_admin: Callable[[str | None], bool] = lambda name: False  # noqa: E731 (set per instance)
    jobs: GenerateHandlers | None = None  # the page's waiting state and Stop, shared with Generate and Compare
    files: ServedFiles | None = None  # whose files an upload event may name (webui/guard.py)

    def _who(self, request: gr.Request | None) -> tuple[str | None, bool]:
        user = user_of(request)
        return user, self.is_admin(user)

    # -- the API ----------------------------------------------------------------------

    def recipes(self, request: gr.Request | None = None) -> list[dict[str, Any]]:
        """The prompt library: your recipes and the team's shared ones, most used first.

        Returns:
            Recipes with id, name, text (with {slots}), model, image_size, prompt_enhancement,
            shared, owner, uses and the names of their slots.
        """
        user, is_admin = self._who(request)
        private = self.curator.access.scope(user) is not None  # private mode, not the admin
        return [r.seen_by(user, private) for r in self.library.visible(user, is_admin)]

    def save_recipe(
        self,
        name: str,
        text: str,
        model: str = "",
        image_size: str = "",
        prompt_enhancement: bool = False,
        shared: bool = True,
        recipe_id: str = "",
        example_id: str = "",
        request: gr.Request | None = None,
    ) -> dict[str, Any]:
        """Save a prompt as a recipe (a new one, or update one of yours when recipe_id is given).

        Args:
            name: what the team will call it, e.g. "Product on a surface".
            text: the prompt, with {slots} to fill ("a {product} on a {surface}") or choices ("{red|blue}").
            model: the model that worked ("" for the form's choice).
            image_size: e.g. 768x512 ("" for the form's choice).
            prompt_enhancement: whether the service should enrich the prompt.
            shared: true to share it with the team, false to keep it to yourself.
            recipe_id: the id of a recipe of yours to update; "" to add a new one.
            example_id: the id of an image in the history that shows what it makes (optional).
        Returns:
            The saved recipe.
        """
        recipe = Recipe(
            id=str(recipe_id or ""),
            name=str(name or ""),
            text=str(text or ""),
            model=str(model or ""),
            image_size=str(image_size or ""),
            prompt_enhancement=bool(prompt_enhancement),
            example_id=str(example_id) if example_id else None,
            shared=bool(shared),
        )
        return self._save(recipe, request)

    def _save(self, recipe: Recipe, request: gr.Request | None) -> dict[str, Any]:
        """Store a recipe under the saver's rights: the one path of every save, whether its
        fields come from the API's parameters or from a stored recipe with one change."""
        lang = language(request)
        try:
            if recipe.example_id:  # an image the saver may see, or none
                self.curator.get(recipe.example_id, user_of(request))
            return self.library.save(recipe, *self._who(request)).as_dict()
        except AppError as exc:
            raise fail(render(exc, lang), lang) from None

    def delete_recipe(self, recipe_id: str, request: gr.Request | None = None) -> None:
        """Delete one of your recipes (the admin may delete any). Images made with it stay.

        Args:
            recipe_id: the recipe's id.
        """
        lang = language(request)
        try:
            self.library.delete(str(recipe_id or ""), *self._who(request))
        except AppError as exc:
            raise fail(render(exc, lang), lang) from None

    def fill_recipe(
        self, recipe_id: str, values: dict[str, str] | None = None, request: gr.Request | None = None
    ) -> dict[str, Any]:
        """Fill a recipe's slots and get the prompt and settings to generate with; counts a use.

        Args:
            recipe_id: the recipe's id.
            values: a value for each slot, by slot name, e.g. {"product": "teapot", "surface": "marble"}.
        Returns:
            prompt, model, image_size and prompt_enhancement ("" where the recipe leaves the form's choice).
        """
        lang = language(request)
        try:
            recipe = self.library.get(str(recipe_id or ""), *self._who(request))
            prompt = _fill(recipe, values or {})
        except AppError as exc:
            raise fail(render(exc, lang), lang) from None
        self.library.used(recipe.id)
        return {
            "prompt": prompt,
            "model": recipe.model,
            "image_size": recipe.image_size,
            "prompt_enhancement": recipe.prompt_enhancement,
        }

    def export_recipes(self, request: gr.Request | None = None) -> str:
        """The library you can see, as JSON text (save it to a file, or import it elsewhere)."""
        return self.library.export(*self._who(request))

    def import_recipes(self, text: str, request: gr.Request | None = None) -> list[dict[str, Any]]:
        """Add the recipes of an exported library (JSON text) as your own; all or none.

        Args:
            text: the JSON an export produced.
        Returns:
            The recipes added.
        """
        lang = language(request)
        try:
            return [r.as_dict() for r in self.library.import_json(str(text or ""), user_of(request))]
        except AppError as exc:
            raise fail(render(exc, lang), lang) from None

    def plan(
        self,
        prompts: str,
        recipe_id: str,
        slot_values: dict[str, list[str]] | None,
        models: Sequence[str],
        sizes: Sequence[str],
        enhancements: Sequence[bool],
        seed: Any,
        request: gr.Request | None,
    ) -> MatrixPlan:
        """The grid a matrix would make (rows from a recipe's slot values, else from pasted lines)."""
        if recipe_id:
            recipe = self.library.get(str(recipe_id), *self._who(request))
            rows = expand(recipe.text, slot_values or {})
        else:
            rows = [Expansion(line) for line in prompt_lines(prompts)]
        return plan_matrix(rows, list(models or []), list(sizes or []), list(enhancements or [False]), seed)

    def matrix(
        self,
        prompts: str = "",
        recipe_id: str = "",
        slot_values: dict[str, list[str]] | None = None,
        models: list[str] | None = None,
        sizes: list[str] | None = None,
        enhancements: list[bool] | None = None,
        seed: float | int | None = -1,
        board: str = "",
        request: gr.Request | None = None,
    ) -> dict[str, Any]:
        """Make a prompt matrix: every prompt × model × size × enhancement, one seed for the whole grid.

        Args:
            prompts: prompts, one per line (ignored when recipe_id is given).
            recipe_id: a recipe whose slots give the rows, e.g. {"color": ["red", "blue"]} in slot_values.
            slot_values: several values per slot name; inline choices {a|b} need none.
            models: the models to compare, e.g. ["FLUX.1-schnell"].
            sizes: the sizes to compare, e.g. ["1024x1024", "768x512"].
            enhancements: [false], [true] or [false, true].
            seed: 0-9999999999, or -1 for one random seed shared by the whole grid.
            board: the board that collects the grid's images ("" for "Matrix <date time>").
        Returns:
            rows and columns (their labels), seed, board, and cells: [{row, column, record}]
            ({error} for a cell that failed).
        """
        lang = language(request)
        try:
            plan = self.plan(
                prompts, recipe_id, slot_values, models or [], sizes or [], enhancements or [False], seed, request
            )
            self._check_quota(plan, request)
            board = _board_name(board, lang)
        except AppError as exc:
            raise fail(render(exc, lang), lang) from None
        cells: list[dict[str, Any]] = []
        for index, outcome in self._run(plan, recipe_id, board, request):
            row, column = plan.cell(index)
            cell: dict[str, Any] = {"row": row, "column": column}
            if isinstance(outcome, BaseException):
                cell["error"] = render(outcome, lang)
            else:
                cell["record"] = outcome
            cells.append(cell)
        cells.sort(key=lambda c: (c["row"], c["column"]))
        return {
            "rows": plan.row_labels(),
            "columns": plan.column_labels(),
            "seed": plan.seed,
            "board": board,
            "cells": cells,
        }

    def _run(
        self, plan: MatrixPlan, recipe_id: str | None, board: str, request: gr.Request | None
    ) -> Iterator[tuple[int, dict[str, Any] | BaseException]]:
        """Run the grid's jobs; what was made goes on `board` even when the run is stopped midway."""
        user = user_of(request)
        made: list[str] = []
        try:
            for index, outcome in self.generator.generate_many(plan.jobs, user):
                if not isinstance(outcome, BaseException):
                    made.append(str(outcome["id"]))
                yield index, outcome
        finally:
            self._file_away(made, recipe_id, board, user)

    def _file_away(self, made: list[str], recipe_id: str | None, board: str, user: str | None) -> None:
        """After a matrix (finished, failed or stopped): count the recipe's uses, put what was made on `board`."""
        if recipe_id:
            self.library.used(str(recipe_id), len(made))
        if made:
            try:
                self.curator.board(made, user, add=[board])
            except AppError as exc:  # the images are saved; only the board is missing
                log.warning("Matrix images not put on board %r: %s", board, exc)

    def _check_quota(self, plan: MatrixPlan, request: gr.Request | None) -> None:
        allowance = self.generator.allowance(user_of(request))
        left = allowance[0] if allowance is not None else None
        if left is not None and plan.size > left:
            raise InvalidInputError("matrix_over_limit", count=plan.size, left=left)

    # -- the page -----------------------------------------------------------------------

    def choices(self, request: gr.Request) -> gr.Dropdown:
        """The recipe picker's entries: "name · N uses", newest usage first."""
        lang = language(request)
        entries = [(_entry(r, lang), r.id) for r in self.library.visible(*self._who(request))]
        return gr.Dropdown(choices=entries, value=None)

    def pick(self, recipe_id: str | None, request: gr.Request) -> list[Any]:
        """Show the picked recipe's slot boxes, labelled by slot (choices as a hint), and its example."""
        lang = language(request)
        recipe = self._visible(recipe_id, request)
        keys = slots(recipe.text) if recipe else []
        updates: list[Any] = [recipe.text if recipe else ""]
        for i in range(MAX_SLOT_FIELDS):
            if i < len(keys):
                slot = keys[i]
                hint = " | ".join(slot.choices) if slot.choices else ""
                label = slot.key if slot.named else i18n.label("slot_choice", lang)
                updates.append(gr.Textbox(visible=True, label=label, value="", placeholder=hint))
            else:
                updates.append(gr.Textbox(visible=False, value=""))
        return [*updates, self._example(recipe, request)]

    def _example(self, recipe: Recipe | None, request: gr.Request | None) -> str | None:
        """A small copy of the recipe's example picture, if the visitor may see that image."""
        if recipe is None or not recipe.example_id:
            return None
        try:
            record = self.curator.get(recipe.example_id, user_of(request))
        except AppError:  # deleted meanwhile, or a teammate's image this visitor may not see
            return None
        return str(self.storage.thumbnail(record))

    def set_example(self, recipe_id: str | None, current: Any, request: gr.Request) -> str | None:
        """ "Use the current picture as this recipe's example": the picture under Result.

        Saved like any edit of the recipe: only its owner (or the admin) may, and only with
        an image the saver may see."""
        lang = language(request)
        recipe = self._visible(recipe_id, request)
        if recipe is None:
            raise refuse("pick_recipe", lang)
        image_id = str(current.get("id") or "") if isinstance(current, dict) else ""
        if not image_id:
            raise refuse("no_current_image", lang)
        saved = self._save(replace(recipe, example_id=image_id), request)
        gr.Info(i18n.message("recipe_example_set", lang, name=saved["name"]))
        return self._example(self._visible(recipe.id, request), request)

    def slot_template(self, recipe_id: str | None, typed: str | None, request: gr.Request) -> Any:
        """The Matrix tab's slot box for a picked recipe: one `name: ` line per named slot to fill.

        Values already typed for these slots stay, and a box that already fits is left alone:
        Gradio may report the same pick again (e.g. when the picker loses focus), and that
        must never wipe what the person typed meanwhile."""
        recipe = self._visible(recipe_id, request)
        wanted = [s.key for s in slots(recipe.text) if s.named] if recipe else []
        have = _slot_lines(typed)
        if list(have) == wanted:
            return gr.skip()
        return "\n".join(f"{key}: " + " | ".join(have.get(key, [])) for key in wanted)

    def _visible(self, recipe_id: str | None, request: gr.Request | None) -> Recipe | None:
        if not recipe_id:
            return None
        try:
            return self.library.get(str(recipe_id), *self._who(request))
        except InvalidInputError:
            return None

    def use(self, recipe_id: str | None, request: gr.Request, *texts: Any) -> Any:
        """ "Use in prompt": the filled prompt and the recipe's settings into the Generate form.

        `texts`: the slot boxes' values, in the recipe's slot order. `request` sits before them:
        Gradio hands it only to a parameter before `*texts` (it stops looking at a `*`)."""
        lang = language(request)
        recipe = self._visible(recipe_id, request)
        if recipe is None:
            raise refuse("pick_recipe", lang)
        keys = [s.key for s in slots(recipe.text)]
        values = dict(zip(keys, (str(t or "") for t in texts), strict=False))
        try:
            prompt = _fill(recipe, values)
        except AppError as exc:
            raise fail(render(exc, lang), lang) from None
        self.library.used(recipe.id)
        return (
            prompt,
            recipe.model or gr.skip(),
            recipe.image_size or gr.skip(),
            recipe.prompt_enhancement,
            self.choices(request),
        )

    def save_from_form(
        self, name: str, shared: bool, prompt: str, model: str, size: str, enhance: bool, request: gr.Request
    ) -> Any:
        """ "Save as recipe": the prompt box (with any {slots} typed in it) and the form's settings."""
        lang = language(request)
        saved = self.save_recipe(name, prompt, model, size, enhance, shared, request=request)
        gr.Info(i18n.message("recipe_saved", lang, name=saved["name"]))
        return "", self.choices(request)

    def export_file(self, request: gr.Request) -> str:
        """The library the visitor can see, as a JSON file to download."""
        return str(write_export(self.export_recipes(request)))

    def import_file(self, path: str | None, request: gr.Request) -> gr.Dropdown:
        """An uploaded library file: its recipes become the visitor's own."""
        lang = language(request)
        try:
            if path and self.files is not None and not self.files.may_read(path, user_of(request)):
                raise InvalidInputError("not_found")  # a file of someone else's, named by the client
            added = self.library.import_json(read_import(path or ""), user_of(request))
        except AppError as exc:
            raise fail(render(exc, lang), lang) from None
        gr.Info(i18n.message("library_imported", lang, count=len(added)))
        return self.choices(request)

    def delete_picked(self, recipe_id: str | None, request: gr.Request) -> gr.Dropdown:
        lang = language(request)
        if not recipe_id:
            raise refuse("pick_recipe", lang)
        self.delete_recipe(str(recipe_id), request)
        return self.choices(request)

    def _page_plan(self, form: MatrixForm, seed: Any, request: gr.Request | None) -> MatrixPlan:
        """The Matrix tab's form as a plan."""
        return self.plan(form.prompts, form.recipe or "", _slot_lines(form.slot_values), form.models, form.sizes,
                         form.enhancements, seed, request)

    def count_line(self, request: gr.Request, **form: Any) -> str:
        """ "This makes N images (M left today)", or what stops the matrix, before anything runs.

        `form`: the Matrix tab's fields by name (MatrixForm)."""
        lang = language(request)
        try:
            plan = self._page_plan(MatrixForm(**form), -1, request)
        except AppError as exc:
            return render(exc, lang)
        allowance = self.generator.allowance(user_of(request))
        left = allowance[0] if allowance is not None else None
        text = i18n.label("matrix_count", lang, count=plan.size, rows=len(plan.rows), columns=len(plan.columns))
        if left is not None:
            text += " " + i18n.label("matrix_left", lang, left=left)
        return text

    def run_matrix(self, seed: Any, tz: str | None, request: gr.Request, **form: Any) -> Iterator[tuple[Any, ...]]:
        """The page's matrix: the labelled grid fills in as cells finish.

        `form`: the Matrix tab's fields by name (MatrixForm); `seed` is the Generate form's.
        Yields (grid, status, Stop, Try again) like Compare: the page's one waiting state
        (elapsed and typical time), cooperative Stop and errors that stay in the status line.
        """
        lang = language(request)
        jobs = self.jobs
        assert jobs is not None, "LibraryHandlers.jobs is set by create_app"
        step = Steps(*GRID_OUTPUTS)  # every step whole: see webui/handlers/steps.py
        fields = MatrixForm(**form)
        try:
            plan = self._page_plan(fields, seed, request)
            self._check_quota(plan, request)
        except AppError as exc:
            yield step(**jobs.refusal(exc, lang, tz, request))
            return
        board = _board_name("", lang)
        cells: dict[int, tuple[str, str]] = {}
        made: list[str] = []
        try:
            for kind, value in jobs.progress(list(plan.jobs), lang, tz, request):
                if kind == "record":
                    record = value["record"]
                    made.append(str(record["id"]))
                    cells[value["__index"]] = (str(self.storage.thumbnail(record)), str(self.storage.path_of(record)))
                grid = ({"grid": self.grid_html(plan, cells, board, lang, finished=kind == "end")}
                        if kind in ("start", "record", "end") else {})
                yield step(**grid, **job_state(kind, value))
        finally:
            self._file_away(made, fields.recipe, board, user_of(request))

    @staticmethod
    def grid_html(plan: MatrixPlan, cells: dict[int, tuple[str, str]], board: str, lang: str,
                  finished: bool = False) -> str:
        """A table: a header row of columns, a header cell per row, a thumbnail per cell.

        A cell is (thumbnail, full PNG), ("", message) when it failed, or missing: waiting,
        or once `finished` not made (the status line says why).

        Cells link to the full PNG; file URLs go through Gradio's file route (and the
        private-mode guard), so the grid shows nothing a visitor couldn't open anyway.
        """
        columns = plan.column_labels()
        head = "".join(f"<th scope='col'>{html.escape(c)}</th>" for c in columns)
        caption = html.escape(i18n.label("matrix_caption", lang, seed=plan.seed, board=board))
        body = []
        for r, label in enumerate(plan.row_labels()):
            tds = []
            for c, column in enumerate(columns):
                thumb, full = cells.get(r * len(columns) + c, ("", ""))
                if thumb:
                    alt = html.escape(f"{label} · {column}", quote=True)
                    tds.append(
                        f"<td><a href='{file_url(full)}' target='_blank'>"
                        f"<img src='{file_url(thumb)}' alt='{alt}'></a></td>"
                    )
                elif full:
                    tds.append(f"<td class='failed'>{html.escape(full)}</td>")
                elif finished:
                    tds.append(f"<td class='failed'>{html.escape(i18n.label('matrix_not_made', lang))}</td>")
                else:
                    tds.append("<td class='waiting' aria-busy='true'>…</td>")
            body.append(f"<tr><th scope='row'>{html.escape(label)}</th>{''.join(tds)}</tr>")
        return (
            f"<table class='matrix-grid'><caption>{caption}</caption><thead><tr><td></td>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>"
        )


def _fill(recipe: Recipe, values: dict[str, Any]) -> str:
    return fill(recipe.text, {str(k): str(v) for k, v in values.items() if v is not None})


def _board_name(wanted: str, lang: str) -> str:
    """The board a matrix collects its images on: the one asked for, else "Matrix <UTC time>"
    (in the visitor's language: a board name is read by people)."""
    return " ".join(str(wanted or "").split()) or i18n.label("matrix_board", lang,
                                                             time=f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S}")


def _slot_lines(text: str | None) -> dict[str, list[str]]:
    """`name: a | b | c` lines, one slot a line, from the page's matrix box."""
    values: dict[str, list[str]] = {}
    for line in (text or "").splitlines():
        name, sep, rest = line.partition(":")
        if sep and name.strip():
            values[name.strip()] = [v.strip() for v in rest.split("|") if v.strip()]
    return values


def _entry(recipe: Recipe, lang: str) -> str:
    mark = "" if recipe.shared else "🔒 "
    return f"{mark}{recipe.name} · " + i18n.label("recipe_uses", lang, uses=recipe.uses)
