"""AI-content labels: written into every saved PNG, read back from any image, stamped on copies.

Every image this app saves says that it is AI-generated, in the two forms photo tools
and the rules of 2025-2026 read (writer and reader side by side, like metadata.py):

* an XMP packet in an iTXt chunk ``XML:com.adobe.xmp`` holding
  ``Iptc4xmpExt:DigitalSourceType`` = trainedAlgorithmicMedia (what C2PA, Adobe, Google
  and Meta read), ``xmp:CreatorTool``, ``xmp:CreateDate``, ``dc:description`` (the
  prompt), IPTC 2025.1's ``AISystemUsed`` / ``AIPromptInformation``, and the Chinese
  implicit label ``TC260:AIGC``;
* a text chunk ``AIGC`` with the same label JSON (the form Chinese services such as
  Doubao write; readers that do not parse XMP find it there).

Sources, as read (the field spelling follows them exactly):

* GB 45438-2025 《网络安全技术 人工智能生成合成内容标识方法》, the mandatory standard under
  the 人工智能生成合成内容标识办法 (in force 2025-09-01): an implicit label in file metadata
  is a JSON object with, in this order, ``Label`` ("1" generated, "2" possibly, "3"
  suspected), ``ContentProducer``, ``ProduceID``, ``ReservedCode1``,
  ``ContentPropagator``, ``PropagateID``, ``ReservedCode2``; explicit (visible) labels
  on images are text at least 5% of the shorter side.
* TC260-PG-20258A, TC260's practice guide for metadata implicit labels: the XMP property
  is ``AIGC`` in the namespace ``http://www.tc260.org.cn/ns/AIGC/1.0/``, prefix ``TC260``,
  its value that JSON (see https://www.tc260.org.cn/front/postDetail.html?id=20250828165129
  and the open-source cnTC260 writer that follows it).
* IPTC Photo Metadata Standard 2025.1 and the IPTC Digital Source Type NewsCodes:
  ``Iptc4xmpExt:DigitalSourceType`` (namespace ``http://iptc.org/std/Iptc4xmpExt/2008-02-29/``)
  = ``http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia``;
  ``Iptc4xmpExt:AISystemUsed`` and ``Iptc4xmpExt:AIPromptInformation`` (new in 2025.1).
* Adobe XMP Specification Part 3 (storage in files), PNG: one uncompressed iTXt chunk,
  keyword ``XML:com.adobe.xmp``, before IDAT.
* C2PA 2.x, embedding: a manifest store is a ``caBX`` chunk in PNG, APP11 JUMBF segments
  in JPEG, a ``C2PA`` chunk in WebP. We only detect it; it is never altered or removed.

What the API's own image already carries (XMP, ``AIGC``, ``caBX``) is kept byte for byte;
our chunks go beside it, and where the API labelled itself as producer, our label repeats
its ``ContentProducer``/``ProduceID`` and adds us as propagator. Nothing here strips a label.
"""

from __future__ import annotations

import functools
import html
import io
import json
import logging
import math
import re
import struct
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import i18n, metadata
from .config import DEFAULT_API_BASE

log = logging.getLogger(__name__)

__all__ = [
    "AIGC_KEYWORD",
    "APP_NAME",
    "DEFAULT_PRODUCER",
    "TC260_NS",
    "XMP_KEYWORD",
    "Labeller",
    "Provenance",
    "aigc_label",
    "c2pa_present",
    "clean_id",
    "describe",
    "read_file",
    "read_provenance",
    "stamp_visible_label",
    "xmp_packet",
]

APP_NAME = "YUNYX text-to-image web UI"
DEFAULT_PRODUCER = urlsplit(DEFAULT_API_BASE).hostname or "api"  # the API's host; --label-producer overrides it
XMP_KEYWORD = "XML:com.adobe.xmp"
AIGC_KEYWORD = "AIGC"
TC260_NS = "http://www.tc260.org.cn/ns/AIGC/1.0/"
IPTC_EXT_NS = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
DST_BASE = "http://cv.iptc.org/newscodes/digitalsourcetype/"
TRAINED_ALGORITHMIC_MEDIA = DST_BASE + "trainedAlgorithmicMedia"
# Digital source types that mean "made (wholly or partly) by generative AI".
_AI_SOURCE_TYPES = frozenset(("trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia"))
# GB 45438-2025 Appendix E: the keys in their order.
AIGC_KEYS = (
    "Label",
    "ContentProducer",
    "ProduceID",
    "ReservedCode1",
    "ContentPropagator",
    "PropagateID",
    "ReservedCode2",
)
LABEL_GENERATED = "1"
_MAX_ID = 128
_MAX_VALUES = 8  # labels or source types looked at per packet
_MAX_XMP_SCAN = 1024 * 1024  # labels sit in the first KBs of a packet; never scan more
# XML 1.0 forbids most control characters; a prompt may hold them.
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


# --------------------------------------------------------------------------- writing


def _xml_text(value: Any) -> str:
    """Text for an XML element: invalid characters dropped, markup escaped (str.replace: fast)."""
    text = _XML_INVALID.sub("", str(value))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def clean_id(value: Any) -> str | None:
    """An id from the API as printable text of bounded length, or None."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value)[: _MAX_ID * 4]
    if not text.isprintable():
        text = "".join(ch for ch in text if ch.isprintable())
    return text.strip()[:_MAX_ID] or None


def aigc_label(
    producer: str, produce_id: str, propagator: str, propagate_id: str, label: str = LABEL_GENERATED
) -> dict[str, str]:
    """The GB 45438-2025 implicit label, keys in the standard's order (reserved codes empty)."""
    values = {
        "Label": label,
        "ContentProducer": producer,
        "ProduceID": produce_id,
        "ReservedCode1": "",
        "ContentPropagator": propagator,
        "PropagateID": propagate_id,
        "ReservedCode2": "",
    }
    return {key: values[key] for key in AIGC_KEYS}


_LABEL_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def label_json(label: Mapping[str, str]) -> str:
    return _LABEL_ENCODER.encode(dict(label))


def xmp_packet(record: Mapping[str, Any], label: Mapping[str, str] | str, creator_tool: str = APP_NAME) -> str:
    """The XMP packet: IPTC source type, creator tool and date, prompt, model, TC260 label.

    ``label`` is the label or its JSON text (the same text goes into the AIGC chunk).
    """
    label_text = label if isinstance(label, str) else label_json(label)
    prompt = _xml_text(record.get("prompt") or "")
    model = record.get("model")
    lines = [
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>',
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">',
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
        '  <rdf:Description rdf:about=""',
        '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"',
        '    xmlns:dc="http://purl.org/dc/elements/1.1/"',
        f'    xmlns:Iptc4xmpExt="{IPTC_EXT_NS}"',
        f'    xmlns:TC260="{TC260_NS}">',
        f"   <Iptc4xmpExt:DigitalSourceType>{TRAINED_ALGORITHMIC_MEDIA}</Iptc4xmpExt:DigitalSourceType>",
        f"   <xmp:CreatorTool>{_xml_text(creator_tool)}</xmp:CreatorTool>",
    ]
    if record.get("created_at"):
        lines.append(f"   <xmp:CreateDate>{_xml_text(record['created_at'])}</xmp:CreateDate>")
    lines.append(
        f'   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{prompt}</rdf:li></rdf:Alt></dc:description>'
    )
    if model:
        lines.append(f"   <Iptc4xmpExt:AISystemUsed>{_xml_text(model)}</Iptc4xmpExt:AISystemUsed>")
    lines += [
        f"   <Iptc4xmpExt:AIPromptInformation>{prompt}</Iptc4xmpExt:AIPromptInformation>",
        f"   <TC260:AIGC>{_xml_text(label_text)}</TC260:AIGC>",
        "  </rdf:Description>",
        " </rdf:RDF>",
        "</x:xmpmeta>",
        '<?xpacket end="r"?>',
    ]
    return "\n".join(lines)


def _itxt_chunk(keyword: str, text: str) -> bytes:
    """Uncompressed iTXt, no language tag: what XMP Part 3 asks for."""
    data = keyword.encode("latin-1") + b"\0\0\0\0\0" + text.encode("utf-8", "replace")
    return metadata._make_chunk(b"iTXt", data)


@dataclass(frozen=True)
class Labeller:
    """Who the labels name: the API provider as producer, this app's operator as propagator."""

    producer: str = DEFAULT_PRODUCER
    propagator: str = APP_NAME
    creator_tool: str = APP_NAME

    def label(self, record: Mapping[str, Any], produce_id: str | None = None,
              theirs: Iterable[Mapping[str, Any]] = ()) -> dict[str, str]:
        """Our label for a record; an API label already in the image names the producer."""
        producer, made_as = self.producer, clean_id(produce_id) or str(record.get("id") or "")
        for label in theirs:
            if clean_id(label.get("ContentProducer")):
                producer = str(label["ContentProducer"])
                made_as = clean_id(label.get("ProduceID")) or made_as
                break
        return aigc_label(producer, made_as, self.propagator, str(record.get("id") or ""))

    def chunks(self, record: Mapping[str, Any], produce_id: str | None = None,
               theirs: Iterable[Mapping[str, Any]] = ()) -> bytes:
        """The encoded XMP and AIGC chunks for one record."""
        text = label_json(self.label(record, produce_id, theirs))
        return _itxt_chunk(XMP_KEYWORD, xmp_packet(record, text, self.creator_tool)) + metadata._text_chunk(
            AIGC_KEYWORD.encode("latin-1"), text
        )

    def apply(self, png: bytes, record: Mapping[str, Any], produce_id: str | None = None) -> bytes:
        """``png`` with our label chunks right after IHDR; every other byte kept as it was.

        Nothing is replaced or removed: an XMP packet or AIGC label the image already
        carries stays where it is, byte for byte, and readers (exiftool lists both) see
        ours beside it. Raises NotPNGError if ``png`` is not a PNG.
        """
        ours = self.chunks_for(png, record, produce_id)
        end = metadata._IHDR_END
        return b"".join((memoryview(png)[:end], ours, memoryview(png)[end:]))

    def chunks_for(self, png: bytes, record: Mapping[str, Any], produce_id: str | None = None) -> bytes:
        """The label chunks `apply` splices into ``png`` (what the API's own label says taken
        into account), for a caller that splices them itself. Raises NotPNGError."""
        metadata._check_png_header(png)
        return self.chunks(record, produce_id, _labels_in_png(png))


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Provenance:
    """What an image says about its own origin."""

    labels: tuple[dict[str, str], ...] = ()  # GB 45438 labels (AIGC chunk and TC260:AIGC in XMP)
    source_types: tuple[str, ...] = ()  # IPTC DigitalSourceType codes found (the part after the last "/")
    c2pa: bool = False  # a C2PA manifest store is embedded
    description: str | None = None  # XMP dc:description (our prompt, or another tool's caption)
    ai_system: str | None = None  # Iptc4xmpExt:AISystemUsed

    @property
    def gb45438(self) -> bool:
        return any(label.get("Label") == LABEL_GENERATED for label in self.labels)

    @property
    def iptc(self) -> bool:
        return any(code in _AI_SOURCE_TYPES for code in self.source_types)

    @property
    def ai_generated(self) -> bool:
        """Labelled as AI-generated by at least one standard."""
        return self.gb45438 or self.iptc

    @property
    def standards(self) -> list[str]:
        """The standards whose AI label is present, in the order shown to people."""
        return [name for name, present in (("China GB 45438", self.gb45438), ("IPTC", self.iptc)) if present]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ai_generated": self.ai_generated,
            "standards": self.standards,
            "c2pa_manifest": self.c2pa,
            "aigc_labels": [dict(label) for label in self.labels],
            "digital_source_types": list(self.source_types),
        }


def describe(found: Provenance, lang: str = i18n.FALLBACK) -> str:
    """One line for people, e.g. "AI-generated · labelled (China GB 45438, IPTC) · no C2PA manifest"."""
    names = [i18n.label(key, lang) for key, present in (("label_gb45438", found.gb45438), ("label_iptc", found.iptc))
             if present]
    if names:
        status = i18n.label("label_ai", lang, standards=i18n.label("label_separator", lang).join(names))
    elif found.labels:  # a GB 45438 label saying "possibly" (2) or "suspected" (3)
        status = i18n.label("label_possibly_ai", lang, standards=i18n.label("label_gb45438", lang))
    else:
        status = i18n.label("label_none", lang)
    return f"{status} · {i18n.label('label_c2pa' if found.c2pa else 'label_no_c2pa', lang)}"


def parse_label(text: str | None) -> dict[str, str] | None:
    """A GB 45438 label from its JSON text, or None. Values are kept as strings."""
    if not text or len(text) > 64 * 1024:
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict) or "Label" not in value:
        return None
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in value.items() if k in AIGC_KEYS}


_NAME = r"[A-Za-z_][\w.-]*"


@functools.lru_cache(maxsize=16)
def _patterns(local: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Element and attribute forms of ``prefix:local`` in a packet.

    No part can run past a ``<`` (or a quote, for attributes), so each match attempt
    stops at the next tag: linear in the packet, whatever it holds. No XML parser is
    used on purpose: a dropped file's XMP could carry entity bombs.
    """
    name = re.escape(local)
    element = re.compile(
        rf"<({_NAME}):{name}(\s[^<>]*)?>"  # the start tag, maybe with rdf:resource="..."/
        rf"(?:\s*<rdf:(?:Alt|Seq|Bag)(?:\s[^<>]*)?>\s*<rdf:li(?:\s[^<>]*)?>)?"  # a language alternative
        r"([^<]*)<"
    )
    attribute = re.compile(rf"(?<![\w.-]){_NAME}:{name}\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
    return element, attribute


def _element_values(xmp: str, local: str) -> Iterator[str]:
    """Text of every ``<prefix:local>`` (or its first ``rdf:li``) and ``prefix:local="..."``."""
    if ":" + local not in xmp:
        return
    element, attribute = _patterns(local)
    for match in element.finditer(xmp):
        attrs = match.group(2) or ""
        if attrs.rstrip().endswith("/"):
            resource = re.search(r"rdf:resource\s*=\s*\"([^\"]*)\"", attrs)
            if resource:
                yield html.unescape(resource.group(1)).strip()
        elif match.group(3).strip():
            yield html.unescape(match.group(3)).strip()
    for match in attribute.finditer(xmp):
        yield html.unescape(match.group(1) if match.group(1) is not None else match.group(2)).strip()


def read_xmp(xmp: str) -> tuple[list[dict[str, str]], list[str], str | None, str | None]:
    """(TC260 labels, digital source type codes, dc:description, AISystemUsed) from one packet."""
    xmp = xmp[:_MAX_XMP_SCAN]
    aigc = islice(_element_values(xmp, "AIGC"), _MAX_VALUES) if TC260_NS in xmp else ()
    labels = [label for text in aigc if (label := parse_label(text))]
    types = [v.rsplit("/", 1)[-1] for v in islice(_element_values(xmp, "DigitalSourceType"), _MAX_VALUES) if v]
    description = next(_element_values(xmp, "description"), None)
    system = next(iter(_element_values(xmp, "AISystemUsed")), None)
    return labels, types, description or None, system or None


def from_texts(texts: Iterable[tuple[str, str]], c2pa: bool = False) -> Provenance:
    """Provenance from (keyword, text) pairs: every text chunk or XMP packet of a file."""
    labels: list[dict[str, str]] = []
    types: list[str] = []
    description = system = None
    for keyword, text in texts:
        if keyword == AIGC_KEYWORD:
            label = parse_label(text)
            if label:
                labels.append(label)
        elif keyword == XMP_KEYWORD:
            found, codes, desc, used = read_xmp(text)
            labels += found
            types += codes
            description = description or desc
            system = system or used
    unique = tuple({label_json(label): label for label in labels}.values())
    return Provenance(unique, tuple(dict.fromkeys(types)), c2pa, description, system)


def _png_text_pairs(png: bytes, keywords: frozenset[bytes] | None = None) -> Iterator[tuple[str, str]]:
    """(keyword, text) of every text chunk (all of them, repeats included), optionally filtered."""
    budget = metadata._Budget(metadata._MAX_TOTAL_TEXT_BYTES)
    for pos, ctype, length in metadata._iter_chunks(png):
        if ctype not in metadata._TEXT_TYPES:
            continue
        end = pos + 8 + length
        if keywords is not None and metadata._chunk_keyword(png, pos + 8, end) not in keywords:
            continue
        decoded = metadata._decode_text_chunk(ctype, png[pos + 8 : end], budget)
        if decoded is not None:
            yield decoded


_LABEL_KEYWORDS = frozenset((AIGC_KEYWORD.encode(), XMP_KEYWORD.encode()))


def _labels_in_png(png: bytes) -> list[dict[str, str]]:
    """The GB 45438 labels a PNG already carries (cheap: only two keywords are decoded)."""
    return list(from_texts(_png_text_pairs(png, _LABEL_KEYWORDS)).labels)


def c2pa_present(data: bytes) -> bool:
    """Whether a C2PA manifest store is embedded (PNG caBX, JPEG APP11 JUMBF, WebP C2PA)."""
    kind = metadata.sniff_image_type(data)
    if kind == "png":
        return any(ctype == b"caBX" for _, ctype, _ in metadata._iter_chunks(data))
    if kind == "jpeg":
        return any(marker == 0xEB and b"jumb" in seg[:64] for marker, seg in jpeg_segments(data))
    if kind == "webp":
        return any(fourcc == b"C2PA" for fourcc, _ in riff_chunks(data))
    return False


def jpeg_segments(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(marker, payload) of each JPEG header segment up to the scan; stops at anything odd."""
    pos, size = 2, len(data)
    while pos + 4 <= size and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no more metadata segments
            return
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if length < 2 or pos + 2 + length > size:
            return
        yield marker, data[pos + 4 : pos + 2 + length]
        pos += 2 + length


def riff_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(fourcc, payload) of each top-level chunk of a RIFF/WebP file."""
    pos, size = 12, len(data)
    while pos + 8 <= size:
        fourcc = data[pos : pos + 4]
        (length,) = struct.unpack_from("<I", data, pos + 4)
        if pos + 8 + length > size:
            return
        yield fourcc, data[pos + 8 : pos + 8 + length]
        pos += 8 + length + (length & 1)


def read_provenance(data: bytes, texts: Iterable[tuple[str, str]] | None = None) -> Provenance:
    """Labels and C2PA presence of any PNG/JPEG/WebP; ``texts`` if already read. Never raises."""
    try:
        if texts is None:
            from .formats import image_texts  # formats reads JPEG/WebP containers

            texts = image_texts(data)
        return from_texts(texts, c2pa_present(data))
    except Exception:  # a hostile file must not break a page (fuzzed in tests)
        log.debug("Could not read provenance", exc_info=True)
        return Provenance()


def read_file(path: str | Path, limit: int = 64 * 1024 * 1024) -> Provenance:
    """:func:`read_provenance` of a file on disk (at most ``limit`` bytes are read). Never raises."""
    try:
        with open(path, "rb") as fh:
            return read_provenance(fh.read(limit))
    except OSError:
        return Provenance()


# --------------------------------------------------------------------------- visible label

VISIBLE_TEXT = "AI生成 / AI-generated"
MIN_HEIGHT_SHARE = 0.05  # GB 45438-2025: explicit label text >= 5% of the shorter side
# CJK fonts found on common systems (Debian/Ubuntu Noto and WenQuanYi, macOS, Windows).
_CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "/System/Library/Fonts/Hiragino Sans GB.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/msyhbd.ttc",
    "C:/Windows/Fonts/simhei.ttf",
)
# Chunks that describe pixel layout: the stamped copy gets its own from the encoder.
_LAYOUT_CHUNKS = frozenset((b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"bKGD", b"sBIT", b"hIST", b"fdAT",
                            b"acTL", b"fcTL"))


def _cjk_font_path() -> str | None:
    return next((path for path in _CJK_FONTS if Path(path).is_file()), None)


def _font(size: int, path: str | None) -> Any:
    from PIL import ImageFont

    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size)


@dataclass
class _Mark:
    lines: list[str]
    font: Any
    height: int  # the glyph height of one line, >= 5% of the shorter side
    widths: list[int] = field(default_factory=list)


def _layout(width: int, height: int) -> _Mark:
    """Pick the text, font size and line breaks so the mark is >= 5% high and fits."""
    from PIL import Image, ImageDraw

    target = max(8, math.ceil(MIN_HEIGHT_SHARE * min(width, height)))
    path = _cjk_font_path()
    text = VISIBLE_TEXT if path else "AI-generated"  # no CJK font: never draw tofu boxes
    if not path:
        log.warning("No CJK font found; the visible label says only 'AI-generated'.")
    draw = ImageDraw.Draw(Image.new("L", (1, 1)))
    size = target
    for _ in range(4):  # the glyphs of a font of size s are a bit less than s high: scale up
        font = _font(size, path)
        _, top, _, bottom = draw.textbbox((0, 0), "AI生成" if path else "AI", font=font)
        if bottom - top >= target:
            break
        size = math.ceil(size * target / max(1, bottom - top)) + 1
    lines = [text]
    if draw.textlength(text, font=font) > 0.9 * width and " / " in text:
        lines = text.split(" / ")
    mark = _Mark(lines, font, math.ceil(bottom - top))
    mark.widths = [math.ceil(draw.textlength(line, font=font)) for line in lines]
    return mark


def stamp_visible_label(png: bytes) -> bytes:
    """A copy of ``png`` with a visible "AI生成 / AI-generated" mark in the bottom-left corner.

    For copies that leave the app (share packs): originals are never touched. The text
    is at least 5% of the shorter side high (GB 45438-2025's explicit-label rule), white
    on a translucent dark box so it reads on any picture. The pixels are re-encoded
    (that is the point), and every metadata chunk of the original (text, XMP, AIGC, EXIF,
    colour profile, a C2PA manifest) is carried over byte for byte. Raises
    metadata.BadImageError if ``png`` is not a decodable PNG.
    """
    from PIL import Image, ImageDraw

    if metadata.sniff_image_type(png) != "png":
        raise metadata.BadImageError("not a PNG")
    try:
        with Image.open(io.BytesIO(png)) as source:
            source.load()
            alpha = "A" in source.getbands() or "transparency" in source.info
            img = source.convert("RGBA")
    except Exception as exc:  # Pillow raises many types for corrupt input
        raise metadata.BadImageError(f"could not decode image: {exc}") from exc
    mark = _layout(img.width, img.height)
    pad = max(2, mark.height // 3)
    gap = max(1, mark.height // 4)
    box_w = max(mark.widths) + 2 * pad
    box_h = len(mark.lines) * mark.height + (len(mark.lines) - 1) * gap + 2 * pad
    margin = max(2, mark.height // 2)
    x0, y0 = margin, img.height - margin - box_h
    overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    draw.rounded_rectangle((x0, y0, x0 + box_w, y0 + box_h), radius=pad, fill=(0, 0, 0, 150))
    y = y0 + pad
    for line in mark.lines:
        top = draw.textbbox((0, 0), line, font=mark.font)[1]
        draw.text((x0 + pad, y - top), line, font=mark.font, fill=(255, 255, 255, 255))
        y += mark.height + gap
    stamped = Image.alpha_composite(img, overlay)
    out = io.BytesIO()
    (stamped if alpha else stamped.convert("RGB")).save(out, "PNG", compress_level=6)
    return _carry_metadata(png, out.getvalue())


def _carry_metadata(original: bytes, encoded: bytes) -> bytes:
    """``encoded`` with every non-layout chunk of ``original`` inserted after its IHDR."""
    keep = [
        memoryview(original)[pos : pos + 12 + length]
        for pos, ctype, length in metadata._iter_chunks(original)
        if ctype not in _LAYOUT_CHUNKS
    ]
    fresh = [(pos, ctype, length) for pos, ctype, length in metadata._iter_chunks(encoded)]
    own = [memoryview(encoded)[pos : pos + 12 + length] for pos, ctype, length in fresh
           if ctype in _LAYOUT_CHUNKS and ctype != b"IHDR"]
    end = metadata._IHDR_END
    return b"".join([memoryview(encoded)[:end], *keep, *own])
