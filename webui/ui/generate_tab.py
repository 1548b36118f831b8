"""The Generate tab: the form, the result, batches, prompt tips, the recent gallery."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..admission import GENERATE
from ..generator import (
    DEFAULT_MODEL,
    DEFAULT_SIZE,
    IMAGE_SIZES,
    KNOWN_MODELS,
    MAX_BATCH,
    MAX_PROMPT_CHARS,
)
from ..handlers import GenerateHandlers
from .common import Form, T

EXAMPLE_COUNT = 4  # example prompts, in the visitor's language (i18n "example_N")
NO_SHARE: list[Any] = ["download", "fullscreen"]  # Gradio's Share button only works on Hugging Face Spaces


@dataclass
class GenerateTab:
    form: Form
    examples: list[gr.Button]
    random_seed: gr.Button
    reuse_seed: gr.Button
    count: gr.Slider
    random_each: gr.Checkbox
    plan: gr.HTML
    generate: gr.Button
    stop: gr.Button
    quota: gr.Markdown
    api_trigger: gr.Button
    image: gr.Image
    status: gr.HTML
    retry: gr.Button
    info: gr.Markdown
    card: gr.HTML
    record: gr.JSON
    batch: gr.Gallery
    last_seed: gr.State
    again: gr.State
    tz: gr.Textbox


def build_prompt() -> gr.Textbox:
    # lines=1 (drawn taller by CSS) makes Gradio submit on Enter and insert a newline
    # on Shift+Enter natively; a multi-line box would need a key-handling script.
    return gr.Textbox(
        label=T("prompt"), placeholder=T("prompt_placeholder"), lines=1, max_lines=12,
        max_length=MAX_PROMPT_CHARS, elem_id="prompt", autofocus=True,
    )


def build_settings(prompt: gr.Textbox) -> Form:
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
            prompt = build_prompt()
            # Generate and Stop sit right under the prompt (sticky at the bottom on a phone).
            with gr.Row(elem_id="actions", equal_height=True):
                generate = gr.Button(T("generate"), variant="primary", size="lg", elem_id="generate", scale=3)
                stop = gr.Button(T("stop"), variant="stop", size="lg", elem_id="stop", scale=1, interactive=False)
            quota = gr.Markdown(visible=False, elem_id="quota")
            form = build_settings(prompt)
            with gr.Row():
                random_seed = gr.Button(T("random_seed"), size="sm", elem_id="random-seed")
                reuse_seed = gr.Button(T("reuse_seed"), size="sm", elem_id="reuse-seed", interactive=False)
            with gr.Accordion(T("batch"), open=False, elem_id="batch"):
                count = gr.Slider(1, MAX_BATCH, value=1, step=1, label=T("batch_count"), elem_id="batch-count")
                random_each = gr.Checkbox(False, label=T("batch_random"), elem_id="batch-random")
                plan = gr.HTML(elem_id="batch-plan")
            with gr.Accordion(T("help_title"), open=False, elem_id="prompt-help"):
                gr.Markdown(T("help_text"))
                gr.Markdown(T("examples"))
                with gr.Row(elem_id="examples"):
                    examples = [gr.Button(T(f"example_{i}_title"), size="sm", elem_id=f"example-{i}")
                                for i in range(1, EXAMPLE_COUNT + 1)]
            # The `/generate` API's own trigger: the page's button runs batches, the API one image.
            api_trigger = gr.Button(visible=False, elem_id="api-generate")
            # The browser's time zone (filled on load), to say when a daily limit resets.
            tz = gr.Textbox(visible=False, elem_id="tz")
        with gr.Column(scale=3, min_width=300):
            image = gr.Image(
                label=T("result"), type="filepath", format="png", interactive=False, elem_id="result", height=440,
                buttons=NO_SHARE,
            )
            status = gr.HTML(elem_id="status")
            retry = gr.Button(T("try_again"), visible=False, size="sm", elem_id="retry")
            info = gr.Markdown(elem_id="result-info")
            batch = gr.Gallery(
                label=T("batch_results"), columns=4, height="auto", object_fit="cover", allow_preview=True,
                interactive=False, visible=False, elem_id="batch-results", elem_classes=["thumbs"], buttons=NO_SHARE,
            )
            with gr.Accordion(T("details"), open=False, elem_id="details"):
                card = gr.HTML(elem_id="card")
                with gr.Accordion(T("technical_details"), open=False):
                    record = gr.JSON(label=T("technical_details"), elem_id="record")
    return GenerateTab(form, examples, random_seed, reuse_seed, count, random_each, plan, generate, stop, quota,
                       api_trigger, image, status, retry, info, card, record, batch, gr.State(None), gr.State(0), tz)


def _batch_visibility(count: float) -> gr.Gallery:
    """The batch gallery only takes room when a click makes more than one image."""
    return gr.Gallery(visible=(count or 1) > 1)


# On a phone the result sits below the form: bring it into view when a job starts.
_SHOW_RESULT = "() => { if (window.innerWidth < 640) document.getElementById('result')?.scrollIntoView({block: 'start', behavior: 'instant'}); }"


def wire_generate_tab(tab: GenerateTab, handlers: GenerateHandlers, recent: gr.Gallery, recent_ids: gr.State,
                      concurrency: int) -> gr.events.Dependency:
    """Events of the tab. The page's ONE generation event is declared here: Generate,
    Enter, Try again and Variation (through `again`) all trigger it, so every run gets
    the same waiting state, Stop, Recent refresh and last seed."""
    form = tab.form
    private: dict[str, Any] = {"api_visibility": "private"}
    tab.api_trigger.click(
        handlers.generate, inputs=form.fields, outputs=[tab.image, tab.record], api_name="generate",
        concurrency_limit=concurrency, concurrency_id=GENERATE,
    )
    triggers = [tab.generate.click, form.prompt.submit, tab.retry.click, tab.again.change]
    gr.on(triggers, None, js=_SHOW_RESULT, **private)
    run = gr.on(
        triggers,
        handlers.run,
        inputs=[tab.count, tab.random_each, tab.tz],
        inputs_kwargs=form.named,
        outputs=[tab.image, tab.record, tab.card, tab.info, tab.batch, tab.status, tab.stop, tab.retry],
        concurrency_limit=concurrency,
        concurrency_id=GENERATE,
        show_progress="hidden",
        trigger_mode="once",
        **private,
    )
    # Stop is cooperative (not Gradio's cancel): what reached the API still lands and shows.
    tab.stop.click(handlers.stop, outputs=[tab.status, tab.stop], queue=False, **private)
    # Whatever happened (even a stopped or failed batch), refresh what was saved.
    run.then(handlers.last_seed, inputs=[tab.record, tab.last_seed], outputs=[tab.last_seed, tab.reuse_seed],
             **private).then(handlers.recent, outputs=[recent, recent_ids], queue=False, **private).then(
        handlers.quota, outputs=[tab.quota], **private)
    gr.on([tab.count.change], _batch_visibility, inputs=[tab.count], outputs=[tab.batch], queue=False, **private)
    gr.on([tab.count.change], handlers.plan, inputs=[tab.count], outputs=[tab.plan], **private)
    tab.random_seed.click(handlers.random_seed, outputs=[form.seed], queue=False, **private)
    tab.reuse_seed.click(handlers.reuse_seed, inputs=[tab.last_seed, form.seed], outputs=[form.seed], queue=False,
                         **private)
    for number, button in enumerate(tab.examples, start=1):
        button.click(handlers.example(number), outputs=[form.prompt], queue=False, **private)
    return run
