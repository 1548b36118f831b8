"""What the tab builders share: translations, styling and the Generate form's components."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import gradio as gr

from .. import i18n
from ..admission import GENERATE
from ..handlers.generate import GRID_OUTPUTS

# Also under "zh-CN": a browser set to zh-CN then gets Gradio's own Chinese (upload,
# fullscreen, …) merged with ours, instead of our "zh" table alone over English defaults.
T = gr.I18n(**{lang: dict(table) for lang, table in i18n.LABELS.items()}, **{"zh-CN": dict(i18n.LABELS["zh"])})

# Gradio 6.31 titles every toast with its type in English ("Error"), ignoring
# gr.Error(title=...); on a Chinese page this puts the title in the visitor's language.
_TOAST_TITLES = {kind: i18n.LABELS["zh"][f"toast_{kind}"] for kind in ("error", "warning", "info", "success")}
# Gradio's own English labels and the Chinese a zh page shows instead (see HEAD).
_GRADIO_ZH = {
    "Empty value": "空", "Click to upload or drop files": "点击上传或拖放文件", "File upload": "上传文件",
    "Copy": "复制", "Copied": "已复制", "Fullscreen": "全屏", "Exit fullscreen": "退出全屏", "Download": "下载",
    "Clear": "清除", "common.complete": "完成", "Remove": "移除", "Close": "关闭", "Gradio footer navigation": "页脚导航",
    "Reset to default value": "恢复默认值", "Code input container": "代码", "Collapse": "折叠", "Expand": "展开",
    "Fold line": "折叠此行", "Unfold line": "展开此行",
    # a text node: the busy mark Gradio shows over a component while its event runs
    "processing |": "处理中 |",
}
HEAD = """
<script>
(() => {
  if (!(navigator.language || "").toLowerCase().startsWith("zh")) return;
  const titles = %s;
  const retitle = () => document.querySelectorAll(".toast-title").forEach((el) => {
    const kind = Object.keys(titles).find((k) => el.classList.contains(k));
    const text = [...el.childNodes].find((n) => n.nodeType === 3 && n.nodeValue.trim());
    if (kind && text && text.nodeValue.trim() !== titles[kind]) text.nodeValue = titles[kind] + " ";
  });
  new MutationObserver(retitle).observe(document.body, {childList: true, subtree: true});
})();
</script>
""" % json.dumps(_TOAST_TITLES, ensure_ascii=False) + """
<script>
(() => {
  const zh = (navigator.language || "").toLowerCase().startsWith("zh");
  const zhTitle = %s;
  // Gradio sets the page title from the app's (English) title after mounting.
  const retitle = () => { if (zh && !document.title.endsWith(zhTitle)) document.title = zhTitle; };
  const baseTitle = () => document.title.replace(/^[✓⚠■] /, "");
  // #status: the elapsed time counts on in the browser from what the server last said.
  const since = new WeakMap();
  setInterval(retitle, 500);
  setInterval(() => document.querySelectorAll(".status-line .elapsed").forEach((el) => {
    if (!since.has(el)) since.set(el, performance.now() - parseFloat(el.dataset.elapsed || "0") * 1000);
    const s = Math.floor((performance.now() - since.get(el)) / 1000);
    el.textContent = s < 60 ? s + el.dataset.unit : Math.floor(s / 60) + el.dataset.min + " " + (s %% 60) + el.dataset.unit;
  }), 500);
  // Copy buttons in settings cards.
  document.addEventListener("click", (e) => {
    const b = e.target.closest && e.target.closest("button.copy[data-copy]");
    if (!b) return;
    if (navigator.clipboard) navigator.clipboard.writeText(b.dataset.copy).catch(() => {});
    b.classList.add("copied");
    setTimeout(() => b.classList.remove("copied"), 1500);
  });
  // A job that ends while the tab is in the background: say so in the title (and as a
  // browser notification, if the visitor allowed them).
  const last = {};
  new MutationObserver(() => {
    document.querySelectorAll("#status .status-line, #compare-status .status-line, #matrix-status .status-line").forEach((el) => {
      const where = el.closest("[id]").id, state = el.dataset.state, before = last[where];
      last[where] = state;
      if (before !== "waiting" || state === "waiting" || !document.hidden) return;
      const mark = {done: "✓", error: "⚠", stopped: "■"}[state] || "✓";
      document.title = mark + " " + baseTitle();
      if (window.Notification && Notification.permission === "granted") {
        try { new Notification(baseTitle(), {body: el.textContent.trim()}); } catch (err) {}
      }
    });
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
  document.addEventListener("visibilitychange", () => { if (!document.hidden) document.title = baseTitle(); });
  // Gradio 6.31 leaves some of its own tooltips and screen-reader labels in English (or
  // as raw keys) on a Chinese page: say them in Chinese.
  if (zh) {
    const words = %s;
    const say = (v) => words[v] || v.replace(/^Thumbnail (\\d+) of (\\d+)$/, "第 $1/$2 张缩略图")
      .replace(/^Line number (\\d+)$/, "第 $1 行").replace(/^number input for (.+)$/, "$1（数字）")
      .replace(/^range slider for (.+)$/, "$1（滑块）");
    const fix = () => {
      document.querySelectorAll("[title], [aria-label]").forEach((el) => {
        for (const a of ["title", "aria-label"]) {
          const v = el.getAttribute(a);
          if (v && /[A-Za-z]/.test(v) && say(v) !== v) el.setAttribute(a, say(v));
        }
      });
      const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      while (walk.nextNode()) {
        const n = walk.currentNode, v = n.nodeValue.trim();
        if (v === "common.complete" || v === "processing |") n.nodeValue = words[v];
        else if (v.startsWith("queue: ")) n.nodeValue = n.nodeValue.replace("queue: ", "排队 ");  // "queue: 2/5 |"
      }
    };
    new MutationObserver(fix).observe(document.body, {childList: true, subtree: true, characterData: true,
                                                      attributes: true, attributeFilter: ["title", "aria-label"]});
  }
  // Recent images: one Tab stop; the arrow keys move between thumbnails (roving tabindex).
  const rove = () => {
    const items = [...document.querySelectorAll("#gallery .thumbnail-item")];
    if (!items.length || items.some((b) => b.tabIndex === 0 && b.dataset.roved)) return;
    items.forEach((b, i) => { b.tabIndex = i === 0 ? 0 : -1; b.dataset.roved = "1"; });
  };
  new MutationObserver(rove).observe(document.body, {childList: true, subtree: true});
  document.addEventListener("keydown", (e) => {
    const item = e.target.closest && e.target.closest("#gallery .thumbnail-item");
    if (!item) return;
    const step = {ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1, Home: -1e9, End: 1e9}[e.key];
    if (step === undefined) return;
    const items = [...document.querySelectorAll("#gallery .thumbnail-item")];
    const next = items[Math.max(0, Math.min(items.length - 1, items.indexOf(item) + step))];
    items.forEach((b) => { b.tabIndex = b === next ? 0 : -1; });
    next.focus();
    e.preventDefault();
  });
})();
</script>
""" % (json.dumps(i18n.LABELS["zh"]["heading"].lstrip("# "), ensure_ascii=False),
       json.dumps(_GRADIO_ZH, ensure_ascii=False))

CSS = """
#heading h1 { font-size: 1.35rem; margin: 0.2rem 0; }
#subtitle p { margin: 0; color: var(--body-text-color-subdued); }
#header { align-items: center; }
#banner-row { align-items: center; }
#demo-howto .label-wrap { padding: 0.25rem 0.5rem; }
#banner p { margin: 0; }
#prompt textarea { min-height: 5.5em; }
.status-line { padding: 0.5rem 0.75rem; border-radius: 8px; border: 1px solid var(--border-color-primary); }
.status-line.error { background: var(--error-background-fill, #fef2f2); color: var(--error-text-color, #b91c1c);
  border: 1px solid var(--error-border-color, #fca5a5); }
.status-line.done { background: var(--color-accent-soft); }
.status-line.note { background: none; border: none; padding: 0.25rem 0; }
.status-line .icon { display: inline-block; min-width: 1.1em; }
.spinner { display: inline-block; width: 0.9em; height: 0.9em; border: 2px solid currentColor; border-right-color: transparent;
  border-radius: 50%; animation: yunyx-spin 0.8s linear infinite; vertical-align: -0.1em; }
@keyframes yunyx-spin { to { transform: rotate(360deg); } }
.settings-card { display: grid; grid-template-columns: max-content 1fr; gap: 0.3rem 1rem; margin: 0; }
.settings-card dt { color: var(--body-text-color-subdued); }
.settings-card dd { margin: 0; overflow-wrap: anywhere; }
.settings-card .prompt-text { white-space: pre-wrap; }
button.copy { font-size: 0.8em; padding: 0 0.5em; margin-left: 0.4em; border: 1px solid var(--border-color-primary);
  border-radius: 4px; cursor: pointer; }
button.copy.copied { background: var(--color-accent-soft); }
.compare-table { border-collapse: collapse; width: 100%; }
.compare-table th { font-weight: 600; padding: 0.3rem; text-align: center; white-space: nowrap; }
.compare-table th[scope=row] { text-align: right; white-space: normal; max-width: 9rem; }
.compare-table td { padding: 0.3rem; vertical-align: top; text-align: center; }
.compare-table img { max-width: 100%; max-height: 340px; object-fit: contain; border-radius: 6px; }
.compare-table .cell.waiting { min-height: 8rem; display: flex; align-items: center; justify-content: center;
  border: 1px dashed var(--border-color-primary); border-radius: 6px; color: var(--body-text-color-subdued); }
#compare-grid { overflow-x: auto; }
#size label, #compare-sizes label { white-space: nowrap; }
/* History: the grid uses the page's height (no inner scroll box); captions only on hover */
#history_gallery .grid-wrap, #trash .grid-wrap { max-height: none !important; height: auto !important; overflow: visible !important; }
#history_gallery .caption-label, #trash .caption-label { opacity: 0; transition: opacity 0.15s; white-space: pre-line;
  max-width: 100%; font-size: 0.75rem; }
#history_gallery .thumbnail-item:hover .caption-label, #history_gallery .thumbnail-item:focus-visible .caption-label,
#trash .thumbnail-item:hover .caption-label { opacity: 1; }
/* A touch screen keeps :hover on what was tapped: there a caption would stay over the picture
   just picked. (One selector a rule: Gradio re-prefixes rules inside @media.) */
@media (hover: none) {
  #history_gallery .thumbnail-item:hover .caption-label { opacity: 0; }
  #trash .thumbnail-item:hover .caption-label { opacity: 0; }
  #gallery .thumbnail-item:hover .caption-label { opacity: 0; }
}
#history-empty p { margin: 0; }
/* The star box is as wide as its label on one line: on a phone "★" sat above "Starred" */
#history-star { min-width: max-content !important; }
/* off while no picture is open: Gradio draws a disabled choice ("none" included) and field as if live */
#history-star:has(input:disabled), #history-rating:has(input:disabled), #history-board:has(input:disabled) { opacity: 0.55; }
/* ...and Reuse, a primary button, grey like the others when off (Gradio keeps it a lighter purple) */
#reuse:disabled { filter: grayscale(1); }
/* Recent: the picture, not its caption (the prompt shows on hover and in the result's info line) */
#gallery .caption-label { opacity: 0; transition: opacity 0.15s; }
#gallery .thumbnail-item:hover .caption-label, #gallery .thumbnail-item:focus-visible .caption-label { opacity: 1; }
/* The share pack's file box shows once there is a pack to download (empty, it looked like an upload box) */
#history-pack:not(:has(a)) { display: none; }
/* An empty status line takes no room (it would leave a gap under the result) */
#status:not(:has(.status-line)), #compare-status:not(:has(.status-line)), #matrix-status:not(:has(.status-line)),
#history-status:not(:has(.status-line)) { display: none; }
.settings-card + p, p.carried, p.left-out { margin: 0.4rem 0 0; }
#result img, #history-image img { object-fit: contain; }
#result-info code, #history-path code { overflow-wrap: anywhere; white-space: normal; }
.thumbs .grid-container { grid-template-columns: repeat(auto-fill, minmax(min(150px, 30%), 1fr)) !important; }
.thumbs .grid-wrap.fixed-height { min-height: 0; }
#compare-grid .grid-wrap.fixed-height { max-height: none; min-height: 0; }
#banner { border-radius: 8px; padding: 0.25rem 0.75rem; }
.matrix-grid { border-collapse: collapse; margin: 0.5rem 0; }
.matrix-grid caption { caption-side: top; text-align: left; padding-bottom: 0.25rem; }
.matrix-grid th, .matrix-grid td { border: 1px solid var(--border-color-primary); padding: 0.25rem; vertical-align: middle; }
.matrix-grid thead th { position: sticky; top: 0; background: var(--background-fill-secondary); }
.matrix-grid th[scope=row] { max-width: 12rem; overflow-wrap: anywhere; text-align: left; }
.matrix-grid img { display: block; width: min(220px, 28vw); height: auto; }
.matrix-grid td.waiting { width: min(220px, 28vw); height: 6rem; text-align: center; color: var(--body-text-color-subdued); }
#banner.demo { background: var(--color-accent-soft); }
@media (max-width: 640px) {
  #result, #history-image { height: auto !important; max-height: 70vh; }
  /* History scrolls to the picture box while it is still empty (0 px high); as the picture loads
     the box grows, and scroll anchoring kept the buttons below in place: the picture ended above the screen */
  #history-side { overflow-anchor: none; }
  /* the star on a line of its own, the rating full width below it (not three lines beside it) */
  #history-star { flex-basis: 100%; }
  /* Generate and Stop always in reach: a bar along the bottom of the screen */
  #actions, #compare-actions, #matrix-actions { position: fixed; left: 0; right: 0; bottom: 0; z-index: 30; margin: 0;
    padding: 0.5rem 0.75rem; background: var(--background-fill-primary); box-shadow: 0 -2px 8px rgba(0,0,0,0.12); }
  body { padding-bottom: 4.5rem; }
  /* Chinese tab names are short: five fit on one line of a phone (with Gradio's padding the last wrapped alone) */
  #tabs button[role="tab"]:lang(zh) { padding: 0 10px; }
}
"""


@dataclass
class Form:
    """The Generate form: other tabs read it (Compare) and fill it (Reuse, PNG Info)."""

    prompt: gr.Textbox
    model: gr.Dropdown
    size: gr.Radio
    enhance: gr.Checkbox
    seed: gr.Number

    @property
    def fields(self) -> list[gr.components.Component]:
        """In the order of the `/generate` API and of `form_values()`."""
        return list(self.named.values())

    @property
    def named(self) -> dict[str, gr.components.Component]:
        """By the names of `generator.validate`'s parameters (`inputs_kwargs` of the page's runs)."""
        return {"prompt": self.prompt, "model": self.model, "image_size": self.size,
                "prompt_enhancement": self.enhance, "seed": self.seed}


@dataclass
class Shared:
    """Components more than one tab touches."""

    form: Form
    tabs: gr.Tabs
    recent: gr.Gallery
    recent_ids: gr.State
    again: gr.State  # set it to a new value to run the page's one generation event
    tz: gr.Textbox  # the browser's time zone


class GridRunTab(Protocol):
    """A tab that runs a grid of generations (Compare, Matrix): the controls `wire_grid_run` wires."""

    run: gr.Button
    stop: gr.Button
    status: gr.HTML
    retry: gr.Button
    grid: gr.HTML


def wire_grid_run(tab: GridRunTab, fn: Callable[..., Any], inputs: list[Any], inputs_kwargs: dict[str, Any],
                  stop: Callable[..., Any], concurrency: int, refresh_recent: dict) -> None:
    """A grid run's events, declared once for Compare and Matrix: Run and Try again start it under
    the generations' concurrency limit, once at a time, its steps filling the grid, status line,
    Stop and Try again (in the order the handler's steps carry them, `GRID_OUTPUTS`); Stop is
    cooperative (what reached the API still lands and shows); Recent is refreshed after, however
    it ended."""
    run = gr.on(
        [tab.run.click, tab.retry.click],
        fn,
        inputs=inputs,
        inputs_kwargs=inputs_kwargs,
        outputs=[getattr(tab, name) for name in GRID_OUTPUTS],
        concurrency_limit=concurrency,
        concurrency_id=GENERATE,
        show_progress="hidden",
        trigger_mode="once",
        api_visibility="private",
    )
    tab.stop.click(stop, outputs=[tab.status, tab.stop], queue=False, api_visibility="private")
    run.then(**refresh_recent)
