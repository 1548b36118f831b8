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
from ..record import form_values
from ..generator import IMAGE_SIZES, KNOWN_MODELS, RANDOM_SEED
from ..guard import ServedFiles
from ..uploads import read_upload
from .common import as_text, fail, language, user_of

# Chunks shown in their own boxes; everything else goes to "other chunks".
PARAMETER_CHUNKS = ("parameters", "UserComment")
JSON_CHUNKS = ("generation", "prompt", "workflow", "invokeai_metadata", "sd-metadata", "Comment")
KNOWN_CHUNKS = (*PARAMETER_CHUNKS, *JSON_CHUNKS)
READABLE = ("png", "jpeg", "webp")


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

    def inspect(self, path: str | None, request: gr.Request):
        """Returns (summary, parameters text, generation/ComfyUI JSON text, other chunks, fields)."""
        if not path:
            return "", "", "", {}, None
        lang = language(request)
        if not self.files.may_read(path, user_of(request)):
            raise fail(i18n.message("not_found", lang), lang)  # as if it did not exist
        try:
            data = read_upload(path)
        except (OSError, ValueError) as exc:
            raise fail(i18n.message("not_a_png", lang, detail=type(exc).__name__), lang) from None
        if metadata.sniff_image_type(data) not in READABLE:
            raise fail(i18n.message("not_a_png", lang, detail="not a PNG, JPEG or WebP"), lang)
        info = formats.read_image(data)
        chunks = info.chunks
        kind, record = describe(info)
        json_parts = [f"# {name}\n{_pretty_json(chunks[name])}" for name in JSON_CHUNKS if name in chunks]
        others = {k: v for k, v in chunks.items() if k not in KNOWN_CHUNKS}
        fields = _fields(record, kind == "ours")
        summary = i18n.label(f"pnginfo_{kind}", lang)
        if fields is None and kind != "none":
            summary += " " + i18n.label("pnginfo_no_fields", lang)
        skipped = formats.left_out(record, fields) if record and kind != "ours" else []
        if skipped:
            summary += "  \n" + i18n.label("pnginfo_left_out", lang, names=as_text(", ".join(skipped)))
        summary += "  \n" + provenance.describe(info.provenance, lang)
        parameters = next((chunks[name] for name in PARAMETER_CHUNKS if name in chunks), "")
        return summary, parameters, "\n\n".join(json_parts), others, fields

    @staticmethod
    def send(fields: dict[str, Any] | None, request: gr.Request):
        """Fill the Generate form with what the file's settings map to.

        A model this API doesn't offer (e.g. an A1111 checkpoint name) leaves the form's
        model as it is, rather than setting up a certain 404.
        """
        if not fields:
            lang = language(request)
            raise fail(i18n.label("pnginfo_no_fields", lang), lang)
        prompt, model, size, enhance, seed = form_values(fields)
        return prompt, model if fields.get("model_maps") else gr.skip(), size, enhance, seed, gr.Tabs(selected="generate")


def _fields(record: dict[str, Any] | None, ours: bool) -> dict[str, Any] | None:
    """Keep what maps onto the form; sizes the API doesn't offer fall back to the default."""
    if not record or not isinstance(record.get("prompt"), str) or not record["prompt"].strip():
        return None
    seed = record.get("seed")
    model = record.get("model") if isinstance(record.get("model"), str) else ""
    return {
        "prompt": record["prompt"],
        "model": model,
        "model_maps": bool(model) and (ours or model in KNOWN_MODELS),
        "image_size": record.get("image_size") if record.get("image_size") in IMAGE_SIZES else IMAGE_SIZES[0],
        "prompt_enhancement": bool(record.get("prompt_enhancement", False)),
        "seed": seed if isinstance(seed, int) and 0 <= seed <= 9_999_999_999 else RANDOM_SEED,
    }
