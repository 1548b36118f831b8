"""Endpoints with no control of their own on the page: the curating actions for scripts and MCP.

Most are `gr.api` functions (typed by their hints, documented by their docstrings).
`/export` and `/png_info` move files, so they are events on hidden components: a
`gr.File` output is served and downloaded by `gradio_client`, a `gr.File` input is
uploaded by it.
"""

from __future__ import annotations

import gradio as gr

from ..admission import GENERATE
from ..handlers.curation import CurationHandlers


def typed(component: gr.JSON, schema: dict) -> gr.JSON:
    """A hidden gr.JSON input that declares a real JSON Schema for the API and MCP.

    Gradio's own (`{"type": {}}`) is not valid JSON Schema: MCP clients refused every
    call of the `export` tool with it. (A subclass would make Gradio write a `.pyi`
    beside this file, so the instance's method is replaced.)
    """
    component.api_info = lambda: schema  # type: ignore[method-assign]
    return component


def wire_api(handlers: CurationHandlers, concurrency: int) -> None:
    """Declare every curating endpoint once; call inside the Blocks."""
    for fn, name in (
        (handlers.mark, "mark"), (handlers.board, "board"), (handlers.boards, "boards"),
        (handlers.board_edit, "board_edit"), (handlers.board_delete, "board_delete"), (handlers.bulk, "bulk"),
        (handlers.delete, "delete"), (handlers.restore, "restore"), (handlers.trash, "trash"),
        (handlers.searches, "searches"), (handlers.search_save, "search_save"),
        (handlers.search_delete, "search_delete"),
    ):
        gr.api(fn, api_name=name)
    for generating, name in ((handlers.batch, "batch"), (handlers.compare, "compare")):
        gr.api(generating, api_name=name, concurrency_limit=concurrency, concurrency_id=GENERATE)
    with gr.Group(visible=False):
        query = gr.Textbox(label="query")
        record_ids = typed(gr.JSON(label="record_ids"), {"type": "array", "items": {"type": "string"}})
        # JSON, not Checkbox: a Checkbox's None becomes False, and a script that leaves the
        # argument out must get the app's --visible-label default (null), not "no".
        visible_label = typed(gr.JSON(None, label="visible_label"), {"anyOf": [{"type": "boolean"}, {"type": "null"}]})
        pack = gr.File(label="share pack")
        image = gr.File(label="file", type="filepath")
        info = gr.JSON(label="png info")
    gr.on([], handlers.export, inputs=[query, record_ids, visible_label], outputs=[pack], api_name="export",
          api_description=handlers.export.__doc__)
    gr.on([], handlers.png_info, inputs=[image], outputs=[info], api_name="png_info",
          api_description=handlers.png_info.__doc__)
