"""The PNG Info tab: drop any PNG, JPEG or WebP, read its settings and labels, send them to Generate."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from ..handlers import PngInfoHandlers
from .common import Shared, T


@dataclass
class PngInfoTab:
    file: gr.File
    summary: gr.Markdown
    card: gr.HTML
    parameters: gr.Textbox
    json: gr.Code
    chunks: gr.JSON
    download: gr.File
    fields: gr.State
    send: gr.Button
    image: gr.Image


def build_pnginfo_tab() -> PngInfoTab:
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=300):
            # gr.File, not gr.Image: an image component would re-encode the upload and drop its chunks.
            file = gr.File(label=T("pnginfo_file"), file_types=[".png", ".jpg", ".jpeg", ".webp"], type="filepath", elem_id="pnginfo-file")
            send = gr.Button(T("pnginfo_send"), variant="primary", elem_id="pnginfo-send")
            # What was dropped, for the eye only (the settings are read from the file itself).
            image = gr.Image(label=T("pnginfo_image"), type="filepath", interactive=False, height=280,
                             buttons=["fullscreen"], elem_id="pnginfo-image")
        with gr.Column(scale=3, min_width=300):
            summary = gr.Markdown(elem_id="pnginfo-summary")
            # The settings as Details and History show them (escaped by card.settings_card).
            settings = gr.HTML(elem_id="pnginfo-card")
            # The raw data, for who wants it. Text boxes and code views, never Markdown/HTML: a dropped
            # file's text is data.
            with gr.Accordion(T("technical_details"), open=False, elem_id="pnginfo-technical"):
                parameters = gr.Textbox(label=T("pnginfo_parameters"), lines=4, max_lines=20, interactive=False,
                                        buttons=["copy"], elem_id="pnginfo-parameters")
                json_view = gr.Code(label=T("pnginfo_json"), language="json", interactive=False, wrap_lines=True,
                                    elem_id="pnginfo-json")
                chunks = gr.JSON(label=T("pnginfo_chunks"), elem_id="pnginfo-chunks")
                download = gr.File(label=T("pnginfo_download"), visible=False, interactive=False,
                                   elem_id="pnginfo-download")
    return PngInfoTab(file, summary, settings, parameters, json_view, chunks, download, gr.State(None), send, image)


def wire_pnginfo_tab(tab: PngInfoTab, handlers: PngInfoHandlers, shared: Shared) -> None:
    tab.file.change(
        handlers.inspect, inputs=[tab.file, shared.tz],
        outputs=[tab.summary, tab.parameters, tab.json, tab.chunks, tab.fields, tab.download, tab.card],
        api_visibility="private", show_progress="hidden",
    )
    tab.file.change(handlers.preview, inputs=[tab.file], outputs=[tab.image], api_visibility="private",
                    show_progress="hidden")
    tab.send.click(handlers.send, inputs=[tab.fields], outputs=[*shared.form.fields, shared.tabs],
                   api_visibility="private")
