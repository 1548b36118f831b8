"""The Generate tab: the form, the result, batches, prompt tips, the recent gallery."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from ..generator import (
    DEFAULT_MODEL,
    DEFAULT_SIZE,
    EXAMPLE_PROMPT,
    IMAGE_SIZES,
    KNOWN_MODELS,
    MAX_BATCH,
    MAX_PROMPT_CHARS,
)
from ..handlers import GenerateHandlers
from .common import Form, T

EXAMPLES = [
    EXAMPLE_PROMPT,
    "a red fox curled up asleep in fresh snow, soft morning light, watercolor",
    "a cozy reading nook by a rainy window, warm lamp light, oil painting",
    "a lighthouse on a rocky coast at sunset, waves crashing, 35 mm photo",
]


@dataclass
class GenerateTab:
    form: Form
    random_seed: gr.Button
    reuse_seed: gr.Button
    count: gr.Slider
    random_each: gr.Checkbox
    generate: gr.Button
    stop: gr.Button
    api_trigger: gr.Button
    image: gr.Image
    info: gr.Markdown
    record: gr.JSON
    batch: gr.Gallery
    last_seed: gr.State
    tz: gr.Textbox


def build_form() -> Form:
    # lines=1 (drawn taller by CSS) makes Gradio submit on Enter and insert a newline
    # on Shift+Enter natively; a multi-line box would need a key-handling script.
    prompt = gr.Textbox(
        label=T("prompt"), placeholder=T("prompt_placeholder"), lines=1, max_lines=12,
        max_length=MAX_PROMPT_CHARS, elem_id="prompt", autofocus=True,
    )
    with gr.Accordion(T("help_title"), open=False, elem_id="prompt-help"):
        gr.Markdown(T("help_text"))
        gr.Examples([[e] for e in EXAMPLES], inputs=[prompt], label=T("examples"))
    model = gr.Dropdown(
        choices=list(KNOWN_MODELS), value=DEFAULT_MODEL, allow_custom_value=True,
        label=T("model"), info=T("model_info"), elem_id="model",
    )
    size = gr.Radio(
        choices=[(T(f"size_{s}"), s) for s in IMAGE_SIZES], value=DEFAULT_SIZE, label=T("size"), elem_id="size",
    )
    enhance = gr.Checkbox(value=False, label=T("enhance"), info=T("enhance_info"), elem_id="enhance")
    # precision=None: a fractional seed reaches validation (and a clear message) instead of being rounded
    seed = gr.Number(value=-1, precision=None, label=T("seed"), info=T("seed_info"), elem_id="seed")
    return Form(prompt, model, size, enhance, seed)


def build_generate_tab() -> GenerateTab:
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=300):
            form = build_form()
            with gr.Row():
                random_seed = gr.Button(T("random_seed"), size="sm", elem_id="random-seed")
                reuse_seed = gr.Button(T("reuse_seed"), size="sm", elem_id="reuse-seed")
            with gr.Accordion(T("batch"), open=False, elem_id="batch"):
                count = gr.Slider(1, MAX_BATCH, value=1, step=1, label=T("batch_count"), elem_id="batch-count")
                random_each = gr.Checkbox(False, label=T("batch_random"), elem_id="batch-random")
            with gr.Row():
                generate = gr.Button(T("generate"), variant="primary", size="lg", elem_id="generate", scale=3)
                stop = gr.Button(T("stop"), variant="stop", size="lg", elem_id="stop", scale=1)
            # The `/generate` API's own trigger: the page's button runs batches, the API one image.
            api_trigger = gr.Button(visible=False, elem_id="api-generate")
            # The browser's time zone (filled on load), to say when a daily limit resets.
            tz = gr.Textbox(visible=False, elem_id="tz")
        with gr.Column(scale=3, min_width=300):
            image = gr.Image(
                label=T("result"), type="filepath", format="png", interactive=False, elem_id="result", height=520,
            )
            info = gr.Markdown(elem_id="result-info")
            batch = gr.Gallery(
                label=T("batch_results"), columns=4, height="auto", object_fit="cover", allow_preview=True,
                interactive=False, visible=False, elem_id="batch-results", elem_classes=["thumbs"],
            )
            with gr.Accordion(T("details"), open=False):
                record = gr.JSON(label=T("details"), elem_id="record")
    return GenerateTab(form, random_seed, reuse_seed, count, random_each, generate, stop, api_trigger,
                       image, info, record, batch, gr.State(None), tz)


def _batch_visibility(count: float) -> gr.Gallery:
    """The batch gallery only takes room when a click makes more than one image."""
    return gr.Gallery(visible=(count or 1) > 1)


def wire_generate_tab(tab: GenerateTab, handlers: GenerateHandlers, recent: gr.Gallery, recent_ids: gr.State,
                      concurrency: int) -> gr.events.Dependency:
    """Events of the tab; returns the page's generation event (others chain onto it)."""
    form = tab.form
    tab.api_trigger.click(
        handlers.generate, inputs=form.fields, outputs=[tab.image, tab.record], api_name="generate",
        concurrency_limit=concurrency, concurrency_id="generate",
    )
    run = gr.on(
        [tab.generate.click, form.prompt.submit],
        handlers.run,
        inputs=[*form.fields, tab.count, tab.random_each, tab.tz],
        outputs=[tab.image, tab.record, tab.info, tab.batch],
        api_visibility="private",
        concurrency_limit=concurrency,
        concurrency_id="generate",
        show_progress="full",
        trigger_mode="once",
    )
    tab.stop.click(None, cancels=[run], api_visibility="private")
    # Whatever happened (even a cancelled or failed batch), refresh what was saved.
    run.then(handlers.last_seed, inputs=[tab.record, tab.last_seed], outputs=[tab.last_seed],
             api_visibility="private")
    run.then(handlers.recent, outputs=[recent, recent_ids], api_visibility="private", queue=False)
    tab.count.change(_batch_visibility, inputs=[tab.count], outputs=[tab.batch], api_visibility="private",
                     queue=False)
    tab.random_seed.click(handlers.random_seed, outputs=[form.seed], api_visibility="private")
    tab.reuse_seed.click(handlers.reuse_seed, inputs=[tab.last_seed, form.seed], outputs=[form.seed],
                         api_visibility="private")
    return run
