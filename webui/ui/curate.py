"""The History tab's curating controls: star, rating and boards for the selected image, and a
share pack of everything the current search finds. Events only; the rules live in `curation`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..handlers.curation import CurationHandlers
from ..record import MAX_RATING
from .common import T


@dataclass
class CurateControls:
    starred: gr.Checkbox
    rating: gr.Radio
    board: gr.Dropdown
    board_add: gr.Button
    board_remove: gr.Button

    @property
    def on_picture(self) -> list[gr.components.Component]:
        """The controls that act on the open picture: usable only while one is open (with Reuse,
        Variation and Delete; see `handlers.history.picture_controls`)."""
        return [self.starred, self.rating, self.board, self.board_add, self.board_remove]


@dataclass
class ExportControls:
    export: gr.Button
    pack: gr.File


def build_curate_controls() -> CurateControls:
    """Under the selected image: its marks and boards."""
    with gr.Row(equal_height=True):
        # its width is the CSS's (as wide as its label on one line: webui/ui/common.py)
        starred = gr.Checkbox(False, label=T("starred"), scale=1, elem_id="history-star", interactive=False)
        rating = gr.Radio([(T("rating_none"), 0), *[(str(n), n) for n in range(1, MAX_RATING + 1)]], value=0,
                          label=T("rating"), scale=3, elem_id="history-rating", interactive=False)
    # Buttons keep their own height, on the field's baseline (not stretched to the field's box).
    with gr.Row(equal_height=False, elem_classes=["field-buttons"]):
        board = gr.Dropdown(choices=[], value=None, allow_custom_value=True, label=T("board_name"), scale=1,
                            min_width=160, elem_id="history-board", interactive=False)
        board_add = gr.Button(T("board_add"), size="sm", scale=0, min_width=100, elem_id="history-board-add",
                              interactive=False)
        board_remove = gr.Button(T("board_remove"), size="sm", scale=0, min_width=100,
                                 elem_id="history-board-remove", interactive=False)
    return CurateControls(starred, rating, board, board_add, board_remove)


def build_export_controls() -> ExportControls:
    """Under the grid: a share pack of the whole filter, not only the page in view."""
    with gr.Row(equal_height=True):
        export = gr.Button(T("export_filter"), size="sm", scale=1, elem_id="history-export")
        pack = gr.File(label=T("export_pack"), interactive=False, scale=2, elem_id="history-pack")
    return ExportControls(export, pack)


def wire_curate_controls(controls: CurateControls, export: ExportControls, handlers: CurationHandlers,
                         selected: gr.State, record: gr.JSON, listing: list, refresh: dict, status: gr.HTML) -> None:
    """`listing` is the search inputs; `refresh` re-lists the grid after a change; `status` is the
    History status line, where a refusal stays. The star and rating follow the selected image
    through the gallery's own select event (history_tab)."""
    private: dict[str, Any] = {"api_visibility": "private"}
    # Each re-lists the page afterwards, so the thumbnail's star and rating badge follows.
    controls.starred.input(handlers.star_selected, inputs=[selected, controls.starred],
                           outputs=[record, controls.starred, status], **private).success(**refresh)
    controls.rating.input(handlers.rate_selected, inputs=[selected, controls.rating], outputs=[record, status],
                          **private).success(**refresh)
    for button, add in ((controls.board_add, True), (controls.board_remove, False)):
        button.click(handlers.board_selected, inputs=[selected, controls.board, gr.State(add)],
                     outputs=[record, controls.board, status], **private).success(**refresh)
    export.export.click(handlers.export_filter, inputs=listing, outputs=[export.pack, status], **private)
