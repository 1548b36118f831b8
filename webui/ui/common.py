"""What the tab builders share: translations, styling and the Generate form's components."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from .. import i18n

T = gr.I18n(**{lang: dict(table) for lang, table in i18n.LABELS.items()})

CSS = """
#prompt textarea { min-height: 5.5em; }
#result img, #history-image img { object-fit: contain; }
#result-info code, #history-path code { overflow-wrap: anywhere; white-space: normal; }
.thumbs .grid-container { grid-template-columns: repeat(auto-fill, minmax(min(150px, 30%), 1fr)) !important; }
.thumbs .grid-wrap.fixed-height { min-height: 0; }
#compare-grid .grid-wrap.fixed-height { max-height: none; min-height: 0; }
#banner { border-radius: 8px; padding: 0.25rem 0.75rem; }
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
