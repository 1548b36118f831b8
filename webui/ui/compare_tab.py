"""The Compare tab: one prompt and seed across models, sizes or enhancement, as a labelled grid."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..generator import IMAGE_SIZES, KNOWN_MODELS
from ..handlers import GenerateHandlers
from .common import Shared, T, wire_grid_run


@dataclass
class CompareTab:
    prompt: gr.Markdown
    models: gr.Dropdown
    sizes: gr.CheckboxGroup
    enhancement_both: gr.Checkbox
    plan: gr.HTML
    run: gr.Button
    stop: gr.Button
    status: gr.HTML
    retry: gr.Button
    grid: gr.HTML


def build_compare_tab() -> CompareTab:
    gr.Markdown(T("compare_intro"))
    prompt = gr.Markdown(elem_id="compare-prompt")
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
    plan = gr.HTML(elem_id="compare-plan")
    with gr.Row(equal_height=True, elem_id="compare-actions"):
        run = gr.Button(T("compare_run"), variant="primary", elem_id="compare-run", scale=3)
        stop = gr.Button(T("stop"), variant="stop", elem_id="compare-stop", scale=1, interactive=False)
    status = gr.HTML(elem_id="compare-status")
    retry = gr.Button(T("try_again"), visible=False, size="sm", elem_id="compare-retry")
    # A table, not a gallery: a column per model and a row per size, with headers.
    grid = gr.HTML(elem_id="compare-grid")
    return CompareTab(prompt, models, sizes, enhancement_both, plan, run, stop, status, retry, grid)


def wire_compare_tab(tab: CompareTab, handlers: GenerateHandlers, shared: Shared, compare_tab: gr.Tab,
                     concurrency: int, refresh_recent: dict) -> None:
    private: dict[str, Any] = {"api_visibility": "private"}
    form = shared.form
    gr.on(
        [compare_tab.select, tab.models.change, tab.sizes.change, tab.enhancement_both.change],
        handlers.compare_plan, inputs=[form.prompt, tab.models, tab.sizes, tab.enhancement_both],
        outputs=[tab.prompt, tab.plan], **private,
    )
    wire_grid_run(tab, handlers.compare, [tab.models, tab.sizes, tab.enhancement_both, shared.tz], form.named,
                  handlers.stop, concurrency, refresh_recent)
