"""Generation metadata in PNG files: the chunk and infotext writer and parser.

Each saved image carries two PNG text chunks:

* ``parameters``: an AUTOMATIC1111 ("A1111") infotext, so other tools
  (A1111 "PNG Info", civitai, image viewers) show the prompt and settings;
* ``generation``: the full record as JSON, the lossless source we read back.

Writer and parser live side by side (like A1111's ``infotext_utils.py``); the
fields themselves, with their infotext labels, are declared once on
:class:`webui.record.Record`.  The module has no global
mutable state; Pillow is used only to convert non-PNG images (:func:`to_png`).
PNG text chunks are spliced byte-wise so the pixel data is never re-encoded.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zlib
from collections.abc import Iterator, Mapping
from typing import Any

from .record import INFOTEXT_FIELDS, JSON_ENCODER, InfotextField, Record

__all__ = [
    "BadImageError",
    "FIELDS",
    "Field",
    "NotPNGError",
    "add_text_chunks",
    "embed_record",
    "infotext",
    "parse_infotext",
    "read_record",
    "read_text_chunks",
    "sniff_image_type",
    "text_chunks",
    "text_pieces",
    "to_png",
]


class NotPNGError(ValueError):
    """The bytes are not a PNG we can splice chunks into."""


class BadImageError(ValueError):
    """The bytes are not a usable image (unknown, corrupt, or too large)."""


# --------------------------------------------------------------------------
# Fields
# --------------------------------------------------------------------------


# The infotext fields, their labels and kinds are declared on the record itself.
Field = InfotextField
FIELDS: tuple[Field, ...] = INFOTEXT_FIELDS

_FIELDS_BY_LABEL: Mapping[str, Field] = {f.label: f for f in FIELDS}
_REQUIRED_JSON_KEYS = ("prompt", "model", "seed")
_NEGATIVE_PREFIX = "Negative prompt:"

# --------------------------------------------------------------------------
# Infotext (A1111 "parameters")
# --------------------------------------------------------------------------

# A1111's pattern is
#   r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)'
# and it is quadratic: findall retries the key part at every position of a
# long run of word characters that is not followed by ':' (a 40 KB line of
# letters takes seconds, 1 MB would take hours).  Inside one run every start
# reaches the same run end, so only the run's start can ever succeed; the
# lookbehind below enforces that and the leading ``[ \-/]*`` skips to the
# run's first word character, exactly where A1111's match would start its
# key.  findall() yields the same (key, value) pairs; the tests check this
# against the original pattern with hypothesis.
_RE_PARAM = re.compile(
    r'(?<![\w \-/])[ \-/]*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)'
)
# A value must be JSON-quoted if written bare it would not read back as-is.
_RE_NEEDS_QUOTES = re.compile(r'[,:\x00-\x1f\x7f]|^"')


def _format_value(value: Any) -> str:
    """Render one params-line value, quoting it when A1111 parsing would alter it."""
    text = ("True" if value else "False") if isinstance(value, bool) else str(value)
    if not text or text != text.strip() or _RE_NEEDS_QUOTES.search(text):
        return json.dumps(text, ensure_ascii=False)
    return text


def _params_line(record: Mapping[str, Any]) -> str:
    """The ``Label: value, ...`` line for the non-None fields present."""
    return ", ".join(
        f"{field.label}: {_format_value(record[field.key])}"
        for field in FIELDS
        if record.get(field.key) is not None
    )


def infotext(record: Mapping[str, Any]) -> str:
    """A1111 infotext: prompt, optional ``Negative prompt:`` line, params line.

    The prompt is written as-is; the parser only treats the last line as
    params, so a prompt that itself looks like params still round-trips.
    The format itself is lossy (A1111 strips each prompt line and reads a
    line starting "Negative prompt:" as the negative prompt), which is why
    the exact record also goes into the ``generation`` chunk.  The params
    line needs at least 3 non-None fields to be recognised (a normal
    record has 4-5).
    """
    prompt = record.get("prompt")
    negative = record.get("negative_prompt")
    parts = [str(prompt)] if prompt else []
    if negative:
        parts.append(f"{_NEGATIVE_PREFIX} {negative}")
    params = _params_line(record)
    if params:
        parts.append(params)
    return "\n".join(parts)


def _unquote(value: str) -> str:
    """JSON-decode a ``"..."`` value; keep the raw text if it is not valid JSON."""
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        return value
    try:
        decoded = json.loads(value)
    except ValueError:  # includes JSONDecodeError; RecursionError can't occur for a string
        return value
    return decoded if isinstance(decoded, str) else value


def _typed(value: str, kind: type) -> Any:
    """Parse a params value to ``kind``; raise ValueError if it does not fit."""
    if kind is bool:
        lowered = value.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        raise ValueError(f"not a boolean: {value[:40]!r}")
    if kind is int:
        return int(value)
    if kind is float:
        try:  # keep integral numbers (e.g. timings in ms) as int
            return int(value)
        except ValueError:
            return float(value)
    return value


def _join_lines(lines: list[str]) -> str:
    """Join as A1111 does: leading empty lines vanish, the rest are kept."""
    start = next((i for i, line in enumerate(lines) if line), len(lines))
    return "\n".join(lines[start:])


def _split_prompts(lines: list[str]) -> tuple[str, str]:
    """Split the non-params lines into (prompt, negative prompt)."""
    prompt: list[str] = []
    negative: list[str] = []
    target = prompt
    for line in lines:
        line = line.strip()
        if line.startswith(_NEGATIVE_PREFIX):
            target = negative
            line = line[len(_NEGATIVE_PREFIX) :].strip()
        target.append(line)
    return _join_lines(prompt), _join_lines(negative)


def parse_infotext(text: str) -> dict[str, Any]:
    """Parse A1111 infotext (mirrors ``parse_generation_parameters``).

    Returns ``prompt``, ``negative_prompt``, ``raw`` (label -> unquoted value
    string, for every param including A1111's Steps/Sampler/...) and the
    record keys of :data:`FIELDS` whose values parse to their kind.  Values
    are only ever JSON-decoded or converted with int()/float(): nothing is
    evaluated.  Never raises on str input.
    """
    *lines, last = text.strip().split("\n")
    pairs = _RE_PARAM.findall(last)
    if len(pairs) < 3:
        lines.append(last)
        pairs = []
    prompt, negative = _split_prompts(lines)
    raw = {label: _unquote(value) for label, value in pairs}
    result: dict[str, Any] = {"prompt": prompt, "negative_prompt": negative, "raw": raw}
    for label, value in raw.items():
        field = _FIELDS_BY_LABEL.get(label)
        if field is None:
            continue
        try:
            result[field.key] = _typed(value, field.kind)
        except ValueError:  # e.g. "Seed: abc", or > 4300 digits
            pass
    return result


# --------------------------------------------------------------------------
# PNG chunks
# --------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TEXT_TYPES = frozenset((b"tEXt", b"zTXt", b"iTXt"))
_IHDR_END = 8 + 8 + 13 + 4  # signature, length+type, IHDR data, CRC
_MAX_CHUNK_LENGTH = 2**31 - 1  # PNG spec limit
_MAX_KEYWORD = 79
# Decompression limits for zTXt / compressed iTXt: metadata, not payloads.
_MAX_TEXT_BYTES = 8 * 1024 * 1024
_MAX_TOTAL_TEXT_BYTES = 32 * 1024 * 1024


def text_chunks(record: Record | Mapping[str, Any]) -> dict[str, str]:
    """The text chunks for one record: the JSON record and A1111 infotext.

    ``generation`` comes first so a reader given only the head of a file
    either finds the full record or nothing, never just the lossy infotext.
    A plain mapping is written as it is (raising TypeError for a value JSON
    cannot represent, so a bad record fails loudly at save time).
    """
    data = record.to_dict() if isinstance(record, Record) else dict(record)
    return {
        "generation": JSON_ENCODER.encode(data),
        "parameters": infotext(data),
    }


def _iter_chunks(png: bytes) -> Iterator[tuple[int, bytes, int]]:
    """Yield (offset, type, data length) per chunk after the signature.

    Reads only the 8-byte headers, so walking is O(number of chunks).  Stops
    silently after IEND or at the first chunk that does not fit in the data.
    """
    pos, size = len(PNG_SIGNATURE), len(png)
    while pos + 12 <= size:
        length, ctype = struct.unpack_from(">I4s", png, pos)
        if length > _MAX_CHUNK_LENGTH or pos + 12 + length > size:
            return
        yield pos, ctype, length
        if ctype == b"IEND":
            return
        pos += 12 + length


def _make_chunk(ctype: bytes, data: bytes) -> bytes:
    """One chunk: length, type, data, CRC32 over type + data."""
    crc = zlib.crc32(data, zlib.crc32(ctype))
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", crc)


def _encode_keyword(keyword: str) -> bytes:
    """Validate a chunk keyword: 1-79 printable Latin-1 characters."""
    try:
        raw = keyword.encode("latin-1")
    except (UnicodeEncodeError, AttributeError):
        raise ValueError(f"PNG text keyword must be Latin-1 text: {keyword!r}") from None
    if not 1 <= len(raw) <= _MAX_KEYWORD or any(b < 32 or 127 <= b <= 160 for b in raw):
        raise ValueError(f"PNG text keyword must be 1-79 printable Latin-1 characters: {keyword!r}")
    return raw


def _text_chunk(keyword: bytes, text: str) -> bytes:
    """tEXt when the text is Latin-1 (what most tools read), else uncompressed iTXt."""
    try:
        return _make_chunk(b"tEXt", keyword + b"\0" + text.encode("latin-1"))
    except UnicodeEncodeError:
        # Lone surrogates cannot be UTF-8; "replace" keeps the save working.
        data = keyword + b"\0\0\0\0\0" + text.encode("utf-8", "replace")
        return _make_chunk(b"iTXt", data)


def _check_png_header(png: bytes) -> None:
    """Raise NotPNGError unless ``png`` starts with the signature and an IHDR."""
    if png[:8] != PNG_SIGNATURE:
        raise NotPNGError("data does not start with the PNG signature")
    if len(png) < _IHDR_END or png[8:16] != b"\x00\x00\x00\x0dIHDR":
        raise NotPNGError("PNG does not start with a 13-byte IHDR chunk")


def _chunk_keyword(png: bytes, data_start: int, data_end: int) -> bytes:
    """Keyword of a text chunk: the bytes before the first NUL (max 80 looked at)."""
    nul = png.find(b"\0", data_start, min(data_end, data_start + _MAX_KEYWORD + 1))
    return png[data_start:nul] if nul >= 0 else b""


def add_text_chunks(png: bytes, chunks: Mapping[str, str]) -> bytes:
    """Insert text chunks right after IHDR without touching the image data.

    Existing tEXt/zTXt/iTXt chunks with the same keywords are dropped so a
    re-save replaces rather than duplicates.  Everything else is copied
    byte for byte with a single join (no decode, no per-chunk CRC work).
    """
    return b"".join(text_pieces(png, chunks))


def text_pieces(png: bytes, chunks: Mapping[str, str], then: bytes = b"") -> list[bytes | memoryview]:
    """`add_text_chunks`' result in pieces, for `b"".join` or `os.writev` (which copies nothing).

    ``then`` holds ready-made chunks (the AI labels) placed right after the new text chunks.
    """
    _check_png_header(png)
    encoded = {_encode_keyword(key): text for key, text in chunks.items()}
    view = memoryview(png)
    pieces: list[bytes | memoryview] = [view[:_IHDR_END]]
    pieces += [_text_chunk(key, text) for key, text in encoded.items()]
    if then:
        pieces.append(then)
    keep_from = _IHDR_END
    for pos, ctype, length in _iter_chunks(png):
        if ctype in _TEXT_TYPES and _chunk_keyword(png, pos + 8, pos + 8 + length) in encoded:
            pieces.append(view[keep_from:pos])
            keep_from = pos + 12 + length
    pieces.append(view[keep_from:])
    return pieces


def embed_record(png: bytes, record: Record | Mapping[str, Any]) -> bytes:
    """PNG bytes with the record's ``parameters`` and ``generation`` chunks."""
    return add_text_chunks(png, text_chunks(record))


class _Budget:
    """Decompressed-bytes allowance shared by all chunks of one file."""

    def __init__(self, total: int) -> None:
        self.left = total


def _inflate(data: bytes, budget: _Budget) -> bytes | None:
    """Bounded zlib inflate: None if corrupt or larger than the limits allow."""
    limit = min(_MAX_TEXT_BYTES, budget.left)
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error:
        return None
    if len(out) > limit or inflater.unconsumed_tail:
        return None
    budget.left -= len(out)
    return out


def _decode_text_chunk(ctype: bytes, data: bytes, budget: _Budget) -> tuple[str, str] | None:
    """(keyword, text) of one tEXt/zTXt/iTXt chunk body, or None if malformed."""
    keyword, sep, rest = data.partition(b"\0")
    if not sep or not keyword or len(keyword) > _MAX_KEYWORD:
        return None
    if ctype == b"tEXt":
        text: bytes | None = rest
        encoding = "latin-1"
    elif ctype == b"zTXt":
        text = _inflate(rest[1:], budget) if rest[:1] == b"\0" else None
        encoding = "latin-1"
    else:  # iTXt: flag, method, language\0, translated keyword\0, text
        if len(rest) < 2 or rest[1] != 0:
            return None
        fields = rest[2:].split(b"\0", 2)
        if len(fields) != 3:
            return None
        text = _inflate(fields[2], budget) if rest[0] else fields[2]
        encoding = "utf-8"
    if text is None:
        return None
    return keyword.decode("latin-1"), text.decode(encoding, "replace")


def read_text_chunks(png: bytes) -> dict[str, str]:
    """All text chunks (tEXt, zTXt, iTXt; before or after IDAT) as a dict.

    Tolerant by design, since it reads uploads: non-PNG data gives {}, a
    chunk with a bad CRC or malformed body is skipped, a truncated file
    yields what came before the cut, oversized compressed text is ignored.
    A repeated keyword keeps the last value, as Pillow does.
    """
    try:
        png = bytes(png)
    except TypeError:
        return {}
    if png[:8] != PNG_SIGNATURE:
        return {}
    found: dict[str, str] = {}
    budget = _Budget(_MAX_TOTAL_TEXT_BYTES)
    view = memoryview(png)
    for pos, ctype, length in _iter_chunks(png):
        if ctype not in _TEXT_TYPES:
            continue
        end = pos + 8 + length
        (crc,) = struct.unpack_from(">I", png, end)
        if zlib.crc32(view[pos + 4 : end]) != crc:
            continue
        decoded = _decode_text_chunk(ctype, png[pos + 8 : end], budget)
        if decoded is not None:
            found[decoded[0]] = decoded[1]
    return found


def _record_from_json(text: str | None) -> dict[str, Any] | None:
    """The ``generation`` JSON if it is an object with prompt/model/seed."""
    if not text:
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict) or not all(k in value for k in _REQUIRED_JSON_KEYS):
        return None
    return value if isinstance(value["prompt"], str) else None


def read_record(png: bytes) -> dict[str, Any] | None:
    """The generation record stored in a PNG, or None.

    Prefers our lossless ``generation`` JSON; falls back to other tools'
    formats (A1111/Forge infotext in ``parameters`` and the rest, see
    :mod:`webui.formats`), which give the :func:`parse_infotext` shape:
    prompt, negative_prompt, raw and whatever fields they could fill.  Never raises.
    """
    return record_from_chunks(read_text_chunks(png))


def record_from_chunks(chunks: Mapping[str, str]) -> dict[str, Any] | None:
    """:func:`read_record` for chunks already read (e.g. to show them too). Never raises.

    Other tools' formats (A1111, ComfyUI, InvokeAI, SwarmUI, Fooocus, NovelAI, XMP)
    are read by :mod:`webui.formats`; what it finds comes back record-shaped, with a
    ``source`` key naming the tool.
    """
    record = _record_from_json(chunks.get("generation"))
    if record is not None:
        return record
    from . import formats  # formats builds on this module's parsers: import when used

    reading = formats.read_settings(chunks)
    if reading is None or not (reading.prompt.strip() or reading.seed is not None or reading.model):
        return None
    return reading.as_record()


# --------------------------------------------------------------------------
# Image type detection and conversion
# --------------------------------------------------------------------------

_PNG_OUT_MODES = frozenset(("1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"))
# Allowed bit depths per PNG colour type (spec table 11.1).
_PNG_BIT_DEPTHS = {0: {1, 2, 4, 8, 16}, 2: {8, 16}, 3: {1, 2, 4, 8}, 4: {8, 16}, 6: {8, 16}}


def sniff_image_type(data: bytes) -> str | None:
    """"png", "jpeg", "webp" or "gif" from the magic bytes, else None."""
    head = bytes(data[:12])
    if head.startswith(PNG_SIGNATURE):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    return None


def _check_png_structure(png: bytes, max_pixels: int) -> None:
    """Cheap PNG sanity check without decoding pixels.

    Checks IHDR (size limit first, so a bomb is refused up front), that all
    chunk lengths fit, and that IDAT and IEND are present.  CRCs are not
    verified: the data is kept as-is and viewers tolerate or reject it.
    """
    try:
        _check_png_header(png)
    except NotPNGError as exc:
        raise BadImageError(f"broken PNG: {exc}") from None
    width, height, depth, color, compression, filtering, interlace = struct.unpack_from(
        ">IIBBBBB", png, 16
    )
    if not (0 < width <= _MAX_CHUNK_LENGTH and 0 < height <= _MAX_CHUNK_LENGTH):
        raise BadImageError(f"PNG declares an invalid size {width}x{height}")
    _check_pixels(width, height, max_pixels)
    if depth not in _PNG_BIT_DEPTHS.get(color, ()) or compression or filtering or interlace > 1:
        raise BadImageError("PNG header (IHDR) has invalid format fields")
    types = {ctype for _, ctype, _ in _iter_chunks(png)}
    if b"IDAT" not in types:
        raise BadImageError("PNG has no image data (IDAT), or it is truncated")
    if b"IEND" not in types:
        raise BadImageError("PNG is truncated (no IEND chunk)")


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    """Refuse images whose decoded size would exceed ``max_pixels``."""
    if width * height > max_pixels:
        raise BadImageError(
            f"image is {width}x{height} = {width * height} pixels, "
            f"more than the limit of {max_pixels}"
        )


def _convert_to_png(data: bytes, max_pixels: int) -> bytes:
    """Decode a JPEG/WebP/GIF once (first frame) and re-encode it as PNG.

    EXIF goes into an ``eXIf`` chunk and XMP into an ``XML:com.adobe.xmp`` iTXt chunk,
    so a label or caption the API put in its JPEG/WebP survives the conversion.
    """
    from PIL import Image, ImageOps, PngImagePlugin  # only this path needs Pillow

    try:
        img: Image.Image = Image.open(io.BytesIO(data))
        _check_pixels(img.width, img.height, max_pixels)  # before decoding
        img.load()
        if img.getexif().get(0x0112, 1) != 1:  # EXIF orientation is lost on re-encode
            img = ImageOps.exif_transpose(img)
    except BadImageError:
        raise
    except Exception as exc:  # Pillow raises many types for corrupt input
        raise BadImageError(f"could not decode image: {exc}") from exc
    icc = img.info.get("icc_profile")
    exif, xmp = img.info.get("exif"), img.info.get("xmp")  # after the transpose: orientation reset
    if img.mode not in _PNG_OUT_MODES:
        # e.g. CMYK/YCbCr JPEG: its ICC profile describes the old colour space.
        has_alpha = "A" in img.getbands()
        img = img.convert("RGBA" if has_alpha else "RGB")
        icc = None
    out = io.BytesIO()
    options: dict[str, Any] = {"compress_level": 6}
    if icc:
        options["icc_profile"] = icc
    if isinstance(exif, bytes) and exif:
        options["exif"] = exif
    if isinstance(xmp, (bytes, str)) and xmp:
        options["pnginfo"] = PngImagePlugin.PngInfo()
        text = xmp.decode("utf-8", "replace") if isinstance(xmp, bytes) else xmp
        options["pnginfo"].add_itxt("XML:com.adobe.xmp", text.rstrip("\0"))
    img.save(out, "PNG", **options)
    return out.getvalue()


def to_png(data: bytes, *, max_pixels: int = 40_000_000) -> bytes:
    """PNG bytes for an image from the API or an upload.

    PNG input is returned unchanged (same object) after a structural check,
    so generated pixels are never re-encoded.  JPEG/WebP/GIF are converted.
    Raises BadImageError for anything that is not an image, is corrupt, or
    has more than ``max_pixels`` pixels (checked before decoding).
    """
    kind = sniff_image_type(data)
    if kind is None:
        raise BadImageError("data is not a PNG, JPEG, WebP or GIF image")
    if kind == "png":
        _check_png_structure(data, max_pixels)
        return data
    return _convert_to_png(data, max_pixels)
