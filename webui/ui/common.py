"""What the tab builders share: translations, styling and the Generate form's components."""

from __future__ import annotations

import json
from dataclasses import dataclass

import gradio as gr

from .. import i18n

T = gr.I18n(**{lang: dict(table) for lang, table in i18n.LABELS.items()})

# Gradio 6.31 titles every toast with its type in English ("Error"), ignoring
# gr.Error(title=...); on a Chinese page this puts the title in the visitor's language.
_TOAST_TITLES = {kind: i18n.LABELS["zh"][f"toast_{kind}"] for kind in ("error", "warning", "info", "success")}
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
""" % json.dumps(_TOAST_TITLES, ensure_ascii=False)

CSS = """
#prompt textarea { min-height: 5.5em; }
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
        return [self.prompt, self.model, self.size, self.enhance, self.seed]


@dataclass
class Shared:
    """Components more than one tab touches."""

    form: Form
    tabs: gr.Tabs
    recent: gr.Gallery
    recent_ids: gr.State
