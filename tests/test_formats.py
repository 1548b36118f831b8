"""Other tools' files: each format, built here from its public description, shows its settings
in PNG Info, goes to the Generate form, and is picked up by the history rebuild.

Samples follow the writers' own code (cited in webui/formats.py): A1111 infotext in a PNG
`parameters` chunk and in JPEG/WebP EXIF UserComment (piexif: "UNICODE\\0" + UTF-16BE);
ComfyUI's default graph in `prompt` and `workflow`; InvokeAI's `invokeai_metadata`; SwarmUI's
`sui_image_params` JSON in `parameters`; Fooocus' sorted JSON with `fooocus_scheme`; NovelAI's
`Comment` JSON beside Software/Source/Description; an XMP `dc:description`; a bare AIGC label.
"""

from __future__ import annotations

import html
import io
import json
import random
import re
import struct
import zlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from webui import formats, metadata, provenance
from webui.access import Access
from webui.generator import IMAGE_SIZES, RANDOM_SEED
from webui.guard import ServedFiles
from webui.handlers.pnginfo import PngInfoHandlers
from webui.storage import Storage

from .support.cpu import cpu_seconds

QUICK = settings(suppress_health_check=[HealthCheck.too_slow])  # examples: the profile (tests/conftest.py)

A1111 = (
    "a red fox in snow, (detailed:1.2)\n"
    "Negative prompt: blurry, lowres\n"
    "Steps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1234567890, Size: 1024x1024, "
    "Model hash: 6ce0161689, Model: FLUX.1-schnell, Version: v1.10.1"
)
# ComfyUI's default text-to-image graph in API format (what the `prompt` chunk holds).
COMFY_PROMPT = {
    "3": {"class_type": "KSampler", "inputs": {
        "seed": 156680208, "steps": 20, "cfg": 8, "sampler_name": "euler", "scheduler": "normal", "denoise": 1,
        "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 768, "height": 512, "batch_size": 1}},
    "6": {"class_type": "CLIPTextEncode",
          "inputs": {"text": "beautiful scenery nature glass bottle", "clip": ["4", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "text, watermark", "clip": ["4", 1]}},
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}},
}
# The same graph as the editor saves it (`workflow`): nodes with widgets, links [id, from, slot, to, slot, type].
COMFY_WORKFLOW = {
    "last_node_id": 9, "last_link_id": 9, "version": 0.4,
    "nodes": [
        {"id": 3, "type": "KSampler", "widgets_values": [156680208, "randomize", 20, 8, "euler", "normal", 1],
         "inputs": [{"name": "model", "link": 1}, {"name": "positive", "link": 4},
                    {"name": "negative", "link": 6}, {"name": "latent_image", "link": 2}]},
        {"id": 4, "type": "CheckpointLoaderSimple", "widgets_values": ["v1-5-pruned-emaonly.safetensors"]},
        {"id": 5, "type": "EmptyLatentImage", "widgets_values": [768, 512, 1]},
        {"id": 6, "type": "CLIPTextEncode", "widgets_values": ["beautiful scenery nature glass bottle"]},
        {"id": 7, "type": "CLIPTextEncode", "widgets_values": ["text, watermark"]},
    ],
    "links": [[1, 4, 0, 3, 0, "MODEL"], [2, 5, 0, 3, 3, "LATENT"], [4, 6, 0, 3, 1, "CONDITIONING"],
              [6, 7, 0, 3, 2, "CONDITIONING"]],
}
INVOKEAI = {
    "generation_mode": "txt2img", "positive_prompt": "a lighthouse at dusk", "negative_prompt": "people",
    "width": 512, "height": 1024, "seed": 4242, "rand_device": "cpu", "cfg_scale": 7.5, "steps": 30,
    "scheduler": "euler", "model": {"key": "abc", "hash": "blake3:00", "name": "stable-diffusion-v1-5", "base": "sd-1"},
}
SWARMUI = {
    "sui_image_params": {
        "prompt": "a photo of a cat", "negativeprompt": "dog", "model": "OfficialStableDiffusion/sd_xl_base_1.0",
        "seed": 1, "steps": 20, "cfgscale": 7.0, "width": 1024, "height": 576, "swarm_version": "0.9.3.1",
    },
    "sui_extra_data": {"date": "2025-01-25", "generation_time": "4.84 sec"},
}
# FooocusMetadataParser.parse_string: sorted keys, resolution and seed as strings.
FOOOCUS = {
    "adm_guidance": "(1.5, 0.8, 0.3)", "base_model": "juggernautXL_v8Rundiffusion", "base_model_hash": "aeb7e9e689",
    "full_negative_prompt": ["ugly"], "full_prompt": ["a castle, cinematic"], "guidance_scale": 4,
    "negative_prompt": "ugly", "performance": "Speed", "prompt": "a castle", "resolution": "(576, 1024)",
    "sampler": "dpmpp_2m_sde_gpu", "scheduler": "karras", "seed": "987654321", "sharpness": 2,
    "steps": 30, "styles": "['Fooocus V2', 'Fooocus Enhance']", "vae": "Default (model)",
    "version": "Fooocus v2.5.5",
}
NOVELAI = {
    "prompt": "1girl, umbrella, rain", "steps": 28, "height": 1216, "width": 832, "scale": 5.0,
    "uncond_scale": 1.0, "cfg_rescale": 0.0, "seed": 3816166865, "n_samples": 1, "noise_schedule": "native",
    "sampler": "k_euler", "uc": "lowres, bad anatomy",
}


def png_with(width: int = 16, height: int = 16, **texts: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    for key, value in texts.items():
        info.add_itxt(key, value) if not value.isascii() else info.add_text(key, value)
    out = io.BytesIO()
    Image.new("RGB", (width, height), (40, 90, 160)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def exif_with(user_comment: bytes | None = None, **ifd0: str) -> Image.Exif:
    exif = Image.Exif()
    tags = {"Software": 0x0131, "Model": 0x0110, "ImageDescription": 0x010E}
    for name, value in ifd0.items():
        exif[tags[name]] = value
    if user_comment is not None:
        exif.get_ifd(0x8769)[0x9286] = user_comment
    return exif


def encoded(fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (24, 16), (200, 120, 40)).save(out, fmt, **options)
    return out.getvalue()


def piexif_unicode(text: str) -> bytes:
    """piexif.helper.UserComment.dump(text, encoding="unicode"), which A1111 uses for JPEG/WebP."""
    return b"UNICODE\0" + text.encode("utf-16-be")


SAMPLES: dict[str, bytes] = {
    "a1111": png_with(parameters=A1111),
    "a1111-jpeg": encoded("JPEG", exif=exif_with(piexif_unicode(A1111))),
    "a1111-webp": encoded("WEBP", exif=exif_with(piexif_unicode(A1111))),
    "comfyui": png_with(prompt=json.dumps(COMFY_PROMPT), workflow=json.dumps(COMFY_WORKFLOW)),
    "comfyui-workflow-only": png_with(workflow=json.dumps(COMFY_WORKFLOW)),
    "invokeai": png_with(invokeai_metadata=json.dumps(INVOKEAI)),
    "swarmui": png_with(parameters=json.dumps(SWARMUI)),
    "fooocus": png_with(parameters=json.dumps(FOOOCUS, sort_keys=True), fooocus_scheme="fooocus"),
    "fooocus-jpeg": encoded("JPEG", exif=exif_with(json.dumps(FOOOCUS).encode(), Software="Fooocus v2.5.5")),
    "novelai": png_with(Title="AI generated image", Description=NOVELAI["prompt"], Software="NovelAI",
                        Source="NovelAI Diffusion V4.5 4BDE2A90", Comment=json.dumps(NOVELAI)),
}
# What each sample must read as: (source, prompt, negative, model, size, seed, a setting left out).
EXPECTED = {
    "a1111": ("a1111", "a red fox in snow, (detailed:1.2)", "blurry, lowres", "FLUX.1-schnell", "1024x1024",
              1234567890, "Steps"),
    "comfyui": ("comfyui", "beautiful scenery nature glass bottle", "text, watermark",
                "v1-5-pruned-emaonly.safetensors", "768x512", 156680208, "sampler_name"),
    "invokeai": ("invokeai", "a lighthouse at dusk", "people", "stable-diffusion-v1-5", "512x1024", 4242,
                 "cfg_scale"),
    "swarmui": ("swarmui", "a photo of a cat", "dog", "OfficialStableDiffusion/sd_xl_base_1.0", "1024x576", 1,
                "cfgscale"),
    "fooocus": ("fooocus", "a castle", "ugly", "juggernautXL_v8Rundiffusion", "576x1024", 987654321, "sharpness"),
    "novelai": ("novelai", "1girl, umbrella, rain", "lowres, bad anatomy", "NovelAI Diffusion V4.5 4BDE2A90",
                "832x1216", 3816166865, "sampler"),
}
EXPECTED["a1111-jpeg"] = EXPECTED["a1111-webp"] = EXPECTED["a1111"]
EXPECTED["comfyui-workflow-only"] = EXPECTED["comfyui"][:6] + ("steps",)
EXPECTED["fooocus-jpeg"] = EXPECTED["fooocus"]


# ---------------------------------------------------------------- each format


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_format_reads_its_settings(name: str) -> None:
    source, prompt, negative, model, size, seed, other = EXPECTED[name]
    reading = formats.read_image(SAMPLES[name]).reading
    assert reading is not None, name
    assert (reading.source, reading.prompt, reading.negative_prompt) == (source, prompt, negative)
    assert (reading.model, reading.image_size, reading.seed) == (model, size, seed)
    assert other in reading.other


def inspect(tmp_path: Path, data: bytes, suffix: str = ".png", lang: str = "en-US", *, closed_after):
    """Run the PNG Info handler on a file, as a visitor in `lang` would (an app's opened outputs folder)."""
    path = tmp_path / f"dropped{suffix}"
    path.write_bytes(data)

    request = SimpleNamespace(headers={"accept-language": lang}, username=None)
    storage = closed_after(Storage(tmp_path / "outputs").open())
    handlers = PngInfoHandlers(ServedFiles(storage, Access(storage.index)))
    return handlers, request, handlers.inspect(str(path), request)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_png_info_shows_each_format_and_sends_what_maps_to_generate(tmp_path: Path, name: str, closed_after) -> None:
    _source, prompt, _negative, model, size, seed, other = EXPECTED[name]
    suffix = ".jpg" if name.endswith("jpeg") else ".webp" if name.endswith("webp") else ".png"
    handlers, request, shown = inspect(tmp_path, SAMPLES[name], suffix, closed_after=closed_after)
    summary, fields, settings = shown[0], shown[4], shown[6]
    summary = re.sub(r"\\(.)", r"\1", summary)  # as the Markdown shows it
    assert fields is not None and fields["prompt"] == prompt
    assert html.escape(prompt, quote=True) in settings and 'class="settings-card"' in settings  # the one card
    assert "Not carried over to Generate" in summary and other in summary
    assert "Negative prompt" in summary  # every sample has one; the form has no such field
    assert "No AI label" in summary  # none of the other tools labels its output
    form = handlers.send(fields, request)
    assert form[0] == prompt
    # A size or seed the API can't take falls back to the form's default, and says so.
    assert form[2] == (size if size in IMAGE_SIZES else IMAGE_SIZES[0])
    assert form[4] == (seed if seed <= 9_999_999_999 else RANDOM_SEED)
    if size not in IMAGE_SIZES:
        assert f"Size ({size})" in summary
    if model != "FLUX.1-schnell":  # an A1111 checkpoint name is not an API model: the form keeps its own
        assert f"Model ({model})" in summary


def test_png_info_summary_in_chinese(tmp_path: Path, closed_after) -> None:
    _, _, (summary, *_rest) = inspect(tmp_path, SAMPLES["comfyui"], lang="zh-CN", closed_after=closed_after)
    assert "未带到生成页" in summary and "无 AI 标识" in summary and "无 C2PA 清单" in summary


def test_png_info_reads_xmp_description_and_aigc_only_files(tmp_path: Path, closed_after) -> None:
    label = provenance.aigc_label("Doubao", "d-1", "", "")
    xmp = provenance.xmp_packet({"prompt": "a teapot, studio light", "model": "Seedream"}, label)
    _, _, (summary, _p, _j, _o, fields, _d, _c) = inspect(tmp_path, png_with(**{"XML:com.adobe.xmp": xmp}), closed_after=closed_after)
    assert fields is not None and fields["prompt"] == "a teapot, studio light"
    assert "XMP" in summary and "AI-generated · labelled (China GB 45438, IPTC)" in summary
    only_label = png_with(AIGC=provenance.label_json(label))
    _, _, (summary, _p, _j, others, fields, _d, _c) = inspect(tmp_path, only_label, closed_after=closed_after)
    assert fields is None and "Only an AI label" in summary and "China GB 45438" in summary
    assert json.loads(others["AIGC"])["ContentProducer"] == "Doubao"


def test_png_info_refuses_what_is_not_an_image(tmp_path: Path, closed_after) -> None:
    """One plain message in the summary (not an error toast), and nothing offered to Generate."""
    _, _, (summary, parameters, _, chunks, fields, _, settings) = inspect(tmp_path, b"GIF89a not really", ".gif", closed_after=closed_after)
    assert summary == "That file is not a picture this tab can read. Drop a PNG, JPEG or WebP file."
    assert (parameters, chunks, fields, settings) == ("", {}, None, "")


def test_history_rebuild_reads_other_tools_pngs(tmp_path: Path) -> None:
    """PNGs copied into the outputs folder by hand are indexed with their settings."""
    outputs = tmp_path / "outputs"
    (outputs / "imported").mkdir(parents=True)
    for name in ("a1111", "comfyui", "invokeai", "swarmui", "fooocus", "novelai"):
        (outputs / "imported" / f"{name}.png").write_bytes(SAMPLES[name])
    (outputs / "imported" / "plain.png").write_bytes(png_with())
    storage = Storage(outputs).open()
    try:
        found = {Path(r["file"]).stem: r for r in storage.index.search("", 0, 50)}
    finally:
        storage.close()
    assert set(found) == {"a1111", "comfyui", "invokeai", "swarmui", "fooocus", "novelai"}
    for name, record in found.items():
        _source, prompt, _neg, model, size, seed, _other = EXPECTED[name]
        assert (record["prompt"], record["model"], record["image_size"], record["seed"]) == (prompt, model, size, seed)


def test_left_out_lists_what_the_form_did_not_take() -> None:
    record = {"prompt": "p", "negative_prompt": "n", "model": "sdxl", "image_size": "832x1216", "seed": 5,
              "raw": {"Steps": "20", "Seed": "5", "Model": "sdxl"}}
    carried = {"prompt": "p", "model": "sdxl", "model_maps": False, "image_size": IMAGE_SIZES[0], "seed": 5}
    assert formats.left_out(record, carried) == ["Negative prompt", "Steps", "Model (sdxl)", "Size (832x1216)"]


# ---------------------------------------------------------------- containers


def test_user_comment_encodings() -> None:
    text = "a cat 小猫\nSeed: 1"
    assert formats.decode_user_comment(piexif_unicode(text)) == text
    assert formats.decode_user_comment(b"UNICODE\0" + text.encode("utf-16-le"), "<") == text
    assert formats.decode_user_comment(b"UNICODE\0" + "ascii only".encode("utf-16-le"), ">") == "ascii only"
    assert formats.decode_user_comment(b"ASCII\0\0\0" + b"plain\0\0") == "plain"
    assert formats.decode_user_comment(b"\0" * 8 + "utf8 猫".encode()) == "utf8 猫"


def test_converted_jpeg_and_webp_keep_exif_and_xmp() -> None:
    """An API answering in JPEG/WebP: the PNG we store still carries its EXIF and XMP."""
    label = provenance.aigc_label("api.example", "img-1", "", "")
    xmp = provenance.xmp_packet({"prompt": "from the API"}, label).encode()
    for fmt in ("JPEG", "WEBP"):
        source = encoded(fmt, exif=exif_with(piexif_unicode(A1111), Software="ImageAPI 2"), xmp=xmp)
        png = metadata.to_png(source)
        chunk_types = [ctype for _, ctype, _ in metadata._iter_chunks(png)]
        assert b"eXIf" in chunk_types, fmt
        info = formats.read_image(png)
        assert info.chunks["Software"] == "ImageAPI 2"
        assert info.chunks["XML:com.adobe.xmp"].encode() == xmp  # byte for byte
        assert info.reading is not None and info.reading.seed == 1234567890
        assert info.provenance.labels[0]["ProduceID"] == "img-1"


def test_jpeg_comment_and_xmp_segments_are_read() -> None:
    data = encoded("JPEG", comment=b"hello from a camera")
    assert ("Comment", "hello from a camera") in formats.image_texts(data)


# ---------------------------------------------------------------- hostile input


def _mutations(seed: int, count: int) -> list[bytes]:
    rng = random.Random(seed)
    bases = list(SAMPLES.values())
    found = []
    for _ in range(count):
        data = bytearray(rng.choice(bases))
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        found.append(bytes(data[: rng.randint(0, len(data))] if rng.random() < 0.3 else data))
    return found


def test_ten_thousand_hostile_files_never_raise() -> None:
    """Mutated samples of every format: each reader answers (maybe None), none raises."""
    for data in _mutations(14, 10_000):
        info = formats.read_image(data)
        assert isinstance(info.texts, tuple)
        assert info.reading is None or isinstance(info.reading.prompt, str)
        record = metadata.read_record(data)
        assert record is None or isinstance(record, dict)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=8,
)
KEYS = ("parameters", "UserComment", "fooocus_scheme", "MakerNote", "invokeai_metadata", "sd-metadata", "prompt",
        "workflow", "Comment", "Software", "Source", "Description", "XML:com.adobe.xmp", "AIGC")
texts_strategy = st.dictionaries(
    st.sampled_from(KEYS),
    st.text(max_size=200) | json_values.map(json.dumps)
    | st.sampled_from([json.dumps(COMFY_PROMPT), json.dumps(SWARMUI), json.dumps(FOOOCUS), "fooocus", "a1111"]),
    max_size=6,
)


@QUICK
@given(texts_strategy)
def test_read_settings_never_raises(texts: dict[str, str]) -> None:
    reading = formats.read_settings(texts)
    assert reading is None or reading.source in formats.SOURCES
    record = metadata.record_from_chunks(texts)
    assert record is None or isinstance(record.get("prompt"), str)


links = st.lists(st.sampled_from(["1", "2", "3", 1, None]), min_size=2, max_size=2)
node_inputs = st.dictionaries(
    st.sampled_from(["seed", "noise_seed", "positive", "negative", "model", "latent_image", "guider", "noise",
                     "text", "conditioning", "ckpt_name", "width", "height"]),
    links | st.integers(-5, 2**70) | st.text(max_size=8) | st.none(),
    max_size=6,
)
comfy_nodes = st.dictionaries(
    st.sampled_from(["1", "2", "3", "x"]),
    st.fixed_dictionaries(
        {"class_type": st.sampled_from(["KSampler", "CLIPTextEncode", "Other"]), "inputs": node_inputs})
    | st.integers() | st.none(),
    max_size=4,
)


@QUICK
@given(comfy_nodes)
def test_comfy_graphs_of_any_shape(nodes: dict[str, Any]) -> None:
    """Links to nowhere, cycles, wrong types: the graph walk answers without raising."""
    reading = formats.read_comfyui({"prompt": json.dumps(nodes)})
    assert reading is None or isinstance(reading.prompt, str)
    workflow = {"nodes": [{"id": k, "type": str(v.get("class_type")) if isinstance(v, dict) else v,
                           "widgets_values": list((v.get("inputs") or {}).values()) if isinstance(v, dict) else v,
                           "inputs": [{"name": "positive", "link": 1}]} for k, v in nodes.items()],
                "links": [[1, "1", 0, "2", 0, "CONDITIONING"], [2]]}
    reading = formats.read_comfyui({"workflow": json.dumps(workflow)})
    assert reading is None or isinstance(reading.prompt, str)


@QUICK
@given(st.binary(max_size=400))
def test_exif_walker_never_raises(data: bytes) -> None:
    for prefix in (b"", b"II*\0\x08\0\0\0", b"MM\0*\0\0\0\x08"):
        assert all(isinstance(t, str) for _, t in formats.exif_texts(prefix + data))
    assert isinstance(formats.decode_user_comment(data), str)
    assert formats.image_texts(b"\xff\xd8\xff" + data) is not None
    assert formats.image_texts(b"RIFF\0\0\0\0WEBP" + data) is not None


_timed = cpu_seconds  # CPU time: the load of the machine does not count


def _chain_graph(length: int) -> dict[str, Any]:
    """A sampler whose positive prompt sits at the end of a very long conditioning chain."""
    graph: dict[str, Any] = {"0": {"class_type": "KSampler", "inputs": {"positive": ["1", 0], "seed": 1}}}
    for i in range(1, length):
        graph[str(i)] = {"class_type": "ConditioningCombine", "inputs": {"conditioning_1": [str(i + 1), 0]}}
    graph[str(length)] = {"class_type": "CLIPTextEncode", "inputs": {"text": "deep"}}
    return graph


def _exif_many_entries(count: int) -> bytes:
    entries = b"".join(struct.pack("<HHII", 0x0131, 2, 4, 0x41414141) for _ in range(count))
    return b"II*\0\x08\0\0\0" + struct.pack("<H", count) + entries


@pytest.mark.parametrize(
    "texts",
    [
        {"prompt": json.dumps(_chain_graph(3_000))},
        {"workflow": json.dumps({"nodes": [{"id": i, "type": "KSampler"} for i in range(10_000)], "links": []})},
        {"parameters": json.dumps({"sui_image_params": {"prompt": "x" * 250_000}})},
        {"invokeai_metadata": json.dumps({f"k{i}": i for i in range(20_000)})},
        {"Comment": json.dumps({"uc": "", "prompt": "[" * 250_000})},
        {"XML:com.adobe.xmp": provenance.TC260_NS + "<a:AIGC " * 30_000},
        {"XML:com.adobe.xmp": "<x:description><rdf:Alt>" * 10_000},
        {"parameters": "[" * 250_000},
    ],
    ids=["comfy-chain", "workflow-nodes", "swarm-1mb", "invoke-keys", "nai-deep", "xmp-tags", "xmp-alt", "deep-json"],
)
def test_readers_are_linear_on_large_inputs(texts: dict[str, str]) -> None:
    assert _timed(formats.read_settings, texts) < 2.0


def test_container_walkers_are_linear() -> None:
    many_segments = b"\xff\xd8" + b"\xff\xfe\x00\x02" * 60_000 + b"\xff\xd9"
    many_riff = b"RIFF\0\0\0\0WEBP" + b"XMP \0\0\0\0" * 30_000
    exif = _exif_many_entries(20_000)
    png = png_with()
    many_chunks = png[:-12] + (struct.pack(">I", 0) + b"teSt" + struct.pack(">I", zlib.crc32(b"teSt"))) * 20_000 \
        + png[-12:]
    for data in (many_segments, many_riff, many_chunks):
        assert _timed(formats.read_image, data) < 2.0
    assert _timed(lambda: list(formats.exif_texts(exif)), ) < 2.0
