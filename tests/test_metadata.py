"""Tests for webui.metadata: infotext, PNG text chunks, image conversion."""

from __future__ import annotations

import io
import json
import random
import re
import struct
import tracemalloc
import zlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from webui import metadata as md
from webui.metadata import (
    FIELDS,
    BadImageError,
    NotPNGError,
    add_text_chunks,
    embed_record,
    infotext,
    parse_infotext,
    read_record,
    read_text_chunks,
    sniff_image_type,
    text_chunks,
    to_png,
)
from webui.record import Record

# How many examples comes from the profile (tests/conftest.py): few locally, 10,000 in CI.
QUICK = settings(suppress_health_check=[HealthCheck.too_slow])

EXAMPLE_LINE = (
    "Seed: 42, Size: 1024x1024, Model: FLUX.1-schnell, Prompt enhancement: False, Inference: 1234"
)
A1111_TEXT = (
    "masterpiece, a cat, (detailed:1.2)\n"
    "Negative prompt: blurry, lowres\n"
    "Steps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1234567890, Size: 512x768, "
    "Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Version: v1.6.0"
)
# What the app reads from A1111_TEXT: our fields, and A1111's own in "raw".
A1111_FIELDS = {"prompt": "masterpiece, a cat, (detailed:1.2)", "negative_prompt": "blurry, lowres",
                "seed": 1234567890, "image_size": "512x768", "model": "v1-5-pruned-emaonly"}
A1111_RAW = {"Steps": "20", "Sampler": "DPM++ 2M Karras", "Model hash": "6ce0161689"}


def read_as_a1111(parsed: dict | None) -> None:
    """`parsed` holds what A1111_TEXT says, in our fields and in `raw`."""
    assert parsed is not None
    assert {k: parsed.get(k) for k in A1111_FIELDS} == A1111_FIELDS
    assert {k: parsed["raw"].get(k) for k in A1111_RAW} == A1111_RAW
# The original A1111 pattern, kept as the reference for our linear-time one.
A1111_RE_PARAM = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')


# ---------------------------------------------------------------- helpers


def make_record(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": "20240101-000000-abcd",
        "prompt": "a cat",
        "model": "FLUX.1-schnell",
        "image_size": "1024x1024",
        "prompt_enhancement": False,
        "seed": 42,
        "inference": 1234,
        "file": "2024-01-01/20240101-000000-abcd.png",
        "created_at": "2024-01-01T00:00:00Z",
        "user": None,
    }
    record.update(overrides)
    return record


def noise_png(width: int = 96, height: int = 64, *, seed: int = 0, level: int = 6) -> bytes:
    raw = random.Random(seed).randbytes(width * height * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), raw).save(out, "PNG", compress_level=level)
    return out.getvalue()


def encode(img: Image.Image, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


def chunks_of(png: bytes) -> list[tuple[bytes, bytes, bool]]:
    """Independent chunk walker: (type, data, crc_ok) for every chunk."""
    assert png[:8] == md.PNG_SIGNATURE
    pos, found = 8, []
    while pos < len(png):
        length, ctype = struct.unpack(">I4s", png[pos : pos + 8])
        data = png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        found.append((ctype, data, zlib.crc32(ctype + data) == crc))
        pos += 12 + length
    return found


def chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data))


def insert_before_iend(png: bytes, extra: bytes) -> bytes:
    return png[:-12] + extra + png[-12:]


def pillow_text(png: bytes) -> dict[str, str]:
    img = Image.open(io.BytesIO(png))
    img.load()  # also verifies CRCs (LOAD_TRUNCATED_IMAGES is False)
    return dict(img.text)


@pytest.fixture(scope="module")
def png() -> bytes:
    return noise_png()


# ---------------------------------------------------------------- fields


def test_fields_order_and_keys() -> None:
    labels = [f.label for f in FIELDS]
    assert labels[:5] == ["Seed", "Size", "Model", "Prompt enhancement", "Inference"]
    assert "id" not in {f.key for f in FIELDS}
    record_keys = set(Record().to_dict())
    assert {f.key for f in FIELDS} <= record_keys
    assert set(make_record()) | {"starred", "rating", "boards"} == record_keys


# ---------------------------------------------------------------- infotext writer


def test_example_params_line_exact() -> None:
    text = infotext(make_record())
    assert text.split("\n")[-1] == EXAMPLE_LINE
    assert text == "a cat\n" + EXAMPLE_LINE


def test_none_values_left_out_and_user_written() -> None:
    text = infotext(make_record(inference=None, user="alice"))
    assert text.split("\n")[-1] == (
        "Seed: 42, Size: 1024x1024, Model: FLUX.1-schnell, Prompt enhancement: False, User: alice"
    )


def test_booleans_written_as_python_literals() -> None:
    assert "Prompt enhancement: True" in infotext(make_record(prompt_enhancement=True))
    parsed = parse_infotext(infotext(make_record(prompt_enhancement=True)))
    assert parsed["prompt_enhancement"] is True


def test_empty_prompt_still_has_params_line() -> None:
    assert infotext(make_record(prompt="")) == EXAMPLE_LINE
    parsed = parse_infotext(EXAMPLE_LINE)
    assert parsed["prompt"] == "" and parsed["seed"] == 42


def test_quoted_values() -> None:
    text = infotext(make_record(model='a, b: c'))
    assert 'Model: "a, b: c"' in text
    assert parse_infotext(text)["model"] == "a, b: c"
    assert parse_infotext('p\nSeed: 1, Size: 1x1, Model: "a, b: c"')["model"] == "a, b: c"


def test_negative_prompt_written_when_present() -> None:
    text = infotext(make_record(negative_prompt="blurry, lowres"))
    assert text == "a cat\nNegative prompt: blurry, lowres\n" + EXAMPLE_LINE
    assert parse_infotext(text)["negative_prompt"] == "blurry, lowres"


TRICKY_PROMPTS = [
    'a "quoted" cat, with commas: and colons',
    "back\\slash \\n not a newline, \\\"",
    "line one\nline two\n\nline four",
    "中文提示词，带逗号：冒号, and ascii, too",
    "emoji 🐱‍👤🎨, done",
    "Steps: 20, Sampler: Euler, CFG scale: 7",  # looks like a params line itself
    '"starts and ends with quotes"',
]
TRICKY_VALUES = [
    "org/model, v2: final",
    'has "quotes", and \\ backslash',
    "multi\nline",
    "中文模型，名字：冒号",
    "🐱 emoji",
    '"quoted"',
    " padded ",
    "",
    "tab\tinside",
]


@pytest.mark.parametrize("prompt", TRICKY_PROMPTS)
@pytest.mark.parametrize("model", TRICKY_VALUES)
def test_infotext_round_trip(prompt: str, model: str) -> None:
    record = make_record(prompt=prompt, model=model, user=model, prompt_enhancement=True)
    parsed = parse_infotext(infotext(record))
    assert parsed["prompt"] == prompt
    assert parsed["negative_prompt"] == ""
    for field in FIELDS:
        assert parsed[field.key] == record[field.key]
        assert type(parsed[field.key]) is type(record[field.key])


def test_float_inference_round_trip() -> None:
    assert parse_infotext(infotext(make_record(inference=0.321)))["inference"] == 0.321


def a1111_prompt(text: str) -> str:
    """What A1111's parser makes of a prompt: lines stripped, leading blank lines gone."""
    lines = [line.strip() for line in text.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines)


@QUICK
@given(prompt=st.text(), model=st.text(), user=st.text(), seed=st.integers(0, 2**63))
def test_infotext_round_trip_property(prompt: str, model: str, user: str, seed: int) -> None:
    record = make_record(prompt=prompt, model=model, user=user, seed=seed)
    parsed = parse_infotext(infotext(record))
    assert (parsed["model"], parsed["user"], parsed["seed"]) == (model, user, seed)
    if "Negative prompt:" not in prompt:
        assert parsed["prompt"] == a1111_prompt(prompt)


# ---------------------------------------------------------------- infotext parser


def test_a1111_infotext() -> None:
    parsed = parse_infotext(A1111_TEXT)
    read_as_a1111(parsed)
    assert "prompt_enhancement" not in parsed and "inference" not in parsed


def test_multiline_negative_prompt() -> None:
    parsed = parse_infotext("p1\np2\nNegative prompt: n1\nn2\nSteps: 1, Seed: 2, Size: 3x4")
    assert (parsed["prompt"], parsed["negative_prompt"]) == ("p1\np2", "n1\nn2")


def test_last_line_with_fewer_than_three_params_is_prompt() -> None:
    parsed = parse_infotext("a cat\nSeed: 5, Model: x")
    assert parsed["prompt"] == "a cat\nSeed: 5, Model: x"
    assert parsed["raw"] == {} and "seed" not in parsed


def test_bad_typed_values_stay_raw() -> None:
    parsed = parse_infotext("p\nSeed: abc, Prompt enhancement: maybe, Inference: fast, Size: 1x1")
    assert "seed" not in parsed and "prompt_enhancement" not in parsed and "inference" not in parsed
    assert parsed["raw"]["Seed"] == "abc"
    assert parsed["raw"]["Prompt enhancement"] == "maybe"
    assert parsed["image_size"] == "1x1"


def test_bool_case_insensitive() -> None:
    parsed = parse_infotext("p\nSeed: 1, Size: 1x1, Prompt enhancement: TRUE")
    assert parsed["prompt_enhancement"] is True


def test_code_is_never_evaluated(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    def boom(*_: Any) -> None:
        raise AssertionError("evaluated!")

    monkeypatch.setattr(os, "system", boom)
    payload = "__import__('os').system('x')"
    parsed = parse_infotext(f"{payload}\nSeed: {payload}, Size: {payload}, Model: {payload}")
    assert parsed["raw"]["Seed"] == payload
    assert "seed" not in parsed
    assert parsed["prompt"] == payload and parsed["model"] == payload
    png = add_text_chunks(noise_png(8, 8), {"parameters": payload, "generation": payload})
    assert read_text_chunks(png) == {"parameters": payload, "generation": payload}
    assert read_record(png)["prompt"] == payload  # type: ignore[index]


@QUICK
@given(st.text(alphabet='ab é1 -/:,"\\\t\n', max_size=40))
def test_linear_regex_matches_a1111(line: str) -> None:
    assert md._RE_PARAM.findall(line) == A1111_RE_PARAM.findall(line)


@pytest.mark.parametrize(
    "text",
    [
        A1111_TEXT,
        'Seed: "unterminated, Size: "x\\", Model: "\\\\", Steps: 1',
        "Negative prompt:",
        "\n\n\n",
        "",
        "Seed: , Size: , Model: ",
    ],
)
def test_linear_regex_matches_a1111_on_samples(text: str) -> None:
    line = text.split("\n")[-1]
    assert md._RE_PARAM.findall(line) == A1111_RE_PARAM.findall(line)


@QUICK
@given(st.text())
def test_parse_infotext_never_raises(text: str) -> None:
    result = parse_infotext(text)
    assert isinstance(result["prompt"], str) and isinstance(result["raw"], dict)


@pytest.mark.parametrize(
    "text",
    [
        "a" * 1_000_000,  # quadratic for A1111's original pattern
        "ab cd-ef/" * 110_000,
        "Key: " + '"' + "x" * 1_000_000,
        'Kk: "\\", ' * 120_000,
        "Model: a, " * 100_000,
        "Seed: " + "9" * 1_000_000 + ", Size: 1x1, Inference: " + "1" * 100_000,
        "line\n" * 200_000 + EXAMPLE_LINE,
        "Negative prompt: x\n" * 50_000 + EXAMPLE_LINE,
    ],
    ids=["letters", "keychars", "open-quote", "escapes", "params", "big-numbers", "lines", "neg"],
)
def test_parse_infotext_of_1mb_finishes_and_never_raises(text: str) -> None:
    """Each input is quadratic (hours) for A1111's pattern; ours finishes. How fast, and that
    2 MB costs twice 1 MB, is measured in `python bench/run.py --only infotext`, not asserted."""
    result = parse_infotext(text)
    assert isinstance(result["prompt"], str) and isinstance(result["raw"], dict)
    if text.endswith(EXAMPLE_LINE):
        assert result["seed"] == 42


def test_read_record_1mb_parameters_chunk(png: bytes) -> None:
    big = add_text_chunks(png, {"parameters": "word " * 200_000 + "\n" + EXAMPLE_LINE})
    record = read_record(big)
    assert record is not None and record["seed"] == 42


# ---------------------------------------------------------------- chunks and records


def test_text_chunks_contents() -> None:
    record = make_record(extra={"nested": [1, "中"]})
    chunks = text_chunks(record)
    assert set(chunks) == {"parameters", "generation"}
    assert chunks["parameters"] == infotext(record)
    assert json.loads(chunks["generation"]) == record
    assert "中" in chunks["generation"]  # ensure_ascii=False


def test_text_chunks_rejects_unserialisable_record() -> None:
    with pytest.raises(TypeError):
        text_chunks(make_record(extra=object()))


@pytest.mark.parametrize("prompt", TRICKY_PROMPTS)
def test_record_round_trip_through_png(png: bytes, prompt: str) -> None:
    record = make_record(prompt=prompt, model="org/model, v2: 中", user="ünï", extra_key=[1, 2])
    out = embed_record(png, record)
    assert read_record(out) == record
    assert pillow_text(out)["generation"] == text_chunks(record)["generation"]


@QUICK
@given(
    prompt=st.text(),
    model=st.text(),
    user=st.none() | st.text(),
    seed=st.integers(0, 2**63),
    inference=st.none() | st.integers(0, 10**9) | st.floats(allow_nan=False, allow_infinity=False),
    enhance=st.booleans(),
)
def test_record_round_trip_property(
    png: bytes, prompt: str, model: str, user: str | None, seed: int, inference: Any, enhance: bool
) -> None:
    record = make_record(
        prompt=prompt,
        model=model,
        user=user,
        seed=seed,
        inference=inference,
        prompt_enhancement=enhance,
    )
    assert read_record(embed_record(png, record)) == record


def test_read_record_falls_back_to_a1111_parameters(png: bytes) -> None:
    read_as_a1111(read_record(add_text_chunks(png, {"parameters": A1111_TEXT})))


@pytest.mark.parametrize(
    "generation",
    [
        "not json",
        "[1, 2]",
        '{"prompt": "x"}',
        '{"prompt": 1, "model": "m", "seed": 1}',
        "[" * 100_000,  # RecursionError inside json
    ],
)
def test_read_record_ignores_unusable_generation(png: bytes, generation: str) -> None:
    out = add_text_chunks(png, {"generation": generation, "parameters": A1111_TEXT})
    assert read_record(out)["seed"] == 1234567890  # type: ignore[index]
    assert read_record(add_text_chunks(png, {"generation": generation})) is None


def test_read_record_from_head_of_file_is_full_or_none(png: bytes) -> None:
    """Storage reads only a file's head first: a cut must never yield a lossy record."""
    record = make_record(prompt="long prompt " * 2000)
    out = embed_record(png, record)
    generation_end = out.index(b"tEXtparameters")
    assert read_record(out[:generation_end]) == record  # cut inside `parameters`
    assert read_record(out[: generation_end // 2]) is None  # cut inside `generation`


def test_read_record_none_without_metadata(png: bytes) -> None:
    assert read_record(png) is None
    assert read_record(b"") is None
    assert read_record(add_text_chunks(png, {"parameters": "  \n "})) is None


# ---------------------------------------------------------------- splicing


def traced(fn: Any, *args: Any, tries: int = 3) -> tuple[Any, int]:
    """`fn(*args)` and the bytes allocated at the most while it ran: a clock-free measure of the work.

    tracemalloc counts every thread, and apps that other tests' fixtures keep running
    allocate now and then: the least peak of a few runs is the function's own."""
    peaks = []
    for _ in range(tries):
        tracemalloc.start()
        try:
            result = fn(*args)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    return result, min(peaks)


def idat_bytes(png: bytes) -> bytes:
    return b"".join(data for ctype, data, _ in chunks_of(png) if ctype == b"IDAT")


@pytest.mark.parametrize("prompt", ["latin-1 only, café", "中文提示词，带逗号：冒号 🐱"])
def test_splice_keeps_pixels_and_is_readable(png: bytes, prompt: str) -> None:
    record = make_record(prompt=prompt)
    out = embed_record(png, record)
    # (1) image data bytes identical; everything but the new chunks identical
    assert idat_bytes(out) == idat_bytes(png)
    assert [c for c in chunks_of(out) if c[0] not in (b"tEXt", b"iTXt")] == chunks_of(png)
    # (2) same pixels
    assert Image.open(io.BytesIO(out)).tobytes() == Image.open(io.BytesIO(png)).tobytes()
    # (3) Pillow reads both chunks back; CRCs valid for Pillow and for us
    assert pillow_text(out) == text_chunks(record)
    assert all(ok for _, _, ok in chunks_of(out))
    # text chunks go right after IHDR: tEXt for Latin-1, iTXt otherwise
    expected = b"iTXt" if "中" in prompt else b"tEXt"
    assert [c[0] for c in chunks_of(out)][:3] == [b"IHDR", expected, expected]


def test_splice_twice_does_not_duplicate(png: bytes) -> None:
    once = embed_record(png, make_record(prompt="first"))
    twice = embed_record(once, make_record(prompt="中文 second"))
    text = [c for c in chunks_of(twice) if c[0] in (b"tEXt", b"iTXt", b"zTXt")]
    assert len(text) == 2
    assert read_record(twice)["prompt"] == "中文 second"  # type: ignore[index]
    assert embed_record(once, make_record(prompt="first")) == once


def test_splice_replaces_same_keyword_anywhere_and_keeps_others(png: bytes) -> None:
    old = chunk(b"zTXt", b"parameters\0\0" + zlib.compress(b"old"))
    after_idat = old + chunk(b"tEXt", b"Software\0x")
    src = insert_before_iend(png, after_idat)
    out = add_text_chunks(src, {"parameters": "new"})
    assert read_text_chunks(out) == {"parameters": "new", "Software": "x"}
    assert idat_bytes(out) == idat_bytes(png)


def test_pillow_written_text_is_replaced() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "old")
    info.add_itxt("generation", "old", zip=True)
    src = encode(Image.new("RGB", (4, 4)), "PNG", pnginfo=info)
    out = embed_record(src, make_record())
    assert pillow_text(out) == text_chunks(make_record())


@pytest.mark.parametrize("bad", [b"", b"GIF89a" + b"\0" * 40, md.PNG_SIGNATURE, b"<html></html>"])
def test_splice_rejects_non_png(bad: bytes) -> None:
    with pytest.raises(NotPNGError):
        add_text_chunks(bad, {"a": "b"})


def test_splice_rejects_png_without_leading_ihdr(png: bytes) -> None:
    broken = png[:8] + chunk(b"tEXt", b"a\0b") + png[8:]
    with pytest.raises(NotPNGError):
        add_text_chunks(broken, {"a": "b"})
    assert issubclass(NotPNGError, ValueError)


@pytest.mark.parametrize("keyword", ["", "k" * 80, "中文", "bad\0nul", "new\nline"])
def test_splice_rejects_bad_keyword(png: bytes, keyword: str) -> None:
    with pytest.raises(ValueError):
        add_text_chunks(png, {keyword: "x"})


def test_splice_accepts_79_char_latin1_keyword(png: bytes) -> None:
    keyword = "é" + "k" * 78
    assert read_text_chunks(add_text_chunks(png, {keyword: "v"})) == {keyword: "v"}


def test_splice_never_decodes_the_pixels_and_copies_them_once() -> None:
    """The image data is 3 MB of noise no decoder accepts: the splice still works, so it
    never decodes; its peak memory is about one copy of the file, so it joins once."""
    big = noise_png(8, 8)[:33] + chunk(b"IDAT", random.Random(1).randbytes(3_000_000)) + chunk(b"IEND", b"")
    out, peak = traced(embed_record, big, make_record(prompt="p" * 2000))
    assert idat_bytes(out) == idat_bytes(big) and peak < 1.5 * len(big)


# ---------------------------------------------------------------- reading chunks


def test_read_text_chunks_all_kinds(png: bytes) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("plain", "latin café")
    info.add_text("zipped", "z" * 1000, zip=True)
    info.add_itxt("intl", "中文 🐱")
    info.add_itxt("intlz", "压缩 " * 100, zip=True)
    src = encode(Image.new("RGB", (4, 4)), "PNG", pnginfo=info)
    assert read_text_chunks(src) == {
        "plain": "latin café",
        "zipped": "z" * 1000,
        "intl": "中文 🐱",
        "intlz": "压缩 " * 100,
    }


def test_read_text_chunks_after_idat(png: bytes) -> None:
    src = insert_before_iend(png, chunk(b"tEXt", b"late\0value"))
    assert read_text_chunks(src) == {"late": "value"}


def test_read_text_chunks_skips_bad_crc(png: bytes) -> None:
    good = chunk(b"tEXt", b"good\0yes")
    bad = bytearray(chunk(b"tEXt", b"bad\0no"))
    bad[-1] ^= 0xFF
    src = insert_before_iend(png, good + bytes(bad))
    assert read_text_chunks(src) == {"good": "yes"}


def test_read_text_chunks_ignores_decompression_bomb(png: bytes) -> None:
    """100 MB of zeros in about 0.4 MB: refused after the 8 MB a text may have, never inflated
    whole (the peak memory of the read says so, without a clock)."""
    squeeze = zlib.compressobj(1)
    bomb = b"".join(squeeze.compress(bytes(1 << 20)) for _ in range(100)) + squeeze.flush()
    bombs = chunk(b"zTXt", b"bomb\0\0" + bomb) + chunk(b"iTXt", b"bomb2\0\1\0\0\0" + bomb)
    found, peak = traced(read_text_chunks, insert_before_iend(png, bombs))
    assert found == {} and peak < 4 * md._MAX_TEXT_BYTES


def test_read_text_chunks_truncated_returns_prefix(png: bytes) -> None:
    src = add_text_chunks(png, {"a": "1", "b": "2"})
    cut = src[: len(src) // 2]
    assert read_text_chunks(cut) == {"a": "1", "b": "2"}
    # cut inside the second text chunk: only the first survives
    second = src.index(b"b\x002")
    assert read_text_chunks(src[: second + 1]) == {"a": "1"}


def test_read_text_chunks_not_png() -> None:
    assert read_text_chunks(b"") == {}
    assert read_text_chunks(b"GIF89a....") == {}
    assert read_text_chunks("not bytes") == {}  # type: ignore[arg-type]


def test_read_text_chunks_many_tiny_chunks_is_linear(png: bytes) -> None:
    """25,000 chunks walked in place: the peak memory is far below one copy of the rest of the
    file, which a walker that re-slices the remainder per chunk (quadratic) would need."""
    filler = chunk(b"teSt", b"") * 25_000  # 300 kB of empty ancillary chunks
    src = insert_before_iend(png, filler + chunk(b"tEXt", b"end\0ok"))
    found, peak = traced(read_text_chunks, src)
    assert found == {"end": "ok"} and peak < len(src) // 4


@st.composite
def mangled_pngs(draw: st.DrawFn) -> bytes:
    chunks = {"parameters": A1111_TEXT, "generation": "{}"}
    base = bytearray(add_text_chunks(noise_png(8, 8), chunks))
    for _ in range(draw(st.integers(0, 5))):
        base[draw(st.integers(0, len(base) - 1))] = draw(st.integers(0, 255))
    return bytes(base[: draw(st.integers(0, len(base)))])


@QUICK
@given(st.binary() | st.binary().map(lambda b: md.PNG_SIGNATURE + b) | mangled_pngs())
def test_readers_never_raise(data: bytes) -> None:
    assert isinstance(read_text_chunks(data), dict)
    record = read_record(data)
    assert record is None or isinstance(record, dict)
    assert sniff_image_type(data) in (None, "png", "jpeg", "webp", "gif")


# ---------------------------------------------------------------- image types


@pytest.fixture(scope="module")
def samples() -> dict[str, bytes]:
    img = Image.frombytes("RGB", (40, 30), random.Random(1).randbytes(40 * 30 * 3))
    return {
        "png": encode(img, "PNG"),
        "jpeg": encode(img, "JPEG", quality=90),
        "webp": encode(img, "WEBP"),
        "gif": encode(img.convert("P"), "GIF"),
    }


def test_sniff_image_type(samples: dict[str, bytes]) -> None:
    for kind, data in samples.items():
        assert sniff_image_type(data) == kind
    assert sniff_image_type(b"GIF87a") == "gif"
    assert sniff_image_type(b"<!DOCTYPE html>") is None
    assert sniff_image_type(b"RIFF\0\0\0\0WAVE") is None
    assert sniff_image_type(b"") is None


def test_to_png_returns_png_unchanged(samples: dict[str, bytes]) -> None:
    assert to_png(samples["png"]) is samples["png"]


@pytest.mark.parametrize("kind", ["jpeg", "webp", "gif"])
def test_to_png_converts(samples: dict[str, bytes], kind: str) -> None:
    out = to_png(samples[kind])
    assert out.startswith(md.PNG_SIGNATURE)
    img = Image.open(io.BytesIO(out))
    assert img.format == "PNG" and img.size == (40, 30)
    img.load()
    assert read_record(embed_record(out, make_record())) == make_record()


def test_to_png_keeps_icc_profile_and_handles_cmyk() -> None:
    icc = b"fake icc profile bytes"
    rgb = encode(Image.new("RGB", (8, 8), "red"), "JPEG", icc_profile=icc)
    assert Image.open(io.BytesIO(to_png(rgb))).info.get("icc_profile") == icc
    cmyk = encode(Image.new("CMYK", (8, 8)), "JPEG")
    assert Image.open(io.BytesIO(to_png(cmyk))).mode == "RGB"


def test_to_png_applies_exif_orientation() -> None:
    img = Image.new("RGB", (20, 10))
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90° on display
    out = to_png(encode(img, "JPEG", exif=exif))
    assert Image.open(io.BytesIO(out)).size == (10, 20)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not an image at all",
        b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>",
        b"\xff\xd8\xff\xe0garbage-jpeg",
        b"RIFF\0\0\0\0WEBPgarbage",
        b"GIF89a\0\0",
        md.PNG_SIGNATURE + b"garbage",
    ],
    ids=["empty", "text", "html", "jpeg-magic", "webp-magic", "gif-magic", "png-magic"],
)
def test_to_png_rejects_garbage(data: bytes) -> None:
    with pytest.raises(BadImageError):
        to_png(data)


@pytest.mark.parametrize("kind", ["png", "jpeg", "webp"])
def test_to_png_rejects_truncated(samples: dict[str, bytes], kind: str) -> None:
    with pytest.raises(BadImageError):
        to_png(samples[kind][: len(samples[kind]) // 2])


def test_to_png_rejects_png_without_idat() -> None:
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
    with pytest.raises(BadImageError):
        to_png(md.PNG_SIGNATURE + ihdr + chunk(b"IEND", b""))


def bomb_png(width: int = 30000, height: int = 30000) -> bytes:
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    idat = chunk(b"IDAT", zlib.compress(b"\0" * 1000))
    return md.PNG_SIGNATURE + ihdr + idat + chunk(b"IEND", b"")


def test_to_png_refuses_png_bomb_before_decoding() -> None:
    tracemalloc.start()
    try:
        with pytest.raises(BadImageError, match="pixels"):
            to_png(bomb_png())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20  # decoding 30000x30000 would take 2.7 GB
    small = bomb_png(100, 100)
    assert to_png(small) is small  # structure only: pixels are not decoded


def test_to_png_refuses_large_jpeg_before_decoding(samples: dict[str, bytes]) -> None:
    with pytest.raises(BadImageError, match="pixels"):
        to_png(samples["jpeg"], max_pixels=40 * 30 - 1)
    assert to_png(samples["jpeg"], max_pixels=40 * 30).startswith(md.PNG_SIGNATURE)


def test_errors_are_value_errors() -> None:
    assert issubclass(BadImageError, ValueError) and issubclass(NotPNGError, ValueError)
