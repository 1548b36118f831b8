"""The History tab: search and filter every saved image, then reuse, vary or delete one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..handlers import CurationHandlers, HistoryHandlers
from .common import Shared, T
from .curate import CurateControls, ExportControls, build_curate_controls, build_export_controls, wire_curate_controls


@dataclass
class HistoryTab:
    query: gr.Textbox
    model: gr.Dropdown
    size: gr.Dropdown
    mine: gr.Checkbox
    by_user: gr.Dropdown
    gallery: gr.Gallery
    ids: gr.State
    page_no: gr.State
    page_label: gr.Markdown
    prev: gr.Button
    next: gr.Button
    image: gr.Image
    record: gr.JSON
    where: gr.Markdown
    selected: gr.State
    reuse: gr.Button
    variation: gr.Button
    delete: gr.Button
    confirm_row: gr.Row
    confirm: gr.Button
    cancel: gr.Button
    curate: CurateControls
    exports: ExportControls


def build_history_tab(logged_in: bool) -> HistoryTab:
    with gr.Row():
        query = gr.Textbox(label=T("search"), placeholder=T("search_placeholder"), scale=3, min_width=240,
                           elem_id="history-search")
        model = gr.Dropdown(choices=[(T("all_models"), "")], value="", label=T("filter_model"), scale=2,
                            elem_id="history-model")
        size = gr.Dropdown(choices=[(T("all_sizes"), "")], value="", label=T("filter_size"), scale=1,
                           elem_id="history-size")
        # "Mine" by default once people log in; the filters' event shows these to who may see all.
        mine = gr.Checkbox(logged_in, label=T("only_mine"), visible=False, scale=1, elem_id="history-mine")
        by_user = gr.Dropdown(choices=[(T("all_users"), "")], value="", label=T("filter_user"), visible=False,
                              scale=1, elem_id="history-user")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=300):
            gallery = gr.Gallery(
                label=T("tab_history"), columns=4, height="auto", object_fit="cover", allow_preview=False,
                interactive=False, elem_id="history-gallery", elem_classes=["thumbs"],
            )
            with gr.Row(equal_height=True):
                prev = gr.Button(T("prev"), size="sm", min_width=90, scale=1, elem_id="history-prev")
                page_label = gr.Markdown(elem_id="history-page")
                next_ = gr.Button(T("next"), size="sm", min_width=90, scale=1, elem_id="history-next")
            exports = build_export_controls()
        with gr.Column(scale=2, min_width=300):
            image = gr.Image(label=T("history_image"), type="filepath", format="png", interactive=False,
                             elem_id="history-image", height=420)
            where = gr.Markdown(elem_id="history-path")
            with gr.Row():
                reuse = gr.Button(T("reuse"), variant="primary", elem_id="reuse")
                variation = gr.Button(T("variation"), elem_id="variation")
                delete = gr.Button(T("delete"), variant="stop", elem_id="delete")
            with gr.Row(visible=False, elem_id="delete-confirm-row") as confirm_row:
                gr.Markdown(T("delete_question"))
                confirm = gr.Button(T("delete_confirm"), variant="stop", elem_id="delete-confirm")
                cancel = gr.Button(T("cancel"), elem_id="delete-cancel")
            curate = build_curate_controls()
            record = gr.JSON(label=T("history_details"), elem_id="history-record")
    return HistoryTab(query, model, size, mine, by_user, gallery, gr.State([]), gr.State(1), page_label, prev, next_,
                      image, record, where, gr.State(None), reuse, variation, delete, confirm_row, confirm, cancel,
                      curate, exports)


def wire_history_tab(tab: HistoryTab, handlers: HistoryHandlers, shared: Shared, history_tab: gr.Tab,
                     run_generation: dict, refresh_recent: dict, curation: CurationHandlers) -> None:
    """Search/filter/page events, selection, and the actions on the selected image."""
    listing = [tab.query, tab.model, tab.size, tab.mine, tab.by_user, tab.page_no]
    shown = [tab.gallery, tab.ids, tab.page_label, tab.page_no]
    private: dict[str, Any] = {"api_visibility": "private"}
    browse = {**private, "queue": False}  # reads answer at once, never behind generations in the queue

    def refresh(trigger_events: Any, first_page: bool = True) -> Any:
        """Re-list (from page 1 when the search changes); return the event to chain on."""
        if first_page:
            start = gr.on(trigger_events, handlers.first_page, outputs=[tab.page_no], **browse)
            return start.then(handlers.page, inputs=listing, outputs=shown, **browse)
        return gr.on(trigger_events, handlers.page, inputs=listing, outputs=shown, **browse)

    refresh([tab.query.submit, tab.model.change, tab.size.change, tab.mine.change, tab.by_user.change])
    history_tab.select(handlers.filters, outputs=[tab.model, tab.size, tab.by_user, tab.mine], **browse).then(
        handlers.page, inputs=listing, outputs=shown, **browse)
    tab.prev.click(lambda p: handlers.step(p, -1), inputs=[tab.page_no], outputs=[tab.page_no], **browse).then(
        handlers.page, inputs=listing, outputs=shown, **browse)
    tab.next.click(lambda p: handlers.step(p, +1), inputs=[tab.page_no], outputs=[tab.page_no], **browse).then(
        handlers.page, inputs=listing, outputs=shown, **browse)

    selecting = tab.gallery.select(handlers.select, inputs=[tab.ids],
                                   outputs=[tab.image, tab.record, tab.where, tab.selected], **browse)
    form = shared.form.fields
    tab.reuse.click(handlers.reuse, inputs=[tab.selected], outputs=[*form, shared.tabs], **private)
    tab.variation.click(handlers.variation, inputs=[tab.selected], outputs=[*form, shared.tabs], **private).success(
        **run_generation)
    tab.delete.click(handlers.ask_delete, inputs=[tab.selected], outputs=[tab.confirm_row], **private)
    tab.cancel.click(handlers.cancel_delete, outputs=[tab.confirm_row], **private)
    tab.confirm.click(
        handlers.delete, inputs=[tab.selected],
        outputs=[tab.confirm_row, tab.image, tab.record, tab.where, tab.selected], **private,
    ).success(handlers.page, inputs=listing, outputs=shown, **browse).then(**refresh_recent)
    wire_curate_controls(tab.curate, tab.exports, curation, tab.selected, tab.record, listing, selecting,
                         {"fn": handlers.page, "inputs": listing, "outputs": shown, **browse})
