"""The Usage tab (admin only): who made how many images, with which model, how fast."""

from __future__ import annotations

import gradio as gr

from ..handlers.usage import UsageHandlers
from .common import T


def build_usage_tab() -> tuple[gr.Button, gr.Dataframe]:
    gr.Markdown(T("usage_intro"))
    refresh = gr.Button(T("usage_refresh"), size="sm", elem_id="usage-refresh")
    # datatype "str"/"number": names are data, rendered as text (never Markdown or HTML)
    table = gr.Dataframe(
        headers=["", "", "", "", ""],  # filled in the admin's language on first show
        datatype=["str", "str", "str", "number", "number"], interactive=False, elem_id="usage-table",
    )
    return refresh, table


def wire_usage_tab(tab: gr.Tab, refresh: gr.Button, table: gr.Dataframe, handlers: UsageHandlers,
                   blocks: gr.Blocks) -> None:
    blocks.load(handlers.visible, outputs=[tab], api_visibility="private")
    gr.on([tab.select, refresh.click], handlers.table, outputs=[table], api_visibility="private")
