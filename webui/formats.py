"""What other image tools write into their files, read into this app's fields.

One reader per format, each from the format's public description (the tools' own
writers, cited per reader); all return a :class:`Reading` in this app's terms (prompt,
negative prompt, model, size, seed) plus every other setting as text under its own
label, so PNG Info can say what carried over to the Generate form and what did not.
Our own ``generation`` chunk is read by :mod:`webui.metadata` (the one place that knows
our fields); it calls :func:`read_settings` for everything else, so the history rebuild
and PNG Info read the same formats.

Where the texts come from (:func:`image_texts`): PNG ``tEXt``/``zTXt``/``iTXt`` chunks
and an ``eXIf`` chunk; JPEG APP1 EXIF and XMP segments; WebP ``EXIF`` and ``XMP `` chunks.
EXIF is read by a small IFD walker (UserComment, ImageDescription, Software, Make, Model,
MakerNote, XPComment), not by Pillow: bounded and linear on hostile input.

Everything here is data from anywhere: only ``json.loads``, ``int()`` and the infotext
regex touch it, nothing is evaluated (Fooocus' own reader ``eval``s its metadata).
Every reader is total: malformed input gives None, never an exception (fuzzed in tests).
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import metadata, provenance

__all__ = [
    "SOURCES",
    "ImageInfo",
    "Reading",
    "image_texts",
    "left_out",
    "read_image",
    "read_settings",
]

# Source keys, in the order they are tried; the UI names each one (i18n "pnginfo_<key>").
SOURCES = ("ours", "swarmui", "fooocus", "a1111", "invokeai", "comfyui", "novelai", "xmp", "aigc")
_MAX_JSON = 16 * 1024 * 1024  # metadata, not payloads
_MAX_SEED_DIGITS = 20
_MAX_GRAPH_STEPS = 64  # links followed through a ComfyUI graph
_OTHER_TEXT = 2000  # characters kept per "other" setting
_XMP_APP1 = b"http://ns.adobe.com/xap/1.0/\0"


@dataclass(frozen=True)
class Reading:
    """One tool's settings in this app's terms; ``other`` holds the rest, label -> text."""

    source: str
    prompt: str = ""
    negative_prompt: str = ""
    model: str | None = None
    image_size: str | None = None  # "WxH"
    seed: int | None = None
    prompt_enhancement: bool | None = None
    other: dict[str, str] = field(default_factory=dict)

    def as_record(self) -> dict[str, Any]:
        """The record-shaped dict the history and PNG Info use (like :func:`metadata.parse_infotext`)."""
        record: dict[str, Any] = {
            "source": self.source,
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "raw": dict(self.other),
        }
        for key in ("model", "image_size", "seed", "prompt_enhancement"):
            if getattr(self, key) is not None:
                record[key] = getattr(self, key)
        return record


# --------------------------------------------------------------------------- small parsers


def _json(text: str | None) -> Any:
    if not text or len(text) > _MAX_JSON:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _json_object(text: str | None) -> dict[str, Any] | None:
    text = text.strip() if isinstance(text, str) else None
    value = _json(text) if text and text[0] == "{" else None
    return value if isinstance(value, dict) else None


def _int(value: Any) -> int | None:
    """A whole number from an int, an integral float or a digit string; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e19:
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit() and text.isascii() and len(text) <= _MAX_SEED_DIGITS:
            return int(text)
    return None


def _seed(value: Any) -> int | None:
    number = _int(value)
    return number if number is not None and number >= 0 else None


def _size(width: Any, height: Any) -> str | None:
    w, h = _int(width), _int(height)
    return f"{w}x{h}" if w and h and 0 < w < 100_000 and 0 < h < 100_000 else None


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _text(value: Any) -> str:
    """A setting as text for the 'other' list."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _OTHER_TEXT else text[:_OTHER_TEXT] + "…"


def _others(data: Mapping[str, Any], used: Iterable[str]) -> dict[str, str]:
    skip = set(used)
    return {str(k): _text(v) for k, v in data.items() if k not in skip and v not in (None, "", [], {})}


def _params_text(texts: Mapping[str, str]) -> str | None:
    """A1111-style settings: the PNG ``parameters`` chunk, else EXIF UserComment (JPEG/WebP)."""
    for key in ("parameters", "UserComment"):
        value = texts.get(key)
        if value and value.strip():
            return value
    return None


# --------------------------------------------------------------------------- readers


def read_a1111(texts: Mapping[str, str], source: str = "a1111") -> Reading | None:
    """AUTOMATIC1111 / Forge infotext (``parameters`` chunk, or JPEG/WebP EXIF UserComment).

    Format: modules/infotext_utils.py (``parse_generation_parameters``): prompt lines,
    ``Negative prompt:`` lines, then ``Key: value, ...``. Parsed by metadata.parse_infotext.
    """
    text = _params_text(texts)
    if text is None or _json_object(text) is not None:
        return None
    parsed = metadata.parse_infotext(text)
    raw: dict[str, str] = parsed["raw"]
    enhancement = parsed.get("prompt_enhancement")
    return Reading(
        source=source,
        prompt=parsed["prompt"],
        negative_prompt=parsed["negative_prompt"],
        model=parsed.get("model"),
        image_size=parsed.get("image_size"),
        seed=parsed.get("seed") if isinstance(parsed.get("seed"), int) else None,
        prompt_enhancement=enhancement if isinstance(enhancement, bool) else None,
        other=_others(raw, (f.label for f in metadata.FIELDS if f.key in parsed)),
    )


def read_swarmui(texts: Mapping[str, str]) -> Reading | None:
    """SwarmUI: ``parameters`` (PNG) or EXIF UserComment holding ``{"sui_image_params": {...}}``.

    Keys per SwarmUI's T2IParamTypes ids: prompt, negativeprompt, model, seed, width,
    height, steps, cfgscale, ...; ``sui_extra_data`` (date, generation time) is kept too.
    """
    data = _json_object(_params_text(texts)) or {}
    params = data.get("sui_image_params")
    if not isinstance(params, dict):
        return None
    extra = data.get("sui_extra_data")
    extra = extra if isinstance(extra, dict) else {}
    used = ("prompt", "negativeprompt", "model", "seed", "width", "height")
    return Reading(
        source="swarmui",
        prompt=_str(params.get("prompt")),
        negative_prompt=_str(params.get("negativeprompt")),
        model=_str(params.get("model")) or None,
        image_size=_size(params.get("width"), params.get("height")),
        seed=_seed(params.get("seed")),
        other={**_others(params, used), **_others(extra, ())},
    )


_FOOOCUS_SCHEMES = ("fooocus", "a1111")
_RESOLUTION = re.compile(r"^\s*[\[(]\s*'?(\d{1,5})'?\s*,\s*'?(\d{1,5})'?\s*[\])]\s*$")


def read_fooocus(texts: Mapping[str, str]) -> Reading | None:
    """Fooocus: ``fooocus_scheme`` ("fooocus" or "a1111") beside ``parameters``.

    Per modules/meta_parser.py: scheme "fooocus" writes a sorted JSON object (prompt,
    negative_prompt, base_model, resolution "(1024, 1024)", seed as a string, steps,
    sampler, styles, ...); scheme "a1111" writes A1111 infotext. JPEG/WebP carry the
    same text in EXIF UserComment and the scheme in MakerNote.
    """
    scheme = (texts.get("fooocus_scheme") or texts.get("MakerNote") or "").strip().lower()
    data = _json_object(_params_text(texts))
    if scheme == "a1111":
        return read_a1111(texts, source="fooocus")
    if data is None or "sui_image_params" in data:
        return None
    looks_like = "prompt" in data and ("base_model" in data or "fooocus" in str(data.get("version", "")).lower())
    if scheme != "fooocus" and not looks_like:
        return None
    size = None
    resolution = data.get("resolution")
    if isinstance(resolution, (list, tuple)) and len(resolution) == 2:
        size = _size(*resolution)
    elif isinstance(resolution, str) and (match := _RESOLUTION.match(resolution)):
        size = _size(match.group(1), match.group(2))
    used = ("prompt", "negative_prompt", "base_model", "resolution", "seed", "full_prompt", "full_negative_prompt")
    return Reading(
        source="fooocus",
        prompt=_str(data.get("prompt")),
        negative_prompt=_str(data.get("negative_prompt")),
        model=_str(data.get("base_model")) or None,
        image_size=size,
        seed=_seed(data.get("seed")),
        other=_others(data, used),
    )


def read_invokeai(texts: Mapping[str, str]) -> Reading | None:
    """InvokeAI: ``invokeai_metadata`` JSON (v3+ core metadata), or the older ``sd-metadata``.

    invokeai_metadata (invocations/metadata.py, CoreMetadataInvocation): positive_prompt,
    negative_prompt, width, height, seed, model {name | model_name, base, ...}, steps,
    cfg_scale, scheduler, ... . sd-metadata (2.x): {"model_weights", "image": {"prompt":
    str or [{"prompt", "weight"}], "seed", "width", "height", "steps", "cfg_scale", ...}}.
    """
    data = _json_object(texts.get("invokeai_metadata"))
    if data is not None:
        model = data.get("model")
        name = model.get("name") or model.get("model_name") if isinstance(model, dict) else model
        used = ("positive_prompt", "negative_prompt", "width", "height", "seed", "model")
        return Reading(
            source="invokeai",
            prompt=_str(data.get("positive_prompt")),
            negative_prompt=_str(data.get("negative_prompt")),
            model=_str(name) or None,
            image_size=_size(data.get("width"), data.get("height")),
            seed=_seed(data.get("seed")),
            other=_others(data, used),
        )
    legacy = _json_object(texts.get("sd-metadata"))
    image = legacy.get("image") if legacy else None
    if not isinstance(image, dict):
        return None
    prompt = image.get("prompt")
    if isinstance(prompt, list):
        prompt = " ".join(_str(p.get("prompt")) for p in prompt if isinstance(p, dict))
    return Reading(
        source="invokeai",
        prompt=_str(prompt),
        model=_str((legacy or {}).get("model_weights")) or None,
        image_size=_size(image.get("width"), image.get("height")),
        seed=_seed(image.get("seed")),
        other=_others(image, ("prompt", "width", "height", "seed")),
    )


class _ComfyGraph:
    """ComfyUI's API-format graph (the ``prompt`` chunk): {id: {"class_type", "inputs"}}.

    An input is a value or a link ``[node_id, output_index]``. Per ComfyUI's
    execution.py / the default workflow: a sampler (KSampler, KSamplerAdvanced,
    SamplerCustom[Advanced]) takes model, positive, negative, latent_image and seed
    (``seed`` or ``noise_seed``, or a ``noise`` node); text comes from CLIPTextEncode
    (``text``, SDXL ``text_g``) possibly through conditioning nodes and guiders.
    """

    def __init__(self, nodes: Mapping[str, Any]) -> None:
        self.nodes = {str(k): v for k, v in nodes.items() if isinstance(v, dict)}

    def inputs(self, node_id: Any) -> dict[str, Any]:
        node = self.nodes.get(str(node_id)) if isinstance(node_id, (str, int)) else None
        value = node.get("inputs") if node else None
        return value if isinstance(value, dict) else {}

    @staticmethod
    def link(value: Any) -> str | None:
        if isinstance(value, list) and len(value) == 2 and isinstance(value[0], (str, int)):
            return str(value[0])
        return None

    def follow(self, start: Any, want: Callable[[dict[str, Any]], Any], through: tuple[str, ...]) -> Any:
        """Walk links from ``start`` through inputs named ``through`` until ``want`` finds a value."""
        todo, seen = [self.link(start)], set()
        for _ in range(_MAX_GRAPH_STEPS):
            if not todo:
                return None
            node_id = todo.pop(0)
            if node_id is None or node_id in seen:
                continue
            seen.add(node_id)
            inputs = self.inputs(node_id)
            found = want(inputs)
            if found is not None:
                return found
            todo += [self.link(inputs.get(name)) for name in through if name in inputs]
        return None

    def sampler(self) -> dict[str, Any] | None:
        def order(key: str) -> tuple[int, str]:
            return (int(key), key) if key.isdigit() else (1 << 62, key)

        for key in sorted(self.nodes, key=order):
            kind = str(self.nodes[key].get("class_type", ""))
            inputs = self.inputs(key)
            if "Sampler" in kind and ("positive" in inputs or "guider" in inputs):
                return inputs
        return None


_TEXT_THROUGH = ("conditioning", "conditioning_1", "conditioning_to", "conditioning_from", "positive", "text", "clip_l")


def _comfy_text(inputs: dict[str, Any]) -> str | None:
    for key in ("text", "text_g", "prompt", "value", "string"):
        if isinstance(inputs.get(key), str):
            return inputs[key]
    return None


def _comfy_model(inputs: dict[str, Any]) -> str | None:
    for key in ("ckpt_name", "unet_name", "model_name"):
        if isinstance(inputs.get(key), str):
            return inputs[key]
    return None


def _comfy_seed(inputs: dict[str, Any]) -> int | None:
    for key in ("seed", "noise_seed", "value"):
        if key in inputs and _seed(inputs[key]) is not None:
            return _seed(inputs[key])
    return None


def read_comfyui(texts: Mapping[str, str]) -> Reading | None:
    """ComfyUI: ``prompt`` (the API graph, read here) and ``workflow`` (the editor's graph)."""
    nodes = _json_object(texts.get("prompt"))
    if nodes is not None and any(isinstance(v, dict) and "class_type" in v for v in nodes.values()):
        return _read_comfy_graph(_ComfyGraph(nodes))
    workflow = _json_object(texts.get("workflow"))
    if workflow is not None and isinstance(workflow.get("nodes"), list):
        return _read_comfy_workflow(workflow)
    return None


def _read_comfy_graph(graph: _ComfyGraph) -> Reading:
    sampler = graph.sampler()
    if sampler is None:
        return Reading(source="comfyui")
    guider = graph.inputs(graph.link(sampler.get("guider")))
    positive = sampler.get("positive", guider.get("positive", guider.get("conditioning")))
    negative = sampler.get("negative", guider.get("negative"))
    seed = _seed(sampler.get("seed", sampler.get("noise_seed")))
    if seed is None:
        seed = graph.follow(sampler.get("noise", sampler.get("seed", sampler.get("noise_seed"))), _comfy_seed, ())
    latent = sampler.get("latent_image")
    size = graph.follow(latent, lambda i: _size(i.get("width"), i.get("height")), ("samples", "latent", "image"))
    model = graph.follow(sampler.get("model", guider.get("model")), _comfy_model, ("model",))
    other = {k: v for k, v in sampler.items() if graph.link(v) is None}
    return Reading(
        source="comfyui",
        prompt=graph.follow(positive, _comfy_text, _TEXT_THROUGH) or "",
        negative_prompt=graph.follow(negative, _comfy_text, _TEXT_THROUGH) or "",
        model=model,
        image_size=size,
        seed=seed,
        other=_others(other, ("seed", "noise_seed")),
    )


def _read_comfy_workflow(workflow: Mapping[str, Any]) -> Reading:
    """The editor's graph: nodes with ``widgets_values``, links [id, from, slot, to, slot, type].

    Only the default wiring is read: a KSampler (widgets: seed, control, steps, cfg,
    sampler, scheduler, denoise) fed by CLIPTextEncode, CheckpointLoaderSimple and
    EmptyLatentImage.
    """
    nodes = {n.get("id"): n for n in workflow["nodes"] if isinstance(n, dict)}
    links = {
        link[0]: link[1] for link in workflow.get("links") or [] if isinstance(link, list) and len(link) >= 2
    }

    def source(node: Mapping[str, Any], name: str) -> Mapping[str, Any]:
        for slot in node.get("inputs") or []:
            if isinstance(slot, dict) and slot.get("name") == name:
                found = nodes.get(links.get(slot.get("link")))
                return found if isinstance(found, dict) else {}
        return {}

    def widgets(node: Mapping[str, Any]) -> list[Any]:
        values = node.get("widgets_values")
        return values if isinstance(values, list) else []

    sampler = next((n for n in nodes.values() if str(n.get("type", "")).startswith("KSampler")), None)
    if sampler is None:
        return Reading(source="comfyui")
    values = widgets(sampler)
    text = [widgets(source(sampler, name))[:1] for name in ("positive", "negative")]
    size = widgets(source(sampler, "latent_image"))[:2]
    model = widgets(source(sampler, "model"))[:1]
    labels = ("seed", "control_after_generate", "steps", "cfg", "sampler_name", "scheduler", "denoise")
    return Reading(
        source="comfyui",
        prompt=_str(text[0][0]) if text[0] else "",
        negative_prompt=_str(text[1][0]) if text[1] else "",
        model=_str(model[0]) or None if model else None,
        image_size=_size(*size) if len(size) == 2 else None,
        seed=_seed(values[0]) if values else None,
        other=_others(dict(zip(labels, values, strict=False)), ("seed",)),
    )


def read_novelai(texts: Mapping[str, str]) -> Reading | None:
    """NovelAI: ``Comment`` JSON (prompt, uc = negative, seed, width, height, steps, scale,
    sampler, ...) with ``Software`` "NovelAI", ``Source`` naming the model and
    ``Description`` the prompt. V4 files add ``v4_prompt`` and keep ``prompt``."""
    data = _json_object(texts.get("Comment"))
    if data is None:
        return None
    software = (texts.get("Software") or "").lower()
    if "novelai" not in software and not ({"uc", "n_samples", "noise_schedule"} & data.keys()):
        return None
    prompt = _str(data.get("prompt")) or _str(texts.get("Description"))
    if not prompt and isinstance(data.get("v4_prompt"), dict):
        caption = data["v4_prompt"].get("caption")
        prompt = _str(caption.get("base_caption")) if isinstance(caption, dict) else ""
    used = ("prompt", "uc", "seed", "width", "height", "v4_prompt", "v4_negative_prompt")
    return Reading(
        source="novelai",
        prompt=prompt,
        negative_prompt=_str(data.get("uc")),
        model=_str(texts.get("Source")) or None,
        image_size=_size(data.get("width"), data.get("height")),
        seed=_seed(data.get("seed")),
        other=_others(data, used),
    )


def read_xmp(texts: Mapping[str, str]) -> Reading | None:
    """XMP (``XML:com.adobe.xmp``, JPEG APP1, WebP ``XMP ``): ``dc:description`` as the
    prompt, IPTC 2025.1 ``AISystemUsed`` as the model; an AIGC label alone says only that."""
    packet = texts.get(provenance.XMP_KEYWORD)
    if packet:
        labels, _types, description, system = provenance.read_xmp(packet)
        if description or system:
            return Reading(source="xmp", prompt=description or "", model=system)
        if labels:
            return Reading(source="aigc")
    if provenance.parse_label(texts.get(provenance.AIGC_KEYWORD)):
        return Reading(source="aigc")
    return None


# Tried in this order: the more specific JSON formats inside ``parameters`` first.
READERS: tuple[Callable[[Mapping[str, str]], Reading | None], ...] = (
    read_swarmui,
    read_fooocus,
    read_a1111,
    read_invokeai,
    read_comfyui,
    read_novelai,
    read_xmp,
)


def read_settings(texts: Mapping[str, str]) -> Reading | None:
    """The first format that recognises the texts (see :data:`READERS`), or None. Never raises."""
    for reader in READERS:
        reading = reader(texts)
        if reading is not None:
            return reading
    return None


_MAX_NAMES = 16


def _short(text: Any, limit: int = 48) -> str:
    name = " ".join(str(text).split())
    return name if len(name) <= limit else name[:limit] + "…"


def left_out(record: Mapping[str, Any], carried: Mapping[str, Any] | None) -> list[str]:
    """Labels of the settings in ``record`` that the Generate form did not take.

    ``carried`` is what went to the form (prompt, model if it maps, size, seed); the
    negative prompt and every other tool-specific setting (steps, sampler, CFG ...) are
    listed by the label the tool gave them (text from the file: escape it for Markdown).
    """
    names: list[str] = []
    if record.get("negative_prompt"):
        names.append("Negative prompt")
    mapped = {f.label for f in metadata.FIELDS}
    raw = record.get("raw")
    if isinstance(raw, Mapping):
        names += [str(label) for label in raw if label not in mapped]
    if carried is not None:
        for key, label in (("model", "Model"), ("image_size", "Size"), ("seed", "Seed")):
            value = record.get(key)
            dropped = not carried.get("model_maps") if key == "model" else carried.get(key) != value
            if value not in (None, "") and dropped:
                names.append(f"{label} ({value})")
    names = [name for name in map(_short, names) if name]
    return names if len(names) <= _MAX_NAMES else [*names[:_MAX_NAMES], f"+{len(names) - _MAX_NAMES}"]


# --------------------------------------------------------------------------- containers


@dataclass(frozen=True)
class ImageInfo:
    """Everything read from one image file."""

    kind: str | None  # "png", "jpeg", "webp" or None
    texts: tuple[tuple[str, str], ...]  # every text entry in file order, repeats kept
    reading: Reading | None  # settings in another tool's format (ours are in `generation`: see metadata)
    provenance: provenance.Provenance

    @property
    def chunks(self) -> dict[str, str]:
        """The texts by keyword, the last one winning (as Pillow and PNG Info show them)."""
        return dict(self.texts)


def read_image(data: bytes) -> ImageInfo:
    """Texts, settings and labels of a PNG, JPEG or WebP. Never raises."""
    kind = metadata.sniff_image_type(data)
    texts = tuple(image_texts(data))
    return ImageInfo(kind, texts, read_settings(dict(texts)), provenance.read_provenance(data, texts))


def image_texts(data: bytes) -> list[tuple[str, str]]:
    """(keyword, text) of every text entry: PNG text chunks, EXIF fields, XMP. Never raises."""
    kind = metadata.sniff_image_type(data)
    try:
        if kind == "png":
            return list(_png_texts(bytes(data)))
        if kind == "jpeg":
            return list(_jpeg_texts(data))
        if kind == "webp":
            return list(_webp_texts(data))
    except (ValueError, struct.error, IndexError):
        pass
    return []


def _png_texts(png: bytes) -> Iterator[tuple[str, str]]:
    yield from provenance._png_text_pairs(png)
    for pos, ctype, length in metadata._iter_chunks(png):
        if ctype == b"eXIf":
            yield from exif_texts(png[pos + 8 : pos + 8 + length])


def _jpeg_texts(data: bytes) -> Iterator[tuple[str, str]]:
    for marker, payload in provenance.jpeg_segments(data):
        if marker == 0xE1 and payload.startswith(b"Exif\0\0"):
            yield from exif_texts(payload[6:])
        elif marker == 0xE1 and payload.startswith(_XMP_APP1):
            yield provenance.XMP_KEYWORD, payload[len(_XMP_APP1) :].decode("utf-8", "replace")
        elif marker == 0xFE:
            yield "Comment", payload.decode("utf-8", "replace")


def _webp_texts(data: bytes) -> Iterator[tuple[str, str]]:
    for fourcc, payload in provenance.riff_chunks(data):
        if fourcc == b"EXIF":
            yield from exif_texts(payload[6:] if payload.startswith(b"Exif\0\0") else payload)
        elif fourcc == b"XMP ":
            yield provenance.XMP_KEYWORD, payload.decode("utf-8", "replace")


# EXIF tags read, by the keyword they are shown under.
_EXIF_TAGS = {
    0x010E: "ImageDescription",
    0x010F: "Make",
    0x0110: "Model",  # SwarmUI's legacy metadata place
    0x0131: "Software",
    0x9286: "UserComment",  # A1111, Fooocus, SwarmUI on JPEG/WebP
    0x927C: "MakerNote",  # Fooocus' metadata scheme
    0x9C9C: "XPComment",
}
_EXIF_IFD = 0x8769
_TYPE_SIZES = {1: 1, 2: 1, 7: 1}  # BYTE, ASCII, UNDEFINED: the text-carrying types
_MAX_IFD_ENTRIES = 512


def exif_texts(tiff: bytes) -> Iterator[tuple[str, str]]:
    """Text tags of an EXIF block (a TIFF structure): IFD0 and the Exif IFD, nothing else."""
    order = {b"II": "<", b"MM": ">"}.get(bytes(tiff[:2]))
    if order is None or len(tiff) < 8:
        return
    (first,) = struct.unpack_from(order + "I", tiff, 4)
    todo, seen = [first], set[int]()
    while todo and len(seen) < 4:
        offset = todo.pop()
        if offset in seen or offset + 2 > len(tiff):
            continue
        seen.add(offset)
        (count,) = struct.unpack_from(order + "H", tiff, offset)
        for i in range(min(count, _MAX_IFD_ENTRIES)):
            at = offset + 2 + 12 * i
            if at + 12 > len(tiff):
                break
            tag, kind, n, value = struct.unpack_from(order + "HHII", tiff, at)
            if tag == _EXIF_IFD and kind in (4, 13):
                todo.append(value)
            elif tag in _EXIF_TAGS and kind in _TYPE_SIZES:
                raw = tiff[at + 8 : at + 8 + n] if n <= 4 else tiff[value : value + n]
                text = _exif_string(tag, bytes(raw), order)
                if text:
                    yield _EXIF_TAGS[tag], text


def _exif_string(tag: int, raw: bytes, order: str) -> str:
    if tag == 0x9286:
        return decode_user_comment(raw, order)
    if tag == 0x9C9C:
        return raw.decode("utf-16-le", "replace").rstrip("\0").strip()
    return raw.decode("utf-8", "replace").rstrip("\0").strip()


def decode_user_comment(raw: bytes, order: str = ">") -> str:
    """EXIF UserComment: an 8-byte charset id, then the text.

    "UNICODE\\0" is UTF-16 whose byte order writers disagree on (piexif, which A1111
    uses, writes big-endian; others follow the file's byte order), so it is taken from a
    BOM, else from where the zero bytes of ASCII characters sit, else the file's order.
    """
    head, body = raw[:8], raw[8:]
    if head == b"UNICODE\0":
        if body[:2] in (b"\xfe\xff", b"\xff\xfe"):
            text = body.decode("utf-16", "replace")
        else:
            even, odd = body[0::2].count(0), body[1::2].count(0)
            big = even > odd or (even == odd and order == ">")
            text = body[: len(body) // 2 * 2].decode("utf-16-be" if big else "utf-16-le", "replace")
    elif head == b"ASCII\0\0\0" or head == b"\0" * 8:
        text = body.decode("utf-8", "replace")
    elif head == b"JIS\0\0\0\0\0":
        text = body.decode("shift_jis", "replace")
    else:
        text = raw.decode("utf-8", "replace")
    return text.rstrip("\0").strip()
