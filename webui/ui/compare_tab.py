"""The Compare tab: one prompt and seed across models, sizes or enhancement, side by side."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from ..generator import IMAGE_SIZES, KNOWN_MODELS
from ..handlers import GenerateHandlers
from .common import Shared, T


@dataclass
class CompareTab:
    models: gr.Dropdown
    sizes: gr.CheckboxGroup
    enhancement_both: gr.Checkbox
    run: gr.Button
    grid: gr.Gallery


def build_compare_tab() -> CompareTab:
    gr.Markdown(T("compare_intro"))
    with gr.Row():
        models = gr.Dropdown(
            choices=list(KNOWN_MODELS), value=list(KNOWN_MODELS), multiselect=True, allow_custom_value=True,
            label=T("compare_models"), scale=2, elem_id="compare-models",
        )
        sizes = gr.CheckboxGroup(
            choices=[(T(f"size_{s}"), s) for s in IMAGE_SIZES], value=[], label=T("compare_sizes"), scale=3,
            elem_id="compare-sizes",
        )
    enhancement_both = gr.Checkbox(False, label=T("compare_enhance"), elem_id="compare-enhance")
    run = gr.Button(T("compare_run"), variant="primary", elem_id="compare-run")
    grid = gr.Gallery(
        label=T("compare_grid"), columns=4, height="auto", object_fit="contain", allow_preview=True,
        interactive=False, elem_id="compare-grid",
    )
    return CompareTab(models, sizes, enhancement_both, run, grid)


def wire_compare_tab(tab: CompareTab, handlers: GenerateHandlers, shared: Shared, tz: gr.Textbox,
                     concurrency: int, refresh_recent: dict) -> None:
    tab.run.click(
        handlers.compare,
        inputs=[*shared.form.fields, tab.models, tab.sizes, tab.enhancement_both, tz],
        outputs=[tab.grid],
        api_visibility="private",
        concurrency_limit=concurrency,
        concurrency_id="generate",
        trigger_mode="once",
    ).then(**refresh_recent)
