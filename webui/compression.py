"""Compression for the page itself, which Gradio 6.31 sends uncompressed.

Gradio compresses (brotli, gzip as fallback) only paths ending in a text extension: its
scripts and styles. The page (`/`, with the whole config embedded, ~300 KB for this app)
and `/config` have no extension, so they went out as they are. `PageCompression` is
Gradio's own layer (`gradio.brotli_middleware`, same settings) applied to exactly those
extension-less GETs. Not to Gradio's API (`/gradio_api/`: event streams, uploads, files;
small and frequent), not to the REST API.
"""

from __future__ import annotations

from typing import Any

from gradio.brotli_middleware import BrotliMiddleware
from starlette.types import ASGIApp


class PageCompression(BrotliMiddleware):
    def __init__(self, app: ASGIApp, skip: tuple[str, ...] = ()) -> None:
        super().__init__(app, quality=4, minimum_size=1024)  # Gradio's quality for its assets
        self.skip = ("/gradio_api/", "/file=", *skip)

    def _is_compressible_file_type(self, scope: Any) -> bool:
        """Extension-less GETs outside the APIs: Gradio's layer takes the files with extensions."""
        path = scope.get("path", "")
        if scope.get("method") not in ("GET", "HEAD") or any(part in path for part in self.skip):
            return False
        return "." not in path.rsplit("/", 1)[-1]
