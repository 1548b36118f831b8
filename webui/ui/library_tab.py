"""The prompt library (a panel under the Generate form) and the Matrix tab."""

from __future__ import annotations

from dataclasses import dataclass, fields

import gradio as gr

from ..admission import GENERATE
from ..generator import IMAGE_SIZES, KNOWN_MODELS
from ..handlers.library import MAX_SLOT_FIELDS, LibraryHandlers, MatrixForm
from .common import Shared, T, wire_grid_run


@dataclass
class LibraryPanel:
    recipe: gr.Dropdown
    text: gr.Textbox
    slots: list[gr.Textbox]
    use: gr.Button
    delete: gr.Button
    name: gr.Textbox
    shared: gr.Checkbox
    save: gr.Button
    export: gr.DownloadButton
    upload: gr.UploadButton
    example: gr.Image
    set_example: gr.Button


@dataclass
class MatrixTab:
    recipe: gr.Dropdown
    prompts: gr.Textbox
    slot_values: gr.Textbox
    models: gr.Dropdown
    sizes: gr.CheckboxGroup
    both: gr.Checkbox
    count: gr.Markdown
    run: gr.Button
    stop: gr.Button
    status: gr.HTML
    retry: gr.Button
    grid: gr.HTML

    @property
    def form(self) -> dict[str, gr.Textbox | gr.Dropdown | gr.CheckboxGroup | gr.Checkbox]:
        """What decides the grid's shape: the box of each MatrixForm field, by its name (`inputs_kwargs`)."""
        return {f.name: getattr(self, f.name) for f in fields(MatrixForm)}


def build_library_panel() -> LibraryPanel:
    with gr.Accordion(T("library"), open=False, elem_id="library"):
        recipe = gr.Dropdown(choices=[], value=None, label=T("recipe"), info=T("recipe_info"), elem_id="recipe")
        text = gr.Textbox(label=T("recipe_text"), interactive=False, lines=1, elem_id="recipe-text")
        slots = [gr.Textbox(visible=False, elem_id=f"slot-{i}") for i in range(MAX_SLOT_FIELDS)]
        with gr.Row():
            use = gr.Button(T("use_recipe"), variant="secondary", size="sm", elem_id="recipe-use")
            delete = gr.Button(T("delete_recipe"), size="sm", elem_id="recipe-delete")
        with gr.Row(equal_height=False):
            example = gr.Image(label=T("recipe_example"), type="filepath", interactive=False, height=160,
                               scale=1, min_width=160, buttons=[], elem_id="recipe-example")
            set_example = gr.Button(T("recipe_set_example"), size="sm", scale=1, elem_id="recipe-set-example")
        with gr.Row(equal_height=True):
            name = gr.Textbox(
                label=T("recipe_name"), placeholder=T("recipe_name_placeholder"), scale=3, elem_id="recipe-name"
            )
            shared = gr.Checkbox(True, label=T("recipe_shared"), scale=1, elem_id="recipe-shared")
        save = gr.Button(T("save_recipe"), size="sm", elem_id="recipe-save")
        with gr.Row():
            # Gradio's stubs say str; gr.I18n data is what its buttons take for a translated label.
            export = gr.DownloadButton(T("export_library"), size="sm", elem_id="library-export")  # type: ignore[arg-type]
            upload = gr.UploadButton(
                T("import_library"),  # type: ignore[arg-type]
                file_types=[".json"],
                size="sm",
                elem_id="library-import",
            )
    return LibraryPanel(recipe, text, slots, use, delete, name, shared, save, export, upload, example, set_example)


def build_matrix_tab() -> MatrixTab:
    gr.Markdown(T("matrix_intro"))
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=300):
            recipe = gr.Dropdown(choices=[], value=None, label=T("recipe"), elem_id="matrix-recipe")
            prompts = gr.Textbox(label=T("matrix_prompts"), lines=4, max_lines=20, elem_id="matrix-prompts")
            slot_values = gr.Textbox(label=T("matrix_slots"), lines=2, elem_id="matrix-slots")
        with gr.Column(scale=2, min_width=300):
            models = gr.Dropdown(
                choices=list(KNOWN_MODELS),
                value=[KNOWN_MODELS[0]],
                multiselect=True,
                allow_custom_value=True,
                label=T("matrix_models"),
                elem_id="matrix-models",
            )
            sizes = gr.CheckboxGroup(
                choices=[(T(f"size_{s}"), s) for s in IMAGE_SIZES],
                value=[IMAGE_SIZES[0]],
                label=T("matrix_sizes"),
                elem_id="matrix-sizes",
            )
            both = gr.Checkbox(False, label=T("matrix_both"), elem_id="matrix-both")
    count = gr.Markdown(elem_id="matrix-count")
    with gr.Row(equal_height=True, elem_id="matrix-actions"):
        run = gr.Button(T("matrix_run"), variant="primary", scale=3, elem_id="matrix-run")
        stop = gr.Button(T("stop"), variant="stop", scale=1, elem_id="matrix-stop", interactive=False)
    # The same status line as Generate and Compare (waiting, done, stopped, what went wrong).
    status = gr.HTML(elem_id="matrix-status")
    retry = gr.Button(T("try_again"), visible=False, size="sm", elem_id="matrix-retry")
    grid = gr.HTML(elem_id="matrix-grid")
    return MatrixTab(recipe, prompts, slot_values, models, sizes, both, count, run, stop, status, retry, grid)


def wire_library(
    panel: LibraryPanel,
    matrix: MatrixTab,
    handlers: LibraryHandlers,
    shared: Shared,
    blocks: gr.Blocks,
    concurrency: int,
    refresh_recent: dict,
    current: gr.JSON,
) -> None:
    """`current` is the record of the picture under Result (a recipe's example comes from it)."""
    form = shared.form
    pickers = [panel.recipe, matrix.recipe]
    for picker in pickers:
        blocks.load(handlers.choices, outputs=[picker], api_visibility="private")
    panel.recipe.change(
        handlers.pick, inputs=[panel.recipe], outputs=[panel.text, *panel.slots, panel.example],
        api_visibility="private"
    )
    panel.set_example.click(handlers.set_example, inputs=[panel.recipe, current], outputs=[panel.example],
                            api_visibility="private")
    panel.use.click(
        handlers.use,
        inputs=[panel.recipe, *panel.slots],
        outputs=[form.prompt, form.model, form.size, form.enhance, panel.recipe],
        api_visibility="private",
    )
    saved = panel.save.click(
        handlers.save_from_form,
        inputs=[panel.name, panel.shared, form.prompt, form.model, form.size, form.enhance],
        outputs=[panel.name, panel.recipe],
        api_visibility="private",
    )
    deleted = panel.delete.click(handlers.delete_picked, inputs=[panel.recipe], outputs=[panel.recipe],
                                 api_visibility="private")
    panel.export.click(handlers.export_file, outputs=[panel.export], api_visibility="private")
    imported = panel.upload.upload(handlers.import_file, inputs=[panel.upload], outputs=[panel.recipe],
                                   api_visibility="private")
    for changed in (saved, deleted, imported):  # the Matrix tab's picker lists the library as it is now
        changed.success(handlers.choices, outputs=[matrix.recipe], api_visibility="private")

    matrix.recipe.change(
        handlers.slot_template, inputs=[matrix.recipe, matrix.slot_values], outputs=[matrix.slot_values],
        api_visibility="private"
    )
    gr.on(
        [c.change for c in matrix.form.values()],
        handlers.count_line,
        inputs_kwargs=matrix.form,
        outputs=[matrix.count],
        show_progress="hidden",
        api_visibility="private",
        trigger_mode="always_last",  # a change made while the count runs is counted too, never dropped
        queue=False,
    )
    assert handlers.jobs is not None, "LibraryHandlers.jobs is set by create_app"  # Generate's Stop and waiting state
    wire_grid_run(matrix, handlers.run_matrix, [form.seed, shared.tz], matrix.form, handlers.jobs.stop,
                  concurrency, refresh_recent)

    for fn, name in (
        (handlers.recipes, "recipes"),
        (handlers.save_recipe, "recipe_save"),
        (handlers.delete_recipe, "recipe_delete"),
        (handlers.fill_recipe, "recipe_fill"),
        (handlers.export_recipes, "recipes_export"),
        (handlers.import_recipes, "recipes_import"),
    ):
        gr.api(fn, api_name=name)
    gr.api(handlers.matrix, api_name="matrix", concurrency_limit=concurrency, concurrency_id=GENERATE)
