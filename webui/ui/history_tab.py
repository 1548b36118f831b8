"""The History tab: search and filter every saved image, then reuse, vary or delete one;
deleted images wait in the Trash view (`#trash`) until restored or the trash is emptied."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..handlers import CurationHandlers, HistoryHandlers
from .common import Shared, T
from .curate import CurateControls, ExportControls, build_curate_controls, build_export_controls, wire_curate_controls
from .picking import (
    CLEAR_PICKS,
    PickControls,
    SearchHelpers,
    build_pick_controls,
    build_search_helpers,
    wire_picks,
    wire_search_helpers,
)

# Search as you type: wait this long after the last key before searching.
DEBOUNCE_MS = 350
# Each keystroke's search starts after the pause; with trigger_mode "always_last" the
# keystrokes made meanwhile collapse into one more search, of what is typed by then.
_DEBOUNCE = "(...args) => new Promise((resolve) => setTimeout(() => resolve(args), %d))" % DEBOUNCE_MS


@dataclass
class HistoryTab:
    query: gr.Textbox
    model: gr.Dropdown
    size: gr.Dropdown
    mine: gr.Checkbox
    by_user: gr.Dropdown
    empty: gr.Markdown
    clear: gr.Button
    gallery: gr.Gallery
    ids: gr.State
    page_no: gr.State
    page_label: gr.Markdown
    prev: gr.Button
    next: gr.Button
    image: gr.Image
    card: gr.HTML
    record: gr.JSON
    where: gr.Markdown
    selected: gr.State
    reuse: gr.Button
    variation: gr.Button
    delete: gr.Button
    confirm_row: gr.Row
    confirm: gr.Button
    cancel: gr.Button
    status: gr.HTML
    undo: gr.Button
    undo_path: gr.State
    trash_open: gr.Accordion
    trash: gr.Gallery
    trash_paths: gr.State
    trash_note: gr.Markdown
    trash_selected: gr.State
    restore: gr.Button
    empty_trash: gr.Button
    curate: CurateControls
    exports: ExportControls
    picks: PickControls
    helpers: SearchHelpers


def build_history_tab(logged_in: bool) -> HistoryTab:
    with gr.Row():
        query = gr.Textbox(label=T("search"), placeholder=T("search_placeholder"), scale=3, min_width=240,
                           elem_id="history-search")
        model = gr.Dropdown(choices=[(T("all_models"), "")], value="", label=T("filter_model"), scale=2,
                            elem_id="history-model")
        size = gr.Dropdown(choices=[(T("all_sizes"), "")], value="", label=T("filter_size"), scale=2,
                           elem_id="history-size")
        # "Mine" by default once people log in; the filters' event shows these to who may see all.
        mine = gr.Checkbox(logged_in, label=T("only_mine"), visible=False, scale=1, elem_id="history-mine")
        by_user = gr.Dropdown(choices=[(T("all_users"), "")], value="", label=T("filter_user"), visible=False,
                              scale=1, elem_id="history-user")
    helpers = build_search_helpers()
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=300):
            with gr.Row(equal_height=True, elem_id="history-empty-row"):
                empty = gr.Markdown(visible=False, elem_id="history-empty")
                clear = gr.Button(T("clear_filters"), visible=False, size="sm", scale=0, min_width=160,
                                  elem_id="history-clear")
            picks = build_pick_controls()
            gallery = gr.Gallery(
                label=T("tab_history"), show_label=False, columns=4, height="auto", object_fit="cover",
                allow_preview=False, interactive=False, elem_id="history_gallery", elem_classes=["thumbs"],
                buttons=[],
            )
            with gr.Row(equal_height=True):
                prev = gr.Button(T("prev"), size="sm", min_width=90, scale=1, elem_id="history-prev",
                                 interactive=False)
                page_label = gr.Markdown(elem_id="history-page")
                next_ = gr.Button(T("next"), size="sm", min_width=90, scale=1, elem_id="history-next",
                                  interactive=False)
            exports = build_export_controls()
        with gr.Column(scale=2, min_width=300, elem_id="history-side"):
            image = gr.Image(label=T("history_image"), type="filepath", format="png", interactive=False,
                             elem_id="history-image", height=420, buttons=["download", "fullscreen"])
            status = gr.HTML(elem_id="history-status")
            undo = gr.Button(T("undo"), visible=False, size="sm", elem_id="undo")
            with gr.Row():
                reuse = gr.Button(T("reuse"), variant="primary", elem_id="reuse", interactive=False)
                variation = gr.Button(T("variation"), elem_id="variation", interactive=False)
                delete = gr.Button(T("delete"), variant="stop", elem_id="delete", interactive=False)
            with gr.Row(visible=False, elem_id="delete-confirm-row") as confirm_row:
                gr.Markdown(T("delete_question"))
                confirm = gr.Button(T("delete_confirm"), variant="stop", elem_id="delete-confirm")
                cancel = gr.Button(T("cancel"), elem_id="delete-cancel")
            curate = build_curate_controls()
            card = gr.HTML(elem_id="history-card")
            where = gr.Markdown(elem_id="history-path")
            with gr.Accordion(T("technical_details"), open=False, elem_id="history-technical"):
                record = gr.JSON(label=T("technical_details"), elem_id="history-record")
    with gr.Accordion(T("trash_title"), open=False, elem_id="trash-view") as trash_open:
        trash_note = gr.Markdown(elem_id="trash-note")
        trash = gr.Gallery(show_label=False, columns=6, height="auto", object_fit="cover", allow_preview=False,
                           interactive=False, elem_id="trash", elem_classes=["thumbs"], buttons=[])
        with gr.Row():
            restore = gr.Button(T("restore"), variant="primary", interactive=False, elem_id="trash-restore")
            empty_trash = gr.Button(T("empty_trash"), variant="stop", interactive=False, elem_id="trash-empty")
    return HistoryTab(query, model, size, mine, by_user, empty, clear, gallery, gr.State([]), gr.State(1),
                      page_label, prev, next_, image, card, record, where, gr.State(None), reuse, variation, delete,
                      confirm_row, confirm, cancel, status, undo, gr.State(None), trash_open, trash, gr.State([]),
                      trash_note, gr.State(None), restore, empty_trash, curate, exports, picks, helpers)


def wire_history_tab(tab: HistoryTab, handlers: HistoryHandlers, shared: Shared, history_tab: gr.Tab,
                     refresh_recent: dict, curation: CurationHandlers) -> None:
    """Search/filter/page events, selection, the actions on the selected image, the trash."""
    listing = [tab.query, tab.model, tab.size, tab.mine, tab.by_user, tab.page_no, shared.tz]
    shown = [tab.gallery, tab.ids, tab.page_label, tab.page_no, tab.prev, tab.next, tab.empty, tab.clear,
             tab.picks.page_ids]
    # Browsing answers at once: no "In queue…" overlay (in English on a Chinese page) over the grid.
    private: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden"}
    page = {"fn": handlers.page, "inputs": listing, "outputs": shown, "queue": False, **private}  # browsing: no queue
    trash_shown = [tab.trash, tab.trash_paths, tab.trash_note, tab.restore, tab.empty_trash]
    trash = {"fn": handlers.trash_view, "inputs": [shared.tz], "outputs": trash_shown, **private}

    def refresh(trigger_events: list[Any], **options: Any) -> Any:
        """Re-list from page 1 when the search changes (what was picked goes: it belonged to
        the old filter); return the event to chain on."""
        start = gr.on(trigger_events, handlers.first_page, outputs=[tab.page_no], queue=False, **options, **private)
        start.then(None, js=CLEAR_PICKS, **private)
        return start.then(**page)

    # Search as you type: the browser waits for a pause in typing; an older keystroke's
    # search is dropped (its js returns null), and Enter searches at once.
    refresh([tab.query.input], js=_DEBOUNCE, trigger_mode="always_last")
    refresh([tab.query.submit, tab.model.change, tab.size.change, tab.mine.change, tab.by_user.change])
    cleared = tab.clear.click(handlers.clear_filters, outputs=[tab.query, tab.model, tab.size, tab.by_user,
                                                               tab.page_no], queue=False, **private)
    cleared.then(None, js=CLEAR_PICKS, **private)
    cleared.then(**page)
    history_tab.select(handlers.filters, outputs=[tab.model, tab.size, tab.by_user, tab.mine], queue=False,
                       **private).then(**page)
    history_tab.select(curation.board_choices, outputs=[tab.curate.board, tab.picks.board], queue=False, **private)
    tab.prev.click(lambda p: handlers.step(p, -1), inputs=[tab.page_no], outputs=[tab.page_no], **private).then(**page)
    tab.next.click(lambda p: handlers.step(p, +1), inputs=[tab.page_no], outputs=[tab.page_no], **private).then(**page)

    # the side panel's open picture, in the order of `HistoryHandlers._opened` and `picture_controls`
    opened = [tab.image, tab.record, tab.card, tab.where, tab.selected, tab.reuse, tab.variation, tab.delete,
              *tab.curate.on_picture]
    selecting = tab.gallery.select(handlers.select, inputs=[tab.ids, shared.tz], outputs=[*opened, tab.status],
                                   queue=False, **private)
    selecting.then(None, js=_SHOW_SELECTED)
    form = shared.form.fields
    tab.reuse.click(handlers.reuse, inputs=[tab.selected], outputs=[*form, shared.tabs, tab.status], **private)
    # Variation fills the form and bumps `again`: the Generate tab's one event does the rest.
    tab.variation.click(handlers.variation, inputs=[tab.selected], outputs=[*form, shared.tabs, shared.again, tab.status],
                        **private)
    tab.delete.click(handlers.ask_delete, inputs=[tab.selected], outputs=[tab.confirm_row], **private)
    tab.cancel.click(handlers.cancel_delete, outputs=[tab.confirm_row], **private)
    tab.confirm.click(
        handlers.delete, inputs=[tab.selected],
        outputs=[tab.confirm_row, *opened, tab.status, tab.undo, tab.undo_path], **private,
    ).success(**page).then(**refresh_recent).then(**trash)
    undo = tab.undo.click(handlers.undo, inputs=[tab.undo_path, shared.tz],
                          outputs=[*opened, tab.status, tab.undo, tab.undo_path], **private)
    undo.success(**page).then(**refresh_recent).then(**trash)
    gr.on([tab.trash_open.expand], **trash)
    tab.trash.select(handlers.trash_select, inputs=[tab.trash_paths], outputs=[tab.trash_selected, tab.restore],
                     **private)
    tab.restore.click(handlers.restore, inputs=[tab.trash_selected], outputs=[tab.status], **private).success(
        **trash).then(**page).then(**refresh_recent)
    tab.empty_trash.click(handlers.empty_trash, outputs=[tab.status], **private).then(**trash)
    wire_curate_controls(tab.curate, tab.exports, curation, tab.selected, tab.record, listing[:6], page,
                         tab.status)
    filters = listing[:5]
    wire_picks(tab.picks, curation, filters, page, tab.exports.pack, [refresh_recent, trash], tab.status)

    def relist(event: Any) -> None:
        start = event.success(handlers.first_page, outputs=[tab.page_no], queue=False, **private)
        start.then(None, js=CLEAR_PICKS, **private)
        start.then(**page)

    wire_search_helpers(tab.helpers, curation, tab.query, filters, shared.tz, [history_tab.select], _DEBOUNCE, relist,
                        tab.status)


# On a phone the picture shown is below the grid: bring it into view. On a laptop it is beside
# the grid: the page moves only if the picture is wholly out of sight (scrolled far down the grid).
_SHOW_SELECTED = """() => {
  const picture = document.getElementById('history-image'), grid = document.getElementById('history_gallery');
  if (!picture) return;
  const box = picture.getBoundingClientRect();
  const beside = grid && box.left >= grid.getBoundingClientRect().right;
  if (!beside) picture.scrollIntoView({block: 'start', behavior: 'instant'});
  else if (box.top >= window.innerHeight || box.bottom <= 0) picture.scrollIntoView({block: 'nearest', behavior: 'instant'});
}"""
