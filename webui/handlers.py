"""Event handlers: the edge where typed errors become `gr.Error` in the visitor's language.

Each handler is a small method the UI wires to an event. They call the generator
and storage, never HTTP or files directly, and return plain values for components.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import gradio as gr

from . import i18n
from .generator import Generator, InvalidInputError, StorageFailedError, validate
from .history import MAX_LIMIT
from .service import ImageApiError
from .storage import Storage

log = logging.getLogger(__name__)

GALLERY_SIZE = 24
Caption = tuple[str, str]


def language(request: gr.Request | None) -> str:
    """The visitor's language from their browser's Accept-Language (English otherwise)."""
    headers = getattr(request, "headers", None) or {}
    try:
        value = headers.get("accept-language")
    except Exception:  # headers may be an odd mapping in some Gradio paths
        value = None
    return i18n.pick_language(value)


def user_of(request: gr.Request | None) -> str | None:
    return getattr(request, "username", None) or None


def _fail(text: str, lang: str = i18n.FALLBACK) -> gr.Error:
    """A toast the user can act on; titled in their language, no traceback in the log."""
    return gr.Error(text, title=i18n.label("error_title", lang), print_exception=False)


@dataclass
class Handlers:
    """The app's behaviour, as Gradio sees it."""

    generator: Generator
    storage: Storage
    api_base: str
    demo_mode: bool

    # -- generation -----------------------------------------------------------------

    def generate(
        self,
        prompt: str,
        model: str,
        image_size: str,
        prompt_enhancement: bool,
        seed: float | int | None,
        request: gr.Request,
    ) -> tuple[str, dict[str, Any]]:
        """Generate one image and save it with its settings.

        Args:
            prompt: what the picture should show (up to 2000 characters).
            model: model name, e.g. "FLUX.1-schnell" or "stable-diffusion-3-5-large".
            image_size: one of 1024x1024, 512x1024, 768x512, 768x1024, 1024x576, 576x1024.
            prompt_enhancement: let the service enrich the prompt (some models only).
            seed: 0-9999999999 for a reproducible picture; -1 or empty for random.
        Returns:
            The saved PNG and its record (seed used, inference time, file name...).
        """
        lang = language(request)
        try:
            params = validate(prompt, model, image_size, prompt_enhancement, seed)
            record = self.generator.generate(params, user=user_of(request))
        except (InvalidInputError, ImageApiError) as exc:
            log.info("Generation refused: %s", type(exc).__name__)
            raise _fail(exc.message(lang), lang) from None
        except StorageFailedError as exc:
            log.error("Could not save an image in %s: %s", exc.folder, exc.detail)
            rescued = self.storage.rescue(exc.png)
            warning = exc.message(lang)
            gr.Warning(warning, duration=None, title=i18n.label("warning_title", lang))
            return str(rescued), {**exc.fields, "file": None, "saved": False, "warning": warning}
        return str(self.storage.path_of(record)), record

    def info_line(self, record: dict[str, Any] | None, request: gr.Request) -> str:
        """Seed, inference time and file name under the result, in the visitor's language."""
        if not record:
            return ""
        lang = language(request)
        inference = record.get("inference")
        timing = (
            i18n.label("inference_ms", lang, ms=round(inference))
            if isinstance(inference, (int, float))
            else i18n.label("inference_unknown", lang)
        )
        file = record.get("file") or i18n.label("saved_elsewhere", lang)
        return i18n.label("info_line", lang, seed=record.get("seed"), inference=timing, file=file)

    @staticmethod
    def last_seed(record: dict[str, Any] | None, previous: int | None) -> int | None:
        seed = (record or {}).get("seed")
        return seed if isinstance(seed, int) else previous

    @staticmethod
    def reuse_seed(last: int | None, current: float | None) -> float | int | None:
        return last if last is not None else current

    @staticmethod
    def random_seed() -> int:
        return -1

    # -- history --------------------------------------------------------------------

    def history(self, query: str = "", offset: int = 0, limit: int = 50) -> list[dict[str, Any]]:
        """Saved image records, newest first.

        Args:
            query: case-insensitive text to find in the prompt; "" for all images.
            offset: how many of the newest records to skip (0 or more).
            limit: how many records to return (1-500).
        Returns:
            A list of records: id, prompt, model, image_size, prompt_enhancement, seed,
            inference, file (relative to the outputs folder), created_at.
        """
        try:
            offset = int(offset)
            limit = int(limit)
        except (TypeError, ValueError):
            raise _fail(i18n.message("bad_history_query")) from None
        if offset < 0 or not 1 <= limit <= MAX_LIMIT:
            raise _fail(i18n.message("bad_history_query"))
        return self.storage.history(query if isinstance(query, str) else "", offset, limit)

    def gallery(self) -> tuple[list[Caption], list[str]]:
        """Thumbnails of the newest images with their prompts, and the matching record ids."""
        records = self.storage.history("", 0, GALLERY_SIZE)
        items = [(str(self.storage.thumbnail(r)), _caption(r)) for r in records]
        return items, [r["id"] for r in records]

    def select_from_gallery(
        self, ids: list[str], evt: gr.SelectData, request: gr.Request
    ) -> tuple[str | None, dict[str, Any] | None, str]:
        """Show a gallery item's full PNG and details; looked up by id, never by position alone."""
        index = evt.index if isinstance(evt.index, int) else None
        if index is None or not 0 <= index < len(ids):
            return None, None, ""
        record = self.storage.get(ids[index])
        if record is None:
            return None, None, ""
        return str(self.storage.path_of(record)), record, self.info_line(record, request)


def _caption(record: dict[str, Any]) -> str:
    prompt = str(record.get("prompt", "")).replace("\n", " ")
    return (prompt[:80] + "…") if len(prompt) > 80 else prompt
