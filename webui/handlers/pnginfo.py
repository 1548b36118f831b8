"""PNG Info: read any dropped PNG's text chunks and offer its settings to the Generate form.

Everything in a dropped file is data: parsed with `json.loads` and the infotext
parser, shown as plain text, never evaluated or rendered as HTML.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import gradio as gr

from .. import formats, i18n, metadata, provenance
from ..errors import InvalidInputError
from ..generator import IMAGE_SIZES, KNOWN_MODELS, MAX_SEED, RANDOM_SEED
from ..guard import ServedFiles
from ..record import form_values
from ..uploads import read_upload, save_chunks
from . import card
from .common import as_text, fail, language, refuse, user_of

# Chunks shown in their own boxes; everything else goes to "other chunks".
PARAMETER_CHUNKS = ("parameters", "UserComment")
JSON_CHUNKS = ("generation", "prompt", "workflow", "invokeai_metadata", "sd-metadata", "Comment")
KNOWN_CHUNKS = (*PARAMETER_CHUNKS, *JSON_CHUNKS)
READABLE = ("png", "jpeg", "webp")
SHOWN_CHARS = 20_000  # per chunk; the rest is in the download
SHOWN_CHUNKS = 50  # "other chunks" listed


def _pretty_json(text: str) -> str:
    """Indent JSON for reading; anything that isn't JSON is shown as it is."""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return text


def describe(info: formats.ImageInfo) -> tuple[str, dict[str, Any] | None]:
    """Which tool wrote the file (a key of formats.SOURCES, or other/none) and its settings."""
    chunks = info.chunks
    record = metadata.record_from_chunks(chunks)
    if record is not None and "generation" in chunks and "id" in record:
        return "ours", record
    if info.reading is not None:
        return info.reading.source, record
    return ("other" if chunks else "none"), None


@dataclass
class PngInfoHandlers:
    files: ServedFiles  # the owner rule: in private mode, another user's image is not read

    def inspect(self, path: str | None, request: gr.Request, tz: str | None = None) -> Any:
        """Returns (summary, parameters text, generation/ComfyUI JSON text, other chunks, fields, download,
        settings card). The card is the one Details and History show, times in the visitor's zone `tz`.

        What is shown is bounded (SHOWN_CHARS per chunk, SHOWN_CHUNKS other chunks): a file
        with a 50 MB chunk must not become a 50 MB answer. When anything was cut, every
        chunk in full is offered as a JSON download.
        """
        if not path:
            return "", "", "", {}, None, gr.File(value=None, visible=False), ""
        lang = language(request)
        if not self.files.may_read(path, user_of(request)):
            raise refuse("not_found", lang)  # as if it did not exist
        try:
            data = self._read(path, user_of(request))
        except (OSError, ValueError):
            data = b""
        if metadata.sniff_image_type(data) not in READABLE:
            # one clear message where the settings would be (no error toasts, no "Error" pills)
            return (i18n.message("not_an_image", lang), "", "", {}, None, gr.File(value=None, visible=False), "")
        info = formats.read_image(data)
        chunks = info.chunks
        kind, record = describe(info)
        shown = _Shown(lang)
        json_parts = [f"# {name}\n{shown.json(chunks[name])}" for name in JSON_CHUNKS if name in chunks]
        others = shown.chunks({k: v for k, v in chunks.items() if k not in KNOWN_CHUNKS})
        fields = _fields(record, kind == "ours")
        summary = i18n.label(f"pnginfo_{kind}", lang)
        if fields is None and kind != "none":
            summary += " " + i18n.label("pnginfo_no_fields", lang)
        skipped = formats.left_out(record, fields) if record and kind != "ours" else []
        if skipped:
            summary += "  \n" + i18n.label("pnginfo_left_out", lang, names=as_text(", ".join(skipped)))
        summary += "  \n" + provenance.describe(info.provenance, lang)
        parameters = shown.text(next((chunks[name] for name in PARAMETER_CHUNKS if name in chunks), ""))
        download = gr.File(value=str(save_chunks(chunks)) if shown.cut else None, visible=shown.cut)
        settings = card.settings_card({k: shown.text(v) if isinstance(v, str) else v for k, v in record.items()},
                                      lang, tz) if record else ""
        return summary, parameters, "\n\n".join(json_parts), others, fields, download, settings

    def preview(self, path: str | None, request: gr.Request) -> str | None:
        """The dropped file for the eye (shown as it is; the settings come from `inspect`),
        or None when it is not an image this tab reads or not the visitor's to see."""
        if not path or not self.files.may_read(path, user_of(request)):
            return None
        try:
            kind = metadata.sniff_image_type(read_upload(path))
        except (OSError, ValueError):
            return None
        return path if kind in READABLE else None

    def read(self, path: str | None, request: gr.Request | None = None) -> dict[str, Any]:
        """`/png_info`: what the app reads from any PNG, JPEG or WebP, as one dict.

        Raises InvalidInputError("not_a_png") for a file that can't be read or isn't an image.
        """
        if not path:
            raise InvalidInputError("not_a_png", detail="no file")
        if not self.files.may_read(path, user_of(request)):
            raise InvalidInputError("not_found")  # as if it did not exist
        try:
            data = self._read(path, user_of(request))
        except (OSError, ValueError) as exc:
            raise InvalidInputError("not_a_png", detail=type(exc).__name__) from None
        kind = metadata.sniff_image_type(data)
        if kind not in READABLE:
            raise InvalidInputError("not_a_png", detail="not a PNG, JPEG or WebP")
        info = formats.read_image(data)
        source, record = describe(info)
        fields = _fields(record, source == "ours")
        # Bounded like the page's view: a 50 MB chunk must not become a 50 MB answer.
        shown = _Shown(language(request))
        chunks = shown.chunks(info.chunks)
        shown_record = {k: shown.text(v) if isinstance(v, str) else v for k, v in (record or {}).items()}
        return {"format": kind, "kind": source, "chunks": chunks, "record": shown_record if record else None,
                "fields": fields, "truncated": shown.cut,
                "left_out": formats.left_out(record, fields) if record and source != "ours" else [],
                "labels": info.provenance.as_dict()}

    def _read(self, path: str, user: str | None) -> bytes:
        """The file as `user` would download it: someone else's image without their curation."""
        data = read_upload(path)
        return self.files.copy_for(path, user, data) or data

    @staticmethod
    def send(fields: dict[str, Any] | None, request: gr.Request) -> Any:
        """Fill the Generate form with what the file's settings map to.

        A model this API doesn't offer (e.g. an A1111 checkpoint name) leaves the form's
        model as it is, rather than setting up a certain 404.
        """
        if not fields:
            lang = language(request)
            raise fail(i18n.label("pnginfo_no_fields", lang), lang)
        prompt, model, size, enhance, seed = form_values(fields)
        return prompt, model if fields.get("model_maps") else gr.skip(), size, enhance, seed, gr.Tabs(selected="generate")


class _Shown:
    """Cuts what PNG Info shows to a readable size, and remembers whether it cut anything."""

    def __init__(self, lang: str) -> None:
        self.lang, self.cut = lang, False

    def text(self, value: str) -> str:
        if len(value) <= SHOWN_CHARS:
            return value
        self.cut = True
        return value[:SHOWN_CHARS] + "\n" + i18n.label("pnginfo_more", self.lang, count=len(value) - SHOWN_CHARS)

    def json(self, value: str) -> str:
        return _pretty_json(value) if len(value) <= SHOWN_CHARS else self.text(value)  # huge: not parsed

    def chunks(self, chunks: dict[str, str]) -> dict[str, str]:
        kept = {name: self.text(value) for name, value in list(chunks.items())[:SHOWN_CHUNKS]}
        if len(chunks) > SHOWN_CHUNKS:
            self.cut = True
            kept["…"] = i18n.label("pnginfo_more_chunks", self.lang, count=len(chunks) - SHOWN_CHUNKS)
        return kept


def _fields(record: dict[str, Any] | None, ours: bool) -> dict[str, Any] | None:
    """Keep what maps onto the form; sizes the API doesn't offer fall back to the default."""
    if not record or not isinstance(record.get("prompt"), str) or not record["prompt"].strip():
        return None
    seed = record.get("seed")
    model = record.get("model") if isinstance(record.get("model"), str) else ""
    return {
        "prompt": record["prompt"][:SHOWN_CHARS],  # kept in the session: bounded too
        "model": model,
        "model_maps": bool(model) and (ours or model in KNOWN_MODELS),
        "image_size": record.get("image_size") if record.get("image_size") in IMAGE_SIZES else IMAGE_SIZES[0],
        "prompt_enhancement": bool(record.get("prompt_enhancement", False)),
        "seed": seed if isinstance(seed, int) and 0 <= seed <= MAX_SEED else RANDOM_SEED,
    }
