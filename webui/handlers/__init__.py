"""Event handlers: the edge where typed errors become `gr.Error` in the visitor's language.

One small class per area of the page; they call the generator and storage, never
HTTP or files directly, and return plain values for components.
"""

from __future__ import annotations

from dataclasses import dataclass

from .common import language, user_of
from .curation import CurationHandlers
from .generate import GenerateHandlers
from .history import HistoryHandlers
from .library import LibraryHandlers
from .pnginfo import PngInfoHandlers
from .usage import UsageHandlers


@dataclass
class Handlers:
    """Everything the UI wires to events."""

    generate: GenerateHandlers
    history: HistoryHandlers
    library: LibraryHandlers
    pnginfo: PngInfoHandlers
    usage: UsageHandlers
    curation: CurationHandlers


__all__ = ["Handlers", "CurationHandlers", "GenerateHandlers", "HistoryHandlers", "LibraryHandlers", "PngInfoHandlers", "UsageHandlers", "language",
           "user_of"]
