"""The page: Gradio Blocks layout and event wiring. No HTTP, no file I/O here.

Each tab has a small builder (components) and a wiring function (events); they
share one Generate form, the tab strip and the recent gallery (`Shared`).
`/generate` and `/history` are the page's public API.
"""

from __future__ import annotations

import gradio as gr

from ..handlers import Handlers
from ..handlers.common import whoami
from . import picking
from .api import wire_api
from .common import CSS as _CSS
from .common import HEAD as _HEAD
from .common import Shared, T
from .compare_tab import build_compare_tab, wire_compare_tab
from .generate_tab import build_generate_tab, wire_generate_tab
from .history_tab import build_history_tab, wire_history_tab
from .library_tab import build_library_panel, build_matrix_tab, wire_library
from .pnginfo_tab import build_pnginfo_tab, wire_pnginfo_tab
from .usage_tab import build_usage_tab, wire_usage_tab

__all__ = ["CSS", "HEAD", "T", "build_ui"]

HEAD = _HEAD + picking.HEAD
CSS = _CSS + picking.CSS


def build_banner(demo_mode: bool, api_base: str) -> gr.blocks.Block:
    """One line saying demo or live; setup details fold out, for whoever runs the app only.

    Returns the part only the operator may see (shown by a load event)."""
    with gr.Row(elem_id="banner-row", equal_height=True):
        if demo_mode:
            gr.Markdown(T("demo_banner"), elem_id="banner", elem_classes=["demo"])
            # a Column: an Accordion can't be an event's output
            with gr.Column(visible=False, scale=0, min_width=320, elem_id="demo-howto") as howto:
                with gr.Accordion(T("demo_howto_title"), open=False):
                    gr.Markdown(T("demo_howto"))
            return howto
        # The base URL is not secret; the key never reaches the page.
        gr.Markdown(T("live_banner"), elem_id="banner")
        return gr.Markdown(f"`{api_base}`", elem_id="api-base", visible=False)


def build_recent() -> tuple[gr.Gallery, gr.State]:
    gallery = gr.Gallery(
        label=T("recent"), columns=6, height="auto", object_fit="cover", allow_preview=False,
        interactive=False, elem_id="gallery", elem_classes=["thumbs"], buttons=[],
    )
    return gallery, gr.State([])


def build_ui(
    handlers: Handlers, *, demo_mode: bool, api_base: str, concurrency: int, logged_in: bool = False
) -> gr.Blocks:
    with gr.Blocks(title="YUNYX text to image", analytics_enabled=False) as blocks:
        with gr.Row(equal_height=True, elem_id="header"):
            gr.Markdown(T("heading"), elem_id="heading")
            gr.Markdown(T("subtitle"), elem_id="subtitle")
            if logged_in:
                who = gr.Markdown(elem_id="whoami")
                gr.Button(T("logout"), link="logout", size="sm", scale=0, min_width=100, elem_id="logout")
        operator_only = build_banner(demo_mode, api_base)
        # "wrap": every tab stays reachable on a phone (never hidden behind a "•••" menu)
        with gr.Tabs(selected="generate", elem_id="tabs", overflow_behavior="wrap") as tabs:
            with gr.Tab(T("tab_generate"), id="generate", elem_id="tab-generate"):
                generate = build_generate_tab()
                library = build_library_panel()
                recent, recent_ids = build_recent()
            with gr.Tab(T("tab_history"), id="history", elem_id="tab-history") as history_tab:
                history = build_history_tab(logged_in)
            with gr.Tab(T("tab_compare"), id="compare", elem_id="tab-compare") as compare_tab:
                compare = build_compare_tab()
            with gr.Tab(T("tab_matrix"), id="matrix", elem_id="tab-matrix"):
                matrix = build_matrix_tab()
            with gr.Tab(T("tab_pnginfo"), id="pnginfo", elem_id="tab-pnginfo"):
                pnginfo = build_pnginfo_tab()
            with gr.Tab(T("tab_usage"), id="usage", elem_id="tab-usage", visible=False) as usage_tab:
                usage_refresh, usage_table = build_usage_tab()
        shared = Shared(generate.form, tabs, recent, recent_ids, generate.again, generate.tz)
        wire_api(handlers.curation, concurrency)  # first: the public names before page events take them

        wire_generate_tab(generate, handlers.generate, recent, recent_ids, concurrency)
        refresh_recent = {"fn": handlers.generate.recent, "outputs": [recent, recent_ids],
                          "api_visibility": "private", "queue": False}
        wire_history_tab(history, handlers.history, shared, history_tab, refresh_recent, handlers.curation)
        wire_compare_tab(compare, handlers.generate, shared, compare_tab, concurrency, refresh_recent)
        wire_pnginfo_tab(pnginfo, handlers.pnginfo, shared)
        wire_library(library, matrix, handlers.library, shared, blocks, concurrency, refresh_recent, generate.record)
        wire_usage_tab(usage_tab, usage_refresh, usage_table, handlers.usage, blocks)
        recent.select(handlers.generate.show_recent, inputs=[recent_ids, generate.tz],
                      outputs=[generate.image, generate.record, generate.card, generate.info, generate.status],
                      api_visibility="private").then(None, js=_SHOW_PICTURE)
        blocks.load(**refresh_recent)
        blocks.load(handlers.generate.quota, outputs=[generate.quota], api_visibility="private")

        def show_operator_parts(request: gr.Request) -> dict:
            return gr.update(visible=handlers.generate.is_operator(request))

        blocks.load(show_operator_parts, outputs=operator_only, api_visibility="private", queue=False)
        if logged_in:
            blocks.load(whoami, outputs=[who], api_visibility="private")
        blocks.load(None, js="() => Intl.DateTimeFormat().resolvedOptions().timeZone", outputs=[generate.tz],
                    api_visibility="private")
        # reads never wait for a slot: no concurrency cap, and their own group (not GENERATE)
        gr.api(handlers.history.history, api_name="history", concurrency_limit=None, concurrency_id="browse")
    return blocks


# A picked thumbnail is shown in #result: on a phone that is far up, so scroll to it.
_SHOW_PICTURE = "() => document.getElementById('result')?.scrollIntoView({block: 'start', behavior: 'instant'})"
