"""Picking many images in the History grid, the actions on them, and the search helpers.

Gradio's Gallery selects one image at a time: a click shows it in the side panel (its
`select` event). Picking several is a layer on top, in the browser (`HEAD`): it keeps
the picked ids across pages, marks the picked thumbnails, and writes
`{"ids": [...], "all": bool}` into a hidden textbox (`#history-picked`) whose `change`
event redraws the "3 selected" line. The bulk buttons send that box with the search; the
server checks every id (handlers.selection). The page's ids reach the script through a
second hidden box (`#history-page-ids`), written with each page.

    click            pick only this one (and show it, as before)
    Shift-click      pick the range from the last picked one
    Ctrl/⌘-click     add or remove this one
    Space            add or remove the focused one (Shift+Space: the range)
    arrows           move between thumbnails; Ctrl/⌘+A picks the whole page; Esc clears

Chips under the search box write `/history` tokens into it (and take them out); the
saved searches are chips too, one click to run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import gradio as gr

from ..handlers.curation import CurationHandlers
from ..record import MAX_RATING
from .common import T


@dataclass
class PickControls:
    page_ids: gr.Textbox  # hidden: this page's record ids (JSON), for the script
    picked: gr.Textbox  # hidden: what the script says is picked (JSON)
    bar: gr.HTML
    actions: gr.Row
    star: gr.Button
    unstar: gr.Button
    rating: gr.Radio
    board: gr.Dropdown
    board_add: gr.Button
    board_remove: gr.Button
    export: gr.Button
    delete: gr.Button
    confirm_row: gr.Row
    question: gr.Markdown
    confirm: gr.Button
    cancel: gr.Button
    note: gr.HTML


@dataclass
class SearchHelpers:
    chips: gr.HTML
    clicked: gr.Textbox  # hidden: the chip just clicked (JSON), reported by the script
    name: gr.Textbox
    save: gr.Button


def build_search_helpers() -> SearchHelpers:
    """Under the search row: the chips, and "save this search"."""
    chips = gr.HTML(elem_id="history-chips")
    clicked = gr.Textbox(visible="hidden", elem_id="history-chip")
    with gr.Row(equal_height=False, elem_id="search-save-row", elem_classes=["bulk-row"]):
        name = gr.Textbox(label=T("search_name"), show_label=False, container=False, placeholder=T("search_name"),
                          scale=1, min_width=200, max_length=80, elem_id="search-name")
        save = gr.Button(T("search_save"), size="sm", scale=0, min_width=140, elem_id="search-save")
    return SearchHelpers(chips, clicked, name, save)


def build_pick_controls() -> PickControls:
    """Over the grid: what is picked, and what to do with it."""
    page_ids = gr.Textbox("[]", visible="hidden", elem_id="history-page-ids")
    picked = gr.Textbox("", visible="hidden", elem_id="history-picked")
    bar = gr.HTML(elem_id="history-picks")
    with gr.Column(visible=False, elem_id="bulk-actions") as actions:
        with gr.Row(equal_height=False, elem_classes=["bulk-row"]):
            star = gr.Button(T("bulk_star"), size="sm", scale=0, min_width=100, elem_id="bulk-star")
            unstar = gr.Button(T("bulk_unstar"), size="sm", scale=0, min_width=100, elem_id="bulk-unstar")
            rating = gr.Radio([(T("rating_none"), 0), *[(str(n), n) for n in range(1, MAX_RATING + 1)]], value=None,
                              label=T("bulk_rate"), scale=1, elem_id="bulk-rating")
        with gr.Row(equal_height=False, elem_classes=["bulk-row"]):
            board = gr.Dropdown(choices=[], value=None, allow_custom_value=True, label=T("board_name"),
                                scale=1, min_width=160, elem_id="bulk-board")
            board_add = gr.Button(T("board_add"), size="sm", scale=0, min_width=110, elem_id="bulk-board-add")
            board_remove = gr.Button(T("board_remove"), size="sm", scale=0, min_width=110,
                                     elem_id="bulk-board-remove")
            export = gr.Button(T("bulk_export"), size="sm", scale=0, min_width=140, elem_id="bulk-export")
            delete = gr.Button(T("bulk_delete"), size="sm", scale=0, min_width=120, variant="stop",
                               elem_id="bulk-delete")
    with gr.Row(visible=False, equal_height=False, elem_id="bulk-confirm-row", elem_classes=["bulk-row"]) as confirm_row:
        question = gr.Markdown(elem_id="bulk-question")
        confirm = gr.Button(T("delete_confirm"), variant="stop", size="sm", scale=0, min_width=160,
                            elem_id="bulk-confirm")
        cancel = gr.Button(T("cancel"), size="sm", scale=0, min_width=100, elem_id="bulk-cancel")
    note = gr.HTML(elem_id="bulk-note")
    return PickControls(page_ids, picked, bar, actions, star, unstar, rating, board, board_add, board_remove, export,
                        delete, confirm_row, question, confirm, cancel, note)


def wire_picks(picks: PickControls, handlers: CurationHandlers, filters: list, page: dict, pack: gr.File,
               after_trash: list[dict]) -> None:
    """`filters` are the search box and dropdowns (query, model, size, mine, by_user); `page`
    re-lists the grid; `after_trash` refreshes what a delete changes elsewhere (Recent, Trash)."""
    private: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden"}
    bar = {"fn": handlers.picks, "inputs": [picks.picked, *filters], "outputs": [picks.bar, picks.actions],
           "queue": False, **private}
    picks.picked.change(**bar)  # written by the script only
    picks.page_ids.change(None, inputs=[picks.page_ids], js=_PAINT, **private)
    picks.page_ids.change(**bar)
    chosen = [picks.picked]
    for button, starred in ((picks.star, True), (picks.unstar, False)):
        button.click(handlers.bulk_star, inputs=[*chosen, gr.State(starred), *filters], outputs=[picks.note],
                     **private).success(**page)
    picks.rating.input(handlers.bulk_rate, inputs=[*chosen, picks.rating, *filters],
                       outputs=[picks.note, picks.rating], **private).success(**page)
    for button, add in ((picks.board_add, True), (picks.board_remove, False)):
        button.click(handlers.bulk_board, inputs=[*chosen, picks.board, gr.State(add), *filters],
                     outputs=[picks.note, picks.board, picks.board], **private).success(**page)
    picks.export.click(handlers.bulk_export, inputs=[*chosen, *filters], outputs=[pack], **private)
    picks.delete.click(handlers.bulk_ask_delete, inputs=[*chosen, *filters],
                       outputs=[picks.confirm_row, picks.question], **private)
    picks.cancel.click(handlers.bulk_cancel, outputs=[picks.confirm_row], **private)
    trashed = picks.confirm.click(handlers.bulk_trash, inputs=[*chosen, *filters],
                                  outputs=[picks.note, picks.confirm_row], **private)
    trashed = trashed.success(None, js=CLEAR_PICKS).then(**page)
    for step in after_trash:
        trashed = trashed.then(**step)


def wire_search_helpers(helpers: SearchHelpers, handlers: CurationHandlers, query: gr.Textbox, filters: list,
                        tz: gr.Textbox, triggers: list, debounce: str, relist: Callable[[Any], None]) -> None:
    """Chips follow the search box (after a pause in typing, as the search does) and `triggers`;
    a chip rewrites the box and `relist` chains the new search on that event."""
    private: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden", "queue": False}
    chips = {"fn": handlers.chips, "inputs": [query, tz], "outputs": [helpers.chips], **private}
    gr.on([query.change], js=debounce, trigger_mode="always_last", **chips)
    gr.on(triggers, **chips)
    gr.on([helpers.save.click, helpers.name.submit], handlers.save_search_page,
          inputs=[helpers.name, *filters, tz], outputs=[helpers.name, helpers.chips], **private)
    relist(helpers.clicked.change(handlers.chip_clicked, inputs=[helpers.clicked, query, tz],
                                  outputs=[query, helpers.chips], **private))


# Run after a filter changes: picks belong to the filter they were made in.
CLEAR_PICKS = "() => { window.yunyxPicks && window.yunyxPicks.clear(); }"
_PAINT = "(ids) => { window.yunyxPicks && window.yunyxPicks.paint(ids); }"

HEAD = r"""
<script>
(() => {
  const GRID = "#history_gallery";
  const box = (id) => document.querySelector(`#${id} textarea, #${id} input`);
  const state = {ids: new Set(), all: false, anchor: null, page: []};
  const items = () => [...document.querySelectorAll(GRID + " .thumbnail-item")];
  const readPage = (text) => {
    try { const ids = JSON.parse(text ?? box("history-page-ids")?.value ?? "[]"); return Array.isArray(ids) ? ids : []; }
    catch (e) { return []; }
  };
  const paint = (text) => {
    if (text !== undefined) state.page = readPage(text);
    if (!state.page.length) state.page = readPage();
    items().forEach((b, i) => {
      const on = state.all || state.ids.has(state.page[i]);
      if (b.classList.contains("picked") !== on) b.classList.toggle("picked", on);
      if (b.getAttribute("aria-pressed") !== String(on)) b.setAttribute("aria-pressed", String(on));
    });
  };
  const send = () => {
    const el = box("history-picked");
    paint();
    if (!el) return;
    el.value = state.all || state.ids.size ? JSON.stringify({ids: [...state.ids], all: state.all}) : "";
    el.dispatchEvent(new Event("input", {bubbles: true}));
  };
  // how: "only" (a click), "toggle" (Ctrl/Cmd-click, Space), "range" (Shift)
  const pick = (index, how) => {
    const ids = state.page, id = ids[index];
    if (id === undefined) return;
    if (state.all) { state.all = false; state.ids = new Set(how === "toggle" ? ids : []); }
    if (how === "only") { state.ids = new Set([id]); state.anchor = id; }
    else if (how === "toggle") { if (!state.ids.delete(id)) state.ids.add(id); state.anchor = id; }
    else {
      const from = ids.indexOf(state.anchor), a = from < 0 ? index : from;
      for (let i = Math.min(a, index); i <= Math.max(a, index); i++) state.ids.add(ids[i]);
      if (from < 0) state.anchor = id;
    }
    send();
  };
  const clear = () => { state.ids = new Set(); state.all = false; state.anchor = null; send(); };
  const pickAll = () => { state.all = true; state.ids = new Set(); send(); };
  const pickPage = () => { state.all = false; state.page.forEach((id) => state.ids.add(id)); send(); };
  window.yunyxPicks = {paint, clear, pickAll};
  document.addEventListener("click", (e) => {
    const item = e.target.closest && e.target.closest(GRID + " .thumbnail-item");
    if (item) {
      const index = items().indexOf(item);
      if (e.shiftKey || e.ctrlKey || e.metaKey) {  // picking only: the side panel stays as it is
        e.preventDefault();
        e.stopPropagation();
        item.focus();
        pick(index, e.shiftKey ? "range" : "toggle");
      } else pick(index, "only");
      return;
    }
    const action = e.target.closest && e.target.closest("[data-picks]");
    if (action) { if (action.dataset.picks === "all") pickAll(); else clear(); }
  }, true);
  const columns = (list) => list.filter((b) => b.offsetTop === list[0].offsetTop).length || 1;
  document.addEventListener("keydown", (e) => {
    const item = e.target.closest && e.target.closest(GRID + " .thumbnail-item");
    if (!item) return;
    const list = items(), index = list.indexOf(item);
    if (e.key === " ") { e.preventDefault(); if (!e.repeat) pick(index, e.shiftKey ? "range" : "toggle"); return; }
    if (e.key === "Escape") { clear(); return; }
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "a") { e.preventDefault(); pickPage(); return; }
    const cols = columns(list);
    const step = {ArrowRight: 1, ArrowLeft: -1, ArrowDown: cols, ArrowUp: -cols, Home: -1e9, End: 1e9}[e.key];
    if (step === undefined) return;
    e.preventDefault();
    const next = Math.max(0, Math.min(list.length - 1, index + step));
    list[next].focus();
    if (e.shiftKey) pick(next, "range");
  }, true);
  // Space on a button clicks it on key-up: that would pick "only this one" again.
  document.addEventListener("keyup", (e) => {
    if (e.key === " " && e.target.closest && e.target.closest(GRID + " .thumbnail-item")) e.preventDefault();
  }, true);
  // A new page of thumbnails (or the same page drawn again) gets its marks back.
  new MutationObserver((records) => {
    if (records.some((r) => r.target.closest && r.target.closest(GRID))) paint();
  }).observe(document.body, {childList: true, subtree: true});

  // Query chips: say which one was clicked (the server rewrites the search box and searches).
  document.addEventListener("click", (e) => {
    const chip = e.target.closest && e.target.closest(".query-chips button");
    const el = box("history-chip");
    if (!chip || !el) return;
    const {add, remove, run, forget} = chip.dataset;
    el.value = JSON.stringify({add, remove, run, forget, at: Date.now()});
    el.dispatchEvent(new Event("input", {bubbles: true}));
  });
})();
</script>
"""

CSS = """
#history_gallery .thumbnail-item { user-select: none; }
#history_gallery .thumbnail-item.picked { outline: 3px solid var(--color-accent); outline-offset: -3px; }
#history_gallery .thumbnail-item.picked::after { content: "✓"; position: absolute; top: 6px; left: 6px; width: 1.5rem;
  height: 1.5rem; border-radius: 50%; background: var(--color-accent); color: white; font-weight: 700;
  display: flex; align-items: center; justify-content: center; box-shadow: 0 1px 3px rgba(0,0,0,0.35); }
.picks-bar { display: flex; flex-wrap: wrap; gap: 0.25rem 0.5rem; align-items: center; padding: 0.25rem 0; }
.picks-bar .picks-hint { color: var(--body-text-color-subdued); font-size: 0.85em; }
.picks-button, .query-chips .chip { border: 1px solid var(--border-color-primary); border-radius: 999px;
  padding: 0.1rem 0.7rem; background: var(--background-fill-primary); cursor: pointer; font-size: 0.9em; }
.picks-button:hover, .query-chips .chip:hover { background: var(--color-accent-soft); }
.picks-button:focus-visible, .query-chips .chip:focus-visible { outline: 2px solid var(--color-accent); }
#bulk-actions { gap: 0.4rem; }
.bulk-row { align-items: center; gap: 0.4rem; }
#bulk-rating .wrap { gap: 0.3rem; }
.query-chips .chip-row { display: flex; flex-wrap: wrap; gap: 0.3rem; align-items: center; margin: 0.15rem 0; }
.query-chips .chip-title { color: var(--body-text-color-subdued); font-size: 0.85em; margin-right: 0.2rem; }
.query-chips .chip.active { background: var(--color-accent-soft); border-color: var(--color-accent); }
.query-chips .saved-search { display: inline-flex; }
.query-chips .saved-search .saved { border-radius: 999px 0 0 999px; }
.query-chips .saved-search .forget { border-radius: 0 999px 999px 0; border-left: none; padding: 0.1rem 0.45rem; }
"""
