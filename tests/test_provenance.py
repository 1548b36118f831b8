"""AI labels: every saved PNG says it is AI-generated (GB 45438 / TC260 and IPTC), independent
readers (exiftool, an A1111-style reader) agree, the API's own labels are kept, and share-pack
copies can carry a visible mark.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from webui import formats, metadata, provenance
from webui.config import load_settings
from webui.core import DEMO_PRODUCER, labeller_for
from webui.service import _answer_id
from webui.storage import Storage

from .support.apps import api_client
from .support.cpu import cpu_seconds

QUICK = settings(suppress_health_check=[HealthCheck.too_slow])  # examples: the profile (tests/conftest.py)
PROMPT = "a lighthouse on a cliff, 海鸥 & \"moonlight\" <b>"
FIELDS = {"prompt": PROMPT, "model": "FLUX.1-schnell", "image_size": "1024x1024", "prompt_enhancement": False,
          "seed": 42, "inference": 1234, "user": None}
LABELLER = provenance.Labeller(producer="images.provider.example", propagator="Example Studio 示例")
# A1111's own pattern and parser shape (modules/infotext_utils.py), as an independent reader.
A1111_RE_PARAM = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')


def api_png(width: int = 64, height: int = 48, **texts: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    for key, value in texts.items():
        info.add_itxt(key, value)
    out = io.BytesIO()
    Image.new("RGB", (width, height), (20, 60, 120)).save(out, "PNG", pnginfo=info, compress_level=1)
    return out.getvalue()


def chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data))


def chunk_list(png: bytes) -> list[tuple[bytes, bytes]]:
    """(type, whole chunk bytes) of every chunk, by an independent walker."""
    pos, found = 8, []
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        found.append((png[pos + 4 : pos + 8], png[pos : pos + 12 + length]))
        pos += 12 + length
    return found


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, dict[str, Any], bytes]:
    """One image saved the way the app saves it: (file, record, the API's bytes)."""
    original = api_png()
    storage = Storage(tmp_path / "outputs", labeller=LABELLER).open()
    try:
        record = storage.save(original, FIELDS)
        path = storage.path_of(record)
    finally:
        storage.close()
    return path, record, original


# ---------------------------------------------------------------- writing


def test_saved_png_carries_both_labels_with_the_standard_fields(saved) -> None:
    path, record, _ = saved
    info = formats.read_image(path.read_bytes())
    aigc = json.loads(info.chunks["AIGC"])
    assert list(aigc) == ["Label", "ContentProducer", "ProduceID", "ReservedCode1", "ContentPropagator",
                          "PropagateID", "ReservedCode2"]  # GB 45438-2025 Appendix E, in its order
    assert aigc["Label"] == "1"
    assert aigc["ContentProducer"] == "images.provider.example"
    assert aigc["ProduceID"] == record["id"]  # the API gave no id: ours
    assert aigc["ContentPropagator"] == "Example Studio 示例"
    assert aigc["PropagateID"] == record["id"]
    xmp = info.chunks["XML:com.adobe.xmp"]
    assert 'xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/"' in xmp
    assert f"<Iptc4xmpExt:DigitalSourceType>{provenance.DST_BASE}trainedAlgorithmicMedia<" in xmp
    assert f"<xmp:CreateDate>{record['created_at']}</xmp:CreateDate>" in xmp
    assert "<xmp:CreatorTool>" in xmp
    assert info.provenance.labels == (aigc,)  # the XMP label and the chunk are the same JSON
    assert info.provenance.description == PROMPT
    assert info.provenance.standards == ["China GB 45438", "IPTC"] and not info.provenance.c2pa


def test_labels_are_spliced_pixels_untouched_record_first(saved) -> None:
    path, _, original = saved
    chunks = chunk_list(path.read_bytes())
    keywords = [whole[8:].split(b"\0", 1)[0] for ctype, whole in chunks[1:5]]
    assert keywords == [b"generation", b"parameters", b"XML:com.adobe.xmp", b"AIGC"]
    assert chunks[3][0] == b"iTXt"  # XMP: uncompressed iTXt, as XMP Part 3 asks
    assert [c for t, c in chunks if t == b"IDAT"] == [c for t, c in chunk_list(original) if t == b"IDAT"]
    assert Image.open(path).tobytes() == Image.open(io.BytesIO(original)).tobytes()


def test_produce_id_is_the_apis_when_it_gives_one(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "o", labeller=LABELLER).open()
    try:
        record = storage.save(api_png(), FIELDS, produce_id="req-7f3a")
        label = json.loads(formats.read_image(storage.path_of(record).read_bytes()).chunks["AIGC"])
    finally:
        storage.close()
    assert (label["ProduceID"], label["PropagateID"]) == ("req-7f3a", record["id"])
    assert _answer_id({"images": [{"url": "u", "id": "img-1"}], "id": "req-1"}) == "img-1"
    assert _answer_id({"images": [{"url": "u"}], "request_id": 77}) == "77"
    assert _answer_id({"images": [{"url": "u"}], "id": True}) is None
    assert _answer_id({"images": [{"url": "u"}]}) is None


def test_apis_own_labels_and_c2pa_are_kept_byte_for_byte(tmp_path: Path) -> None:
    """An API that labels its own images: its XMP, AIGC and caBX stay; ours goes beside them."""
    theirs = provenance.aigc_label("91110000MA00000000", "provider-image-9", "", "")
    their_xmp = '<x:xmpmeta xmlns:x="adobe:ns:meta/">' \
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' \
        '<rdf:Description xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" photoshop:Credit="Provider"/>' \
        "</rdf:RDF></x:xmpmeta>"
    base = api_png(**{"XML:com.adobe.xmp": their_xmp})
    manifest = chunk(b"caBX", b"\0\0\0\x10jumbc2pa-manifest")
    label_chunk = chunk(b"tEXt", b"AIGC\0" + provenance.label_json(theirs).encode())
    original = base[:-12] + manifest + label_chunk + base[-12:]
    storage = Storage(tmp_path / "o", labeller=LABELLER).open()
    try:
        data = storage.path_of(storage.save(original, FIELDS)).read_bytes()
    finally:
        storage.close()
    kept = [c for _, c in chunk_list(original) if _ != b"IHDR"]
    for whole in kept:
        assert whole in data  # every chunk of the API's file, byte for byte
    info = formats.read_image(data)
    assert info.provenance.c2pa
    producers = [label["ContentProducer"] for label in info.provenance.labels]
    assert producers.count("91110000MA00000000") == 2  # theirs, and ours naming them as producer
    ours = next(label for label in info.provenance.labels if label["ContentPropagator"])
    assert ours["ProduceID"] == "provider-image-9"
    assert sum(1 for t, _ in chunk_list(data) if t == b"caBX") == 1


def test_settings_name_producer_and_propagator(tmp_path: Path) -> None:
    default = load_settings([], environ={}, cwd=tmp_path)
    assert labeller_for(default).producer == DEMO_PRODUCER  # no key: the demo backend made it
    keyed = load_settings([], environ={"YUNYX_API_KEY": "k", "YUNYX_API_BASE": "https://img.example.cn/v1"},
                          cwd=tmp_path)
    assert labeller_for(keyed).producer == "img.example.cn"
    assert labeller_for(keyed).propagator == provenance.APP_NAME
    named = load_settings(["--label-producer", "某公司 91110000", "--label-propagator", "Team X", "--visible-label"],
                          environ={"YUNYX_API_KEY": "k"}, cwd=tmp_path)
    assert (labeller_for(named).producer, labeller_for(named).propagator) == ("某公司 91110000", "Team X")
    assert named.visible_label and not default.visible_label


# ---------------------------------------------------------------- independent readers

requires_exiftool = pytest.mark.skipif(
    shutil.which("exiftool") is None and not os.environ.get("REQUIRE_EXIFTOOL"),
    reason="exiftool not installed (Debian: libimage-exiftool-perl); CI sets REQUIRE_EXIFTOOL",
)


@requires_exiftool
def test_exiftool_reads_source_type_prompt_and_label(saved) -> None:
    path, record, _ = saved
    out = subprocess.run(
        ["exiftool", "-j", "-a", "-G1", "-charset", "utf8", "-XMP:all", "-PNG:AIGC", "-PNG:Parameters", str(path)],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout
    tags = json.loads(out)[0]
    assert tags["XMP-iptcExt:DigitalSourceType"] == provenance.TRAINED_ALGORITHMIC_MEDIA
    assert tags["XMP-dc:Description"] == PROMPT
    assert tags["XMP-iptcExt:AISystemUsed"] == "FLUX.1-schnell"
    for key in ("XMP-TC260:Aigc", "PNG:AIGC"):
        label = json.loads(tags[key])
        assert (label["Label"], label["PropagateID"]) == ("1", record["id"])
        assert label["ContentPropagator"] == "Example Studio 示例"
    assert "Seed: 42" in tags["PNG:Parameters"]


def a1111_read(parameters: str) -> tuple[str, dict[str, str]]:
    """What Stable Diffusion web UI's parse_generation_parameters does, reduced: prompt and params."""
    *lines, last = parameters.strip().split("\n")
    pairs = A1111_RE_PARAM.findall(last)
    if len(pairs) < 3:
        lines.append(last)
        pairs = []
    params = {key: json.loads(value) if value.startswith('"') else value for key, value in pairs}
    return "\n".join(line.strip() for line in lines), params


def test_a1111_reader_reads_the_parameters_chunk(saved) -> None:
    path, _, _ = saved
    prompt, params = a1111_read(Image.open(path).text["parameters"])
    assert prompt == PROMPT
    assert params == {"Seed": "42", "Size": "1024x1024", "Model": "FLUX.1-schnell", "Prompt enhancement": "False",
                      "Inference": "1234"}


# ---------------------------------------------------------------- showing

def test_describe_in_both_languages() -> None:
    both = provenance.Provenance(labels=({"Label": "1"},), source_types=("trainedAlgorithmicMedia",))
    assert provenance.describe(both, "en") == "AI-generated · labelled (China GB 45438, IPTC) · no C2PA manifest"
    assert provenance.describe(both, "zh") == "AI 生成 · 已标识（中国 GB 45438、IPTC） · 无 C2PA 清单"
    iptc_only = provenance.Provenance(source_types=("compositeWithTrainedAlgorithmicMedia",), c2pa=True)
    assert provenance.describe(iptc_only, "en") == "AI-generated · labelled (IPTC) · C2PA manifest present"
    maybe = provenance.Provenance(labels=({"Label": "2"},))
    assert provenance.describe(maybe, "en").startswith("Possibly AI-generated")
    camera = provenance.Provenance(source_types=("digitalCapture",))
    assert provenance.describe(camera, "en") == "No AI label · no C2PA manifest"
    assert provenance.describe(provenance.Provenance(), "zh") == "无 AI 标识 · 无 C2PA 清单"


def test_history_detail_says_the_image_is_labelled(saved) -> None:
    from webui.access import Access
    from webui.handlers.history import HistoryHandlers
    from webui.trash import Trash

    path, record, _ = saved
    storage = Storage(path.parents[1]).open()
    try:
        request = SimpleNamespace(headers={"accept-language": "en"}, username=None)
        access = Access(storage.index)
        handlers = HistoryHandlers(storage, storage.index, access, Trash(storage, storage.index, access))
        shown = handlers.select([record["id"]], None, SimpleNamespace(index=0), request)
        where = shown[3]  # (image, record, card, where, ...)
    finally:
        storage.close()
    assert "AI-generated · labelled (China GB 45438, IPTC) · no C2PA manifest" in where


def test_c2pa_found_in_png_jpeg_and_webp() -> None:
    png = api_png()
    assert provenance.c2pa_present(png[:-12] + chunk(b"caBX", b"jumb") + png[-12:])
    assert not provenance.c2pa_present(png)
    jpeg = io.BytesIO()
    Image.new("RGB", (8, 8)).save(jpeg, "JPEG")
    data = jpeg.getvalue()
    app11 = b"\xff\xeb" + struct.pack(">H", 2 + 20) + b"JP\0\x01\0\0\0\x01\0\0\0\x10jumb" + b"\0\0"
    assert provenance.c2pa_present(data[:2] + app11 + data[2:])
    assert not provenance.c2pa_present(data)
    webp = io.BytesIO()
    Image.new("RGB", (8, 8)).save(webp, "WEBP")
    riff = webp.getvalue() + b"C2PA" + struct.pack("<I", 4) + b"jumb"
    assert provenance.c2pa_present(riff)


# ---------------------------------------------------------------- visible label


def white_rows(img: Image.Image) -> list[int]:
    """Rows holding pure white pixels: the mark's text (drawn white on a dark picture)."""
    rgb = img.convert("RGB")
    w, h = rgb.size
    data = rgb.tobytes()
    return [y for y in range(h) if b"\xff\xff\xff" in bytes(data[y * w * 3 : (y + 1) * w * 3])]


@pytest.mark.parametrize("size", [(1024, 1024), (512, 1024), (768, 512), (1024, 576), (64, 48)])
def test_visible_label_is_at_least_5_percent_and_keeps_metadata(tmp_path: Path, size: tuple[int, int]) -> None:
    out = io.BytesIO()
    Image.new("RGB", size, (0, 0, 0)).save(out, "PNG")
    storage = Storage(tmp_path / "o", labeller=LABELLER).open()
    try:
        path = storage.path_of(storage.save(out.getvalue(), FIELDS))
        original = path.read_bytes()
        stamped = provenance.stamp_visible_label(original)
    finally:
        storage.close()
    assert path.read_bytes() == original  # the original is never touched
    rows = white_rows(Image.open(io.BytesIO(stamped)))
    assert rows, "no mark drawn"
    runs = _runs(rows)
    assert runs[0][1] - runs[0][0] + 1 >= 0.05 * min(size)  # the first line's glyphs
    assert Image.open(io.BytesIO(stamped)).size == size
    for ctype, whole in chunk_list(original):
        if ctype in (b"tEXt", b"iTXt"):
            assert whole in stamped  # record, parameters, XMP, AIGC carried byte for byte
    assert metadata.read_record(stamped) == metadata.read_record(original)


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Consecutive row ranges, allowing small gaps inside a line of glyphs."""
    runs: list[tuple[int, int]] = []
    for y in rows:
        if runs and y - runs[-1][1] <= 3:
            runs[-1] = (runs[-1][0], y)
        else:
            runs.append((y, y))
    return runs


def test_visible_label_refuses_what_is_not_a_png() -> None:
    with pytest.raises(metadata.BadImageError):
        provenance.stamp_visible_label(b"not a png")
    with pytest.raises(metadata.BadImageError):
        provenance.stamp_visible_label(metadata.PNG_SIGNATURE + b"\0" * 40)


def test_visible_label_handles_palette_and_alpha() -> None:
    for mode in ("P", "LA", "RGBA", "I;16"):
        out = io.BytesIO()
        Image.new(mode, (200, 120)).save(out, "PNG")
        stamped = Image.open(io.BytesIO(provenance.stamp_visible_label(out.getvalue())))
        assert stamped.size == (200, 120)
        assert white_rows(stamped)


# ---------------------------------------------------------------- hostile input


@QUICK
@given(st.text(max_size=400) | st.text(alphabet='<>:/"= AIGCTC260rdf:liAltdescription&;', max_size=400))
def test_xmp_reader_never_raises(text: str) -> None:
    labels, types, _description, _system = provenance.read_xmp(provenance.TC260_NS + text)
    assert isinstance(labels, list) and isinstance(types, list)
    assert provenance.parse_label(text) is None or isinstance(provenance.parse_label(text), dict)


@QUICK
@given(st.binary(max_size=600))
def test_provenance_of_any_bytes(data: bytes) -> None:
    for prefix in (b"", metadata.PNG_SIGNATURE, b"\xff\xd8\xff", b"RIFF\0\0\0\0WEBP"):
        found = provenance.read_provenance(prefix + data)
        assert isinstance(found.ai_generated, bool)


@pytest.mark.parametrize(
    "packet",
    [
        provenance.TC260_NS + "<a:AIGC " * 30_000,
        provenance.TC260_NS + 'a:AIGC="' * 30_000,
        "<dc:description><rdf:Alt><rdf:li " * 8_000,
        "<x:DigitalSourceType>" * 12_000,
        provenance.TC260_NS + "<TC260:AIGC>{" + "&quot;" * 40_000 + "</TC260:AIGC>",
    ],
    ids=["open-tags", "open-attrs", "alt", "source-type", "entities"],
)
def test_xmp_reader_is_linear_on_large_packets(packet: str) -> None:
    assert cpu_seconds(provenance.read_xmp, packet) < 2.0


# ---------------------------------------------------------------- through the app


def test_app_labels_images_stamps_share_packs_on_request_and_reports_labels(tmp_path: Path) -> None:
    """An app started with --visible-label: its share packs carry stamped copies unless a script
    says false; /png_info reports the labels of what it saved."""
    import zipfile

    from gradio_client import handle_file

    from .support.apps import serve_app

    app = serve_app(tmp_path, "--visible-label", "--label-propagator", "Studio Nord")
    try:
        client = api_client(app.url)
        path, record = client.predict("a stamped harbour", "FLUX.1-schnell", "768x512", False, 3, api_name="/generate")
        saved = (app.outputs / record["file"]).read_bytes()
        info = client.predict(handle_file(path), api_name="/png_info")
        assert info["labels"]["ai_generated"] and info["labels"]["standards"] == ["China GB 45438", "IPTC"]
        assert info["labels"]["aigc_labels"][0]["ContentPropagator"] == "Studio Nord"
        with zipfile.ZipFile(client.predict("", [record["id"]], api_name="/export")) as pack:
            assert pack.read(f"images/{record['file']}") == saved  # the original, byte for byte
            stamped = pack.read(f"labelled/{record['file']}")
        assert stamped != saved and metadata.read_record(stamped) == metadata.read_record(saved)
        assert white_rows(Image.open(io.BytesIO(stamped)))
        with zipfile.ZipFile(client.predict("", [record["id"]], False, api_name="/export")) as pack:
            assert not [n for n in pack.namelist() if n.startswith("labelled/")]
        assert (app.outputs / record["file"]).read_bytes() == saved  # never the original
    finally:
        app.stop()
