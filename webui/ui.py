"""The page: Gradio Blocks layout and event wiring. No HTTP, no file I/O here.

Builders are small functions that each make one part of the page and return its
components; `build_ui` wires them to the `Handlers`.
"""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from . import i18n
from .generator import DEFAULT_MODEL, DEFAULT_SIZE, EXAMPLE_PROMPT, IMAGE_SIZES, KNOWN_MODELS, MAX_PROMPT_CHARS
from .handlers import Handlers

T = gr.I18n(**{lang: dict(table) for lang, table in i18n.LABELS.items()})

CSS = """
#prompt textarea { min-height: 5.5em; }
#result img { object-fit: contain; }
#result-info code { overflow-wrap: anywhere; white-space: normal; }
#gallery .grid-container { grid-template-columns: repeat(auto-fill, minmax(min(160px, 30%), 1fr)) !important; }
#gallery .grid-wrap.fixed-height { min-height: 0; }
#banner { border-radius: 8px; padding: 0.25rem 0.75rem; }
#banner.demo { background: var(--color-accent-soft); }
"""


@dataclass
class Form:
    prompt: gr.Textbox
    model: gr.Dropdown
    size: gr.Radio
    enhance: gr.Checkbox
    seed: gr.Number
    random_seed: gr.Button
    reuse_seed: gr.Button
    generate: gr.Button

    @property
    def inputs(self) -> list[gr.components.Component]:
        return [self.prompt, self.model, self.size, self.enhance, self.seed]


@dataclass
class Output:
    image: gr.Image
    info: gr.Markdown
    record: gr.JSON


def build_banner(demo_mode: bool, api_base: str) -> gr.Markdown:
    if demo_mode:
        return gr.Markdown(T("demo_banner"), elem_id="banner", elem_classes=["demo"])
    # The base URL is not secret; the key never reaches the page.
    with gr.Row():
        banner = gr.Markdown(T("live_banner"), elem_id="banner")
        gr.Markdown(f"`{api_base}`", elem_id="api-base")
    return banner


def build_form() -> Form:
    # lines=1 (drawn taller by CSS) is what makes Gradio submit on Enter and insert a
    # newline on Shift+Enter natively; a multi-line box would need a key-handling script.
    prompt = gr.Textbox(
        label=T("prompt"),
        placeholder=T("prompt_placeholder"),
        lines=1,
        max_lines=12,
        max_length=MAX_PROMPT_CHARS,
        elem_id="prompt",
        autofocus=True,
    )
    gr.Examples([[EXAMPLE_PROMPT]], inputs=[prompt], label=T("examples"))
    model = gr.Dropdown(
        choices=list(KNOWN_MODELS),
        value=DEFAULT_MODEL,
        allow_custom_value=True,
        label=T("model"),
        info=T("model_info"),
        elem_id="model",
    )
    size = gr.Radio(
        choices=[(T(f"size_{s}"), s) for s in IMAGE_SIZES],
        value=DEFAULT_SIZE,
        label=T("size"),
        elem_id="size",
    )
    enhance = gr.Checkbox(value=False, label=T("enhance"), info=T("enhance_info"), elem_id="enhance")
    with gr.Row(equal_height=True):
        seed = gr.Number(value=-1, precision=None, label=T("seed"), info=T("seed_info"), elem_id="seed", scale=3)
        with gr.Column(scale=2, min_width=120):
            random_seed = gr.Button(T("random_seed"), size="sm", elem_id="random-seed")
            reuse_seed = gr.Button(T("reuse_seed"), size="sm", elem_id="reuse-seed")
    generate = gr.Button(T("generate"), variant="primary", size="lg", elem_id="generate")
    return Form(prompt, model, size, enhance, seed, random_seed, reuse_seed, generate)


def build_output() -> Output:
    image = gr.Image(
        label=T("result"),
        type="filepath",
        format="png",
        interactive=False,
        elem_id="result",
        height=520,
    )
    info = gr.Markdown(elem_id="result-info")
    with gr.Accordion(T("details"), open=False):
        record = gr.JSON(label=T("details"), elem_id="record")
    return Output(image, info, record)


def build_gallery() -> gr.Gallery:
    return gr.Gallery(
        label=T("history"),
        columns=6,
        fit_columns=False,
        height="auto",
        object_fit="cover",
        allow_preview=False,
        interactive=False,
        elem_id="gallery",
    )


def wire_generation(handlers: Handlers, form: Form, out: Output, gallery: gr.Gallery,
                    gallery_ids: gr.State, last_seed: gr.State, concurrency: int) -> None:
    """Button and Enter both call /generate; follow-ups are page-only (private) events."""
    generated = gr.on(
        [form.generate.click, form.prompt.submit],
        handlers.generate,
        inputs=form.inputs,
        outputs=[out.image, out.record],
        api_name="generate",
        concurrency_limit=concurrency,
        concurrency_id="generate",
        show_progress="full",
    )
    after = generated.success(
        handlers.info_line, inputs=[out.record], outputs=[out.info], api_visibility="private"
    )
    after.then(handlers.last_seed, inputs=[out.record, last_seed], outputs=[last_seed],
               api_visibility="private")
    after.then(handlers.gallery, outputs=[gallery, gallery_ids], api_visibility="private")
    form.random_seed.click(handlers.random_seed, outputs=[form.seed], api_visibility="private")
    form.reuse_seed.click(handlers.reuse_seed, inputs=[last_seed, form.seed], outputs=[form.seed],
                          api_visibility="private")


def build_ui(handlers: Handlers, *, demo_mode: bool, api_base: str, concurrency: int) -> gr.Blocks:
    """The whole page; `/generate` and `/history` are its public API."""
    with gr.Blocks(title="YUNYX text to image", analytics_enabled=False) as blocks:
        gr.Markdown(T("subtitle"))
        build_banner(demo_mode, api_base)
        last_seed = gr.State(None)
        gallery_ids = gr.State([])
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=320):
                form = build_form()
            with gr.Column(scale=3, min_width=320):
                out = build_output()
        gallery = build_gallery()
        wire_generation(handlers, form, out, gallery, gallery_ids, last_seed, concurrency)
        gallery.select(handlers.select_from_gallery, inputs=[gallery_ids],
                       outputs=[out.image, out.record, out.info], api_visibility="private")
        blocks.load(handlers.gallery, outputs=[gallery, gallery_ids], api_visibility="private")
        gr.api(handlers.history, api_name="history")
    return blocks
