"""Picking many images in the History grid, the actions on them, and the search helpers.

Gradio's Gallery selects one image at a time: a click shows it in the side panel (its
`select` event). Picking several is a layer on top, in the browser (`HEAD`): it keeps
the picked ids across pages, marks the picked thumbnails, and writes
`{"ids": [...], "all": bool}` into a hidden textbox (`#history-picked`) whose `change`
event redraws the "3 selected" line. The bulk buttons send that box with the search; the
server checks every id (handlers.selection). The page's ids reach the script through a
second hidden box (`#history-page-ids`), written with each page.

    click            show this one (picks stay as they are; it becomes the range's start)
    corner circle    add or remove this one (a tap on a phone, a click with the mouse)
    Shift-click      pick the range from the last one clicked or picked
    Ctrl/⌘-click     add or remove this one
    Space            add or remove the focused one (Shift+Space: the range)
    arrows           move between thumbnails; Ctrl/⌘+A picks the whole page; Esc clears

The bulk actions are a bar docked at the bottom of the window, shown only while
something is picked: opening it never moves the grid. While it is open the History
status line floats just above it, so what a bulk action did (or why not) is in sight,
and the page keeps the bar's height free below its end (and below a focused thumbnail),
so no thumbnail stays hidden behind it. On a laptop the bar is one line. On a phone it is
two (what is picked, Star, Unstar, "More"; the rating): "More" unfolds the board field
with its two buttons under it, Export and Delete.
The same script paints each thumbnail's star and rating badge from the page's data.

Chips under the search box write `/history` tokens into it (and take them out); the
saved searches are chips too, one click to run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

import gradio as gr

from .. import i18n
from ..handlers.curation import CurationHandlers
from ..record import MAX_RATING
from .common import T


@dataclass
class PickControls:
    page_ids: gr.Textbox  # hidden: this page's record ids (JSON), for the script
    picked: gr.Textbox  # hidden: what the script says is picked (JSON)
    bar: gr.HTML
    actions: gr.Column  # the bar docked at the window's bottom
    count: gr.HTML
    star: gr.Button
    unstar: gr.Button
    more: gr.Button  # on a phone: shows the board, export and delete (the script toggles them)
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
    """Over the grid: what is picked; docked at the window's bottom: what to do with it."""
    page_ids = gr.Textbox("[]", visible="hidden", elem_id="history-page-ids")
    picked = gr.Textbox("", visible="hidden", elem_id="history-picked")
    bar = gr.HTML(elem_id="history-picks")
    with gr.Column(visible=False, elem_id="bulk-actions") as actions:
        with gr.Row(equal_height=False, elem_classes=["bulk-row"]):
            count = gr.HTML(elem_id="bulk-count")
            star = gr.Button(T("bulk_star"), size="sm", scale=0, min_width=90, elem_id="bulk-star")
            unstar = gr.Button(T("bulk_unstar"), size="sm", scale=0, min_width=90, elem_id="bulk-unstar")
            more = gr.Button(T("bulk_more"), size="sm", scale=0, min_width=60, elem_id="bulk-more")
            rating = gr.Radio([(T("rating_none"), 0), *[(str(n), n) for n in range(1, MAX_RATING + 1)]], value=None,
                              label=T("bulk_rate"), container=False, scale=0, min_width=260,
                              elem_id="bulk-rating")
            board = gr.Dropdown(choices=[], value=None, allow_custom_value=True, label=T("board_name"),
                                show_label=False, container=False, scale=0, min_width=150, elem_id="bulk-board")
            board_add = gr.Button(T("board_add"), size="sm", scale=0, min_width=90, elem_id="bulk-board-add")
            board_remove = gr.Button(T("board_remove"), size="sm", scale=0, min_width=90,
                                     elem_id="bulk-board-remove")
            export = gr.Button(T("bulk_export"), size="sm", scale=0, min_width=120, elem_id="bulk-export")
            delete = gr.Button(T("bulk_delete"), size="sm", scale=0, min_width=100, variant="stop",
                               elem_id="bulk-delete")
        with gr.Row(visible=False, equal_height=False, elem_id="bulk-confirm-row",
                    elem_classes=["bulk-row"]) as confirm_row:
            question = gr.Markdown(elem_id="bulk-question")
            confirm = gr.Button(T("delete_confirm"), variant="stop", size="sm", scale=0, min_width=160,
                                elem_id="bulk-confirm")
            cancel = gr.Button(T("cancel"), size="sm", scale=0, min_width=100, elem_id="bulk-cancel")
    return PickControls(page_ids, picked, bar, actions, count, star, unstar, more, rating, board, board_add, board_remove,
                        export, delete, confirm_row, question, confirm, cancel)


def wire_picks(picks: PickControls, handlers: CurationHandlers, filters: list, page: dict, pack: gr.File,
               after_trash: list[dict], status: gr.HTML) -> None:
    """`filters` are the search box and dropdowns (query, model, size, mine, by_user); `page`
    re-lists the grid; `after_trash` refreshes what a delete changes elsewhere (Recent, Trash);
    `status` is the History status line, where every bulk action says what it did or why not."""
    private: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden"}
    bar = {"fn": handlers.picks, "inputs": [picks.picked, *filters], "outputs": [picks.bar, picks.actions, picks.count],
           "queue": False, **private}
    # One event for both triggers, so its answers come in order: with two, the re-listed grid's
    # answer (the picks of before) could land after Esc's and bring the bar back with none picked.
    gr.on([picks.picked.change, picks.page_ids.change], trigger_mode="always_last", **bar)  # picked: script only
    picks.page_ids.change(None, inputs=[picks.page_ids], js=_PAINT, **private)
    chosen = [picks.picked]
    for button, starred in ((picks.star, True), (picks.unstar, False)):
        button.click(handlers.bulk_star, inputs=[*chosen, gr.State(starred), *filters], outputs=[status],
                     **private).success(**page)
    picks.rating.input(handlers.bulk_rate, inputs=[*chosen, picks.rating, *filters],
                       outputs=[status, picks.rating], **private).success(**page)
    for button, add in ((picks.board_add, True), (picks.board_remove, False)):
        button.click(handlers.bulk_board, inputs=[*chosen, picks.board, gr.State(add), *filters],
                     outputs=[status, picks.board, picks.board], **private).success(**page)
    picks.export.click(handlers.bulk_export, inputs=[*chosen, *filters], outputs=[pack, status], **private)
    picks.delete.click(handlers.bulk_ask_delete, inputs=[*chosen, *filters],
                       outputs=[picks.confirm_row, picks.question, status], **private)
    picks.cancel.click(handlers.bulk_cancel, outputs=[picks.confirm_row], **private)
    trashed = picks.confirm.click(handlers.bulk_trash, inputs=[*chosen, *filters],
                                  outputs=[status, picks.confirm_row], **private)
    trashed = trashed.success(None, inputs=[status], js=_CLEAR_UNLESS_REFUSED, **private).then(**page)
    for step in after_trash:
        trashed = trashed.then(**step)


def wire_search_helpers(helpers: SearchHelpers, handlers: CurationHandlers, query: gr.Textbox, filters: list,
                        tz: gr.Textbox, triggers: list, debounce: str, relist: Callable[[Any], None],
                        status: gr.HTML) -> None:
    """Chips follow the search box (after a pause in typing, as the search does) and `triggers`;
    a chip rewrites the box and `relist` chains the new search on that event; saving a search
    says so (or why not) in the History status line `status`."""
    private: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden", "queue": False}
    chips = {"fn": handlers.chips, "inputs": [query, tz], "outputs": [helpers.chips], **private}
    gr.on([query.change], js=debounce, trigger_mode="always_last", **chips)
    gr.on(triggers, **chips)
    gr.on([helpers.save.click, helpers.name.submit], handlers.save_search_page,
          inputs=[helpers.name, *filters, tz], outputs=[helpers.name, helpers.chips, status], **private)
    relist(helpers.clicked.change(handlers.chip_clicked, inputs=[helpers.clicked, query, tz],
                                  outputs=[query, helpers.chips], **private))


# Run after a filter changes: picks belong to the filter they were made in.
CLEAR_PICKS = "() => { window.yunyxPicks && window.yunyxPicks.clear(); }"
_PAINT = "(ids) => { window.yunyxPicks && window.yunyxPicks.paint(ids); }"
# A refused bulk delete keeps the picks (the person may fix the cause and try again).
_CLEAR_UNLESS_REFUSED = ("(said) => { if (!String(said || '').includes('data-state=\"error\"')) "
                         "window.yunyxPicks && window.yunyxPicks.clear(); }")

HEAD = r"""
<script>
(() => {
  const GRID = "#history_gallery";
  const box = (id) => document.querySelector(`#${id} textarea, #${id} input`);
  const state = {ids: new Set(), all: false, anchor: null, page: [], badges: [], words: []};
  const items = () => [...document.querySelectorAll(GRID + " .thumbnail-item")];
  // The page's data: {"ids": [...], "badges": ["★ · 4/5", ...], "words": ["starred, rated 4 of 5", ...]}
  const readPage = (text) => {
    try {
      const data = JSON.parse(text ?? box("history-page-ids")?.value ?? "[]");
      if (Array.isArray(data)) return {ids: data, badges: [], words: []};
      const list = (v) => Array.isArray(v) ? v : [];
      return {ids: list(data && data.ids), badges: list(data && data.badges), words: list(data && data.words)};
    } catch (e) { return {ids: [], badges: [], words: []}; }
  };
  const setAttr = (el, name, value) => {
    if (value) { if (el.getAttribute(name) !== value) el.setAttribute(name, value); }
    else if (el.hasAttribute(name)) el.removeAttribute(name);
  };
  const paint = (text) => {
    if (text !== undefined || !state.page.length) {
      const data = readPage(text);
      state.page = data.ids; state.badges = data.badges; state.words = data.words;
    }
    items().forEach((b, i) => {
      const on = state.all || state.ids.has(state.page[i]);
      if (b.classList.contains("picked") !== on) b.classList.toggle("picked", on);
      setAttr(b, "aria-pressed", String(on));
      setAttr(b, "data-marks", state.badges[i] || "");  // the star and rating badge (CSS draws it)
      setAttr(b, "aria-description", state.words[i] || "");
    });
  };
  const send = () => {
    const el = box("history-picked");
    paint();
    if (!el) return;
    el.value = state.all || state.ids.size ? JSON.stringify({ids: [...state.ids], all: state.all}) : "";
    el.dispatchEvent(new Event("input", {bubbles: true}));
  };
  // how: "toggle" (corner circle, Ctrl/Cmd-click, Space), "range" (Shift)
  const pick = (index, how) => {
    const ids = state.page, id = ids[index];
    if (id === undefined) return;
    if (state.all) { state.all = false; state.ids = new Set(how === "toggle" ? ids : []); }
    if (how === "toggle") { if (!state.ids.delete(id)) state.ids.add(id); state.anchor = id; }
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
  // The circle in a thumbnail's top left corner (drawn by CSS): a click or tap there picks.
  const CORNER = 44;
  const onCorner = (item, e) => {
    const r = item.getBoundingClientRect();
    return e.clientX - r.left < CORNER && e.clientY - r.top < CORNER && e.detail > 0;
  };
  document.addEventListener("click", (e) => {
    const item = e.target.closest && e.target.closest(GRID + " .thumbnail-item");
    if (item) {
      const index = items().indexOf(item);
      if (e.shiftKey || e.ctrlKey || e.metaKey || onCorner(item, e)) {  // picking only: the side panel stays
        e.preventDefault();
        e.stopPropagation();
        item.focus();
        pick(index, e.shiftKey ? "range" : "toggle");
      } else if (state.page[index] !== undefined) state.anchor = state.page[index];  // a plain click shows it
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
  // A menu chip (<details>) closes on Esc or a click elsewhere; its find box filters it.
  document.addEventListener("click", (e) => {
    document.querySelectorAll(".query-chips details.chip-menu[open]").forEach((menu) => {
      if (!menu.contains(e.target)) menu.open = false;
    });
    const chip = e.target.closest && e.target.closest(".query-chips button");
    const el = box("history-chip");
    if (!chip || !el) return;
    const {add, remove, run, forget} = chip.dataset;
    el.value = JSON.stringify({add, remove, run, forget, at: Date.now()});
    el.dispatchEvent(new Event("input", {bubbles: true}));
  });
  document.addEventListener("input", (e) => {
    if (!e.target.matches || !e.target.matches(".chip-menu-find")) return;
    const words = e.target.value.trim().toLowerCase();
    e.target.closest(".chip-menu").querySelectorAll(".chip-menu-list button").forEach((b) => {
      b.hidden = !!words && !b.textContent.toLowerCase().includes(words);
    });
  });
  document.addEventListener("keydown", (e) => {
    const menu = e.key === "Escape" && e.target.closest && e.target.closest(".query-chips details.chip-menu[open]");
    if (menu) { menu.open = false; menu.querySelector("summary").focus(); }
  });
  document.addEventListener("toggle", (e) => {
    const find = e.target.open && e.target.matches && e.target.matches("details.chip-menu")
      && e.target.querySelector(".chip-menu-find");
    if (find) find.focus();
    const panel = e.target.open && e.target.matches && e.target.matches("details.chip-menu")
      && e.target.querySelector(".chip-menu-panel");
    if (panel) {  // keep the list inside the window (a chip near the right edge opens it leftwards)
      panel.style.left = "0"; panel.style.right = "auto";
      if (panel.getBoundingClientRect().right > window.innerWidth - 4) { panel.style.left = "auto"; panel.style.right = "0"; }
    }
  }, true);
  // The docked bulk bar's height, so the status line can float just above it.
  const dockHeight = new ResizeObserver((entries) => {
    for (const entry of entries) {
      document.documentElement.style.setProperty("--bulk-dock-h", `${Math.ceil(entry.target.offsetHeight)}px`);
    }
  });
  // On a phone, "More" unfolds the bar's second half (the bar's data-more); a new bar starts folded.
  const more = (open) => {
    const dock = document.getElementById("bulk-actions"), button = document.getElementById("bulk-more");
    if (dock) { if (open) dock.dataset.more = "open"; else delete dock.dataset.more; }
    if (button) { button.setAttribute("aria-expanded", String(open)); button.setAttribute("aria-controls", "bulk-actions"); }
  };
  document.addEventListener("click", (e) => {
    const dock = e.target.closest && e.target.closest("#bulk-more") && document.getElementById("bulk-actions");
    if (dock) more(!dock.dataset.more);
  });
  // Esc in the bulk bar: an unfolded "More" folds first and hands focus back to it, as a menu
  // does; otherwise the picks are cleared (as Esc on a thumbnail does), unless Esc was meant
  // for the board field's list.
  document.addEventListener("keydown", (e) => {
    const dock = e.key === "Escape" && e.target.closest && e.target.closest("#bulk-actions");
    if (!dock) return;
    if (dock.dataset.more) {
      more(false);
      const button = document.getElementById("bulk-more");
      if (button) button.focus();
    } else if (!e.target.matches("input, textarea")) clear();
  });
  // The empty picture box says what to do next (Gradio's static Image shows only an icon).
  const HINTS = __PICK_HINTS__;
  const hintText = HINTS[(navigator.language || "").toLowerCase().slice(0, 2)] || HINTS.fallback;
  const hint = () => {
    const empty = document.querySelector("#history-image .empty");
    if (!empty || empty.querySelector(".pick-hint")) return;
    const text = document.createElement("p");
    text.className = "pick-hint";
    text.textContent = hintText;
    empty.append(text);
    empty.setAttribute("aria-label", hintText);
  };
  let docked = null;
  new MutationObserver(() => {
    hint();
    const dock = document.getElementById("bulk-actions");
    if (dock !== docked) {
      if (docked) dockHeight.unobserve(docked);
      if (dock) dockHeight.observe(dock);
      docked = dock;
      if (dock) more(false);
    }
    const button = document.getElementById("bulk-more");  // drawn after its bar: say it is folded
    if (button && !button.hasAttribute("aria-expanded")) more(!!(dock && dock.dataset.more));
  }).observe(document.body, {childList: true, subtree: true});
})();
</script>
"""

_HINTS = {lang: i18n.label("history_pick_hint", lang) for lang in i18n.LANGUAGES}
HEAD = HEAD.replace("__PICK_HINTS__", json.dumps({**_HINTS, "fallback": _HINTS[i18n.FALLBACK]}, ensure_ascii=False))

CSS = """
#history-image .empty { flex-direction: column; gap: var(--size-2); }
#history-image .pick-hint { margin: 0 var(--size-4); text-align: center; color: var(--body-text-color-subdued);
  font-size: var(--text-md); }
#history_gallery .thumbnail-item { user-select: none; }
#history_gallery .thumbnail-item.picked { outline: 3px solid var(--color-accent); outline-offset: -3px; }
/* the corner circle that picks: on hover with a mouse, on every thumbnail once one is picked (the
   others are targets now), always on a touch screen; filled when picked */
#history_gallery .thumbnail-item::after { content: ""; position: absolute; top: 8px; left: 8px; width: 1.4rem;
  height: 1.4rem; border-radius: 50%; border: 2px solid white; background: rgba(0,0,0,0.25); color: white;
  font-weight: 700; font-size: 0.85rem; display: flex; align-items: center; justify-content: center;
  box-shadow: 0 1px 3px rgba(0,0,0,0.45); opacity: 0; transition: opacity 0.12s; z-index: 2; pointer-events: none; }
#history_gallery .thumbnail-item:hover::after, #history_gallery .thumbnail-item:focus-visible::after { opacity: 1; }
body:has(#bulk-actions) #history_gallery .thumbnail-item::after { opacity: 0.9; }
@media (hover: none) { #history_gallery .thumbnail-item::after { opacity: 0.9; } }
#history_gallery .thumbnail-item.picked::after { content: "✓"; opacity: 1; background: var(--color-accent);
  border-color: var(--color-accent); }
/* the star and rating badge, painted from the page's data by the picking script */
#history_gallery .thumbnail-item[data-marks]::before { content: attr(data-marks); position: absolute; top: 8px;
  right: 8px; z-index: 2; padding: 0.05rem 0.45rem; border-radius: 999px; background: rgba(0,0,0,0.62);
  color: #ffd54a; font-size: 0.8rem; font-weight: 700; line-height: 1.35rem; pointer-events: none;
  white-space: nowrap; }
/* the line over the grid keeps one height whatever it says, so picking never moves the grid */
.picks-bar { display: flex; flex-wrap: wrap; gap: 0.25rem 0.5rem; align-items: center; align-content: flex-start;
  padding: 0.25rem 0; min-height: 2rem; }
@media (max-width: 640px) {
  /* a phone's thumbnail is about 90 px wide: a smaller badge clears the corner circle ("★ · 4/5" touched it) */
  #history_gallery .thumbnail-item[data-marks]::before { right: 4px; top: 10px; padding: 0 0.3rem;
    font-size: 0.68rem; line-height: 1.1rem; }
  .picks-bar { min-height: 4.2rem; }
}
.picks-bar .picks-hint { color: var(--body-text-color-subdued); font-size: 0.85em; }
.picks-button, .query-chips .chip { border: 1px solid var(--border-color-primary); border-radius: 999px;
  padding: 0.1rem 0.7rem; background: var(--background-fill-primary); cursor: pointer; font-size: 0.9em; }
.picks-button:hover, .query-chips .chip:hover { background: var(--color-accent-soft); }
.picks-button:focus-visible, .query-chips .chip:focus-visible { outline: 2px solid var(--color-accent); }
/* the bulk bar: docked at the window's bottom while something is picked, so it never moves the grid */
#bulk-actions { position: fixed; bottom: 10px; left: 50%; transform: translateX(-50%); z-index: 60;
  width: max-content; max-width: calc(100vw - 16px); box-sizing: border-box; padding: 0.45rem 0.6rem;
  gap: 0.35rem; background: var(--background-fill-primary); border: 1px solid var(--border-color-primary);
  border-radius: 14px; box-shadow: 0 6px 24px rgba(0,0,0,0.22); }
/* !important: Gradio's own stylesheet zeroes the page's padding */
body:has(#bulk-actions) { padding-bottom: calc(var(--bulk-dock-h, 60px) + 16px) !important; }
/* a thumbnail reached by the keyboard is scrolled above the bar, not behind it */
html:has(#bulk-actions) { scroll-padding-bottom: calc(var(--bulk-dock-h, 60px) + 16px); }
#bulk-more { display: none !important; }  /* a phone's: see below */
/* ...and the History status line floats just above it meanwhile: what a bulk action did is in sight */
body:has(#bulk-actions) #history-status:has(.status-line) { position: fixed; z-index: 61; left: 50%;
  transform: translateX(-50%); bottom: calc(var(--bulk-dock-h, 60px) + 16px); width: max-content;
  max-width: calc(100vw - 16px); box-sizing: border-box; padding: 0; border-width: 0 !important; border-radius: 8px;
  background: var(--background-fill-primary); box-shadow: 0 4px 16px rgba(0,0,0,0.2); }
.bulk-row { align-items: center; gap: 0.4rem; flex-wrap: wrap; }
#bulk-actions .bulk-row { flex-wrap: wrap; }
#bulk-actions .bulk-row > * { flex: 0 0 auto !important; width: auto !important; min-width: 0 !important; }
#bulk-actions .bulk-row > button { white-space: nowrap; }
.query-chips summary.chip { font-weight: 600; }
.picks-hint .touch-hint { display: none; }
@media (hover: none) { .picks-hint .touch-hint { display: inline; } .picks-hint .mouse-hint { display: none; } }
#bulk-count { min-width: 0; }
#bulk-count .bulk-count { display: inline-flex; align-items: center; gap: 0.3rem; font-weight: 600; white-space: nowrap; }
#bulk-count .picks-button { padding: 0 0.5rem; }
#bulk-rating { display: flex; align-items: center; gap: 0.4rem; }
#bulk-board > div:not([data-testid]) { display: flex; align-items: center; gap: 0.4rem; }
#bulk-board > div:not([data-testid]) > .wrap { flex: 1 1 auto; min-width: 0; }
#bulk-rating [data-testid="block-info"], #bulk-board [data-testid="block-info"] { position: static !important;
  background: none !important; padding: 0 !important; border: none !important; display: inline !important; width: auto !important;
  height: auto !important; clip: auto !important; clip-path: none !important; overflow: visible !important;
  margin: 0 !important; white-space: nowrap; color: var(--body-text-color-subdued); font-size: 0.9em; }
#bulk-rating { padding: 0 !important; border: none !important; background: none !important; overflow: visible !important; }
#bulk-rating .wrap { gap: 0.25rem; flex-wrap: nowrap; }
#bulk-rating .wrap label { padding: 0.1rem 0.35rem; }
#bulk-actions .bulk-row > #bulk-board { width: 11.5rem !important; }
.field-buttons { align-items: flex-end; }
.field-buttons > button { align-self: flex-end; flex: 0 0 auto !important; white-space: nowrap;
  width: auto !important; min-height: 38px; margin-bottom: 10px !important; }
/* On a phone the bar is two lines (picked, Star, Unstar, More; the rating) and "More" unfolds
   the rest: the board field on its own line, its two buttons side by side under it, then
   Export and Delete. Larger buttons there: they are tapped. Gradio copies a rule inside
   @media only with its container's prefix: no html/body selectors there, and no commas
   inside :is(). */
@media (max-width: 640px) {
  #bulk-actions { left: 6px; right: 6px; bottom: 6px; transform: none; width: auto; max-width: none;
    padding: 0.35rem 0.5rem; gap: 0.35rem; border-radius: 12px; }
  #bulk-actions .bulk-row { gap: 0.35rem 0.3rem; }
  #bulk-actions .bulk-row > button { min-height: 34px; padding-left: 0.55rem; padding-right: 0.55rem; }
  #bulk-actions .bulk-row > #bulk-more { display: inline-flex !important; align-items: center; }
  #bulk-more::after { content: "▾" / ""; margin-left: 0.3rem; }
  #bulk-more[aria-expanded="true"]::after { content: "▴" / ""; }
  #bulk-actions .bulk-row > #bulk-count { flex: 1 1 0 !important; min-width: 5.5rem !important; }
  #bulk-count .bulk-count { display: inline; white-space: normal; font-size: 0.9em; line-height: 1.3; }
  #bulk-actions .bulk-row > #bulk-rating { flex: 1 1 100% !important; }
  #bulk-actions:not([data-more]) .bulk-row > #bulk-board, #bulk-actions:not([data-more]) .bulk-row > #bulk-board-add,
  #bulk-actions:not([data-more]) .bulk-row > #bulk-board-remove,
  #bulk-actions:not([data-more]) .bulk-row > #bulk-export,
  #bulk-actions:not([data-more]) .bulk-row > #bulk-delete { display: none !important; }
  #bulk-actions .bulk-row > #bulk-board { flex: 1 1 100% !important; width: auto !important; }
  #bulk-actions .bulk-row > #bulk-board-add, #bulk-actions .bulk-row > #bulk-board-remove,
  #bulk-actions .bulk-row > #bulk-export, #bulk-actions .bulk-row > #bulk-delete {
    flex: 1 1 calc(50% - 0.3rem) !important; }
  /* the selected image's board field likewise: its own line, its two buttons side by side under it */
  .field-buttons > .form { flex: 1 1 100% !important; }
  .field-buttons > button { flex: 1 1 calc(50% - var(--layout-gap)) !important; margin-bottom: 0 !important; }
}
.query-chips .chip-row { display: flex; flex-wrap: wrap; gap: 0.3rem; align-items: center; margin: 0.15rem 0; }
.query-chips .chip-title { color: var(--body-text-color-subdued); font-size: 0.85em; margin-right: 0.2rem; }
.query-chips .chip.active { background: var(--color-accent-soft); border-color: var(--color-accent); }
.query-chips .saved-search { display: inline-flex; }
.query-chips .saved-search .saved { border-radius: 999px 0 0 999px; }
.query-chips .saved-search .forget { border-radius: 0 999px 999px 0; border-left: none; padding: 0.1rem 0.45rem; }
/* a kind with many values (boards, models, sizes, users): one chip opening a small scrolling list */
.query-chips .chip-menu { position: relative; display: inline-block; }
.query-chips .chip-menu > summary { list-style: none; display: inline-block; }
.query-chips .chip-menu > summary::-webkit-details-marker { display: none; }
.query-chips .chip-menu[open] > summary { background: var(--color-accent-soft); border-color: var(--color-accent); }
.query-chips .chip-menu-panel { position: absolute; z-index: 70; top: calc(100% + 4px); left: 0;
  width: max-content; min-width: 14rem; max-width: min(24rem, calc(100vw - 24px)); max-height: min(18rem, 60vh);
  overflow: auto; padding: 0.4rem; background: var(--background-fill-primary);
  border: 1px solid var(--border-color-primary); border-radius: 10px; box-shadow: 0 6px 24px rgba(0,0,0,0.2); }
.query-chips .chip-menu-find { width: 100%; box-sizing: border-box; margin-bottom: 0.35rem; padding: 0.25rem 0.5rem;
  border: 1px solid var(--border-color-primary); border-radius: 8px; background: var(--input-background-fill);
  color: var(--body-text-color); }
.query-chips .chip-menu-list { display: flex; flex-direction: column; align-items: stretch; gap: 0.25rem; }
.query-chips .chip-menu-list .chip { text-align: left; border-radius: 8px; }
.query-chips .chip-menu-list .chip[hidden] { display: none; }
"""
