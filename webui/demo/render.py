"""The demo's pictures: a deterministic landscape drawn from (prompt, model, size, seed).

Same request, same pixels, so tests and screenshots repeat; different prompts and seeds
look different, so a person trying the app sees their input matter. Tens of ms a picture.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import math
import os
import random
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

from ..service import GenerationParams

CJK_FONT_PATH = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
FALLBACK_FONT_PATH = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def parse_size(size: str) -> tuple[int, int]:
    """``"768x512"`` → ``(768, 512)``."""
    width, _, height = size.partition("x")
    return int(width), int(height)


def _digest(params: GenerationParams) -> bytes:
    fields = (params.prompt, params.model, params.image_size, str(params.seed), str(params.prompt_enhancement))
    return hashlib.sha256("\x00".join(fields).encode("utf-8")).digest()


def inference_ms(params: GenerationParams) -> int:
    """Plausible, deterministic 'inference' time so timings look real but repeat."""
    return 300 + int.from_bytes(_digest(params)[:4], "big") % 1701


def _hls(h: float, lightness: float, saturation: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hls_to_rgb(h % 1.0, min(max(lightness, 0.0), 1.0), min(max(saturation, 0.0), 1.0))
    return round(r * 255), round(g * 255), round(b * 255)


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))  # type: ignore[return-value]


@dataclass(frozen=True)
class _Palette:
    top: tuple[int, int, int]
    mid: tuple[int, int, int]
    horizon: tuple[int, int, int]
    sun: tuple[int, int, int]
    land: tuple[int, int, int]
    night: bool


def _palette(rng: random.Random) -> _Palette:
    """Pick a coherent time-of-day palette; the hue comes from the hash."""
    hue = rng.random()
    mood = rng.choice(("day", "sunset", "dusk", "night"))
    if mood == "day":
        top, mid, horizon = _hls(hue, 0.35, 0.6), _hls(hue + 0.03, 0.55, 0.55), _hls(hue + 0.08, 0.82, 0.5)
        sun = _hls(0.14, 0.9, 1.0)
    elif mood == "sunset":
        top, mid, horizon = _hls(hue, 0.25, 0.5), _hls(hue + 0.45, 0.5, 0.7), _hls(0.08 + hue * 0.05, 0.65, 0.95)
        sun = _hls(0.1, 0.75, 1.0)
    elif mood == "dusk":
        top, mid, horizon = _hls(hue, 0.15, 0.45), _hls(hue + 0.2, 0.35, 0.5), _hls(hue + 0.5, 0.6, 0.6)
        sun = _hls(hue + 0.5, 0.85, 0.9)
    else:
        top, mid, horizon = _hls(hue, 0.05, 0.5), _hls(hue, 0.13, 0.55), _hls(hue + 0.05, 0.3, 0.45)
        sun = _hls(0.15, 0.92, 0.4)
    land = _hls(hue + rng.uniform(0.25, 0.75), 0.2, 0.35)
    return _Palette(top, mid, horizon, sun, land, mood == "night")


def _sky(size: tuple[int, int], pal: _Palette) -> Image.Image:
    """Three-colour vertical gradient; resize of a 256-step ramp is C-fast."""
    ramp = Image.linear_gradient("L").resize(size, Image.Resampling.BILINEAR)
    return ImageOps.colorize(ramp, black=pal.top, white=pal.horizon, mid=pal.mid)


def _halo_alpha(v: int) -> int:
    """radial_gradient is 0 at the centre and 181 at the edge midpoints: fade to exactly 0 there."""
    return round(255 * 0.85 * max(0.0, 1 - v / 181) ** 2.2)


def _glow(img: Image.Image, centre: tuple[float, float], radius: float, colour: tuple[int, int, int]) -> None:
    """Composite a soft radial halo around the sun/moon."""
    span = max(int(radius * 6), 4)
    mask = Image.radial_gradient("L").point(_halo_alpha).resize((span, span), Image.Resampling.BILINEAR)
    box = (int(centre[0] - span / 2), int(centre[1] - span / 2))
    img.paste(Image.new("RGB", (span, span), colour), box, mask)


def _sun(img: Image.Image, rng: random.Random, pal: _Palette, horizon_y: int) -> None:
    """Sun disk with a halo; at night a crescent moon (a disk minus an offset disk)."""
    w, _ = img.size
    r = rng.uniform(0.05, 0.1) * min(w, horizon_y * 2)
    cx, cy = rng.uniform(0.15, 0.85) * w, rng.uniform(0.25, 0.7) * horizon_y
    _glow(img, (cx, cy), r, pal.sun)
    disk = Image.new("L", img.size, 0)
    draw = ImageDraw.Draw(disk)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=255)
    if pal.night:
        off = r * 0.45
        draw.ellipse((cx - r + off, cy - r - off * 0.4, cx + r + off, cy + r - off * 0.4), fill=0)
    img.paste(_mix(pal.sun, (255, 255, 255), 0.4), (0, 0, *img.size), disk)


def _sprinkles(img: Image.Image, rng: random.Random, pal: _Palette, horizon_y: int, count: int) -> None:
    """Stars at night, birds by day; how many comes from the seed."""
    draw = ImageDraw.Draw(img)
    w, _ = img.size
    unit = max(w / 512, 0.5)
    if pal.night:
        for _ in range(count * 12):
            x, y, s = rng.uniform(0, w), rng.uniform(0, horizon_y * 0.8), rng.uniform(0.6, 1.8) * unit
            draw.ellipse((x - s, y - s, x + s, y + s), fill=_mix(pal.sun, (255, 255, 255), rng.random()))
        return
    for _ in range(count):
        x, y, s = rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.6) * horizon_y, rng.uniform(4, 10) * unit
        line = [(x - s, y - s * 0.4), (x - s * 0.4, y - s * 0.1), (x, y + s * 0.1),
                (x + s * 0.4, y - s * 0.1), (x + s, y - s * 0.4)]
        draw.line(line, fill=_mix(pal.land, (0, 0, 0), 0.5), width=max(1, round(1.5 * unit)), joint="curve")


def _ridge(rng: random.Random, w: int, base: float, amp: float, steps: int) -> list[tuple[float, float]]:
    """A mountain ridge line: a few random sines plus jitter."""
    waves = [(rng.uniform(0.5, 4.0), rng.uniform(0, math.tau), rng.uniform(0.3, 1.0)) for _ in range(3)]
    total = sum(a for _, _, a in waves)
    points = []
    for i in range(steps + 1):
        t = i / steps
        v = sum(a * math.sin(f * math.tau * t + p) for f, p, a in waves) / total
        points.append((t * w, base - amp * (v + rng.uniform(-0.08, 0.08))))
    return points


def _mist(img: Image.Image, bottom: float, height: float, colour: tuple[int, int, int]) -> None:
    """A band of haze ending at ``bottom``: separates mountain layers, breaks up flat areas.

    Its opacity rises and falls (a sine profile), so the band has no hard edge.
    """
    w, _ = img.size
    band_h = max(int(height), 2)
    mask = Image.linear_gradient("L").point(lambda v: round(140 * math.sin(math.pi * v / 255)))
    mask = mask.resize((w, band_h), Image.Resampling.BILINEAR)
    img.paste(Image.new("RGB", (w, band_h), colour), (0, int(bottom) - band_h), mask)


def _mountains(img: Image.Image, rng: random.Random, pal: _Palette, horizon_y: int, layers: int) -> None:
    """Back-to-front polygons, darker and nearer each time (aerial perspective)."""
    w, h = img.size
    for i in range(layers):
        t = (i + 1) / layers
        colour = _mix(pal.horizon, _mix(pal.land, (0, 0, 0), 0.35 * t), 0.35 + 0.6 * t)
        base = horizon_y - (layers - i - 1) * horizon_y * 0.06
        amp = horizon_y * rng.uniform(0.08, 0.22) * (1.2 - 0.4 * t)
        ridge = _ridge(rng, w, base, amp, 24 + 16 * i)
        ImageDraw.Draw(img).polygon([*ridge, (w, h), (0, h)], fill=colour)
        if i < layers - 1:
            _mist(img, base + amp * 0.3, amp * 1.2, pal.horizon)


def _vignette(img: Image.Image) -> None:
    """Darker corners: cheap depth, and no large perfectly flat areas."""
    mask = Image.radial_gradient("L").point(lambda v: round(150 * max(0.0, (v - 90) / 165) ** 1.5))
    mask = mask.resize(img.size, Image.Resampling.BILINEAR)
    img.paste(Image.new("RGB", img.size, (0, 0, 0)), (0, 0), mask)


def _water(img: Image.Image, rng: random.Random, pal: _Palette, horizon_y: int) -> None:
    """Mirror the landscape below the horizon, darkened, with a few ripples."""
    w, h = img.size
    depth = h - horizon_y
    if depth <= 0:
        return
    above = img.crop((0, max(0, horizon_y - depth), w, horizon_y)).transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    above = above.resize((w, depth), Image.Resampling.BILINEAR)
    shade = Image.new("RGB", (w, depth), (10, 20, 40))
    img.paste(Image.blend(above, shade, 0.35), (0, horizon_y))
    draw = ImageDraw.Draw(img)
    ripple = _mix(pal.horizon, (255, 255, 255), 0.25)
    for _ in range(rng.randint(8, 16)):
        y = horizon_y + rng.uniform(0.03, 0.8) * depth
        x = rng.uniform(0, w)
        half = rng.uniform(0.02, 0.08) * w
        draw.line((x - half, y, x + half, y), fill=ripple, width=max(1, w // 512))


def _scene(size: tuple[int, int], rng: random.Random, seed: int) -> Image.Image:
    """Sky, sun/moon, sprinkles, mountains, maybe a lake, drawn at ``size``."""
    w, h = size
    pal = _palette(rng)
    lake = rng.random() < 0.45
    horizon_y = int(h * (rng.uniform(0.55, 0.7) if lake else rng.uniform(0.62, 0.8)))
    img = _sky((w, h), pal)
    _sun(img, rng, pal, horizon_y)
    _sprinkles(img, rng, pal, horizon_y, 3 + seed % 7)
    _mountains(img, rng, pal, horizon_y, rng.randint(3, 4) - (1 if lake else 0))
    if lake:
        _water(img, rng, pal, horizon_y)
    _vignette(img)
    return img


def _is_soft(model: str, digest: bytes) -> bool:
    """SD-like models get dreamy, blurred output; FLUX-like stay crisp."""
    name = model.lower()
    if "flux" in name:
        return False
    if "diffusion" in name or name.startswith("sd"):
        return True
    return bool(digest[-1] & 1)


def _font(size: int, text: str) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, str]:
    """The built-in font covers Latin only; other scripts need a CJK/DejaVu font or get '?'."""
    try:
        text.encode("latin-1")
        return ImageFont.load_default(size=size), text
    except UnicodeEncodeError:
        pass
    for path in (CJK_FONT_PATH, FALLBACK_FONT_PATH):
        if os.path.exists(path):
            try:
                return ImageFont.truetype(path, size), text
            except OSError:
                continue
    return ImageFont.load_default(size=size), text.encode("ascii", "replace").decode("ascii")


def _fit(text: str, font: Any, max_width: float) -> str:
    """Shorten with an ellipsis until it fits (binary search: fonts are not monospace)."""
    if font.getlength(text) <= max_width:
        return text
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if font.getlength(text[:mid].rstrip() + "…") <= max_width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + "…"


def _caption(img: Image.Image, prompt: str, model: str, seed: int) -> None:
    """Darkened band at the bottom: the prompt, then 'DEMO · model · seed n'."""
    w, h = img.size
    big = max(12, w // 46)
    small = max(10, round(big * 0.72))
    pad = max(6, big // 2)
    band_h = big + small + pad * 3
    band_box = (0, h - band_h, w, h)
    band = img.crop(band_box)
    img.paste(Image.blend(band, Image.new("RGB", band.size, (0, 0, 0)), 0.6), band_box[:2])
    draw = ImageDraw.Draw(img)
    text = " ".join(prompt.split())[:80]
    font, text = _font(big, text)
    draw.text((pad, h - band_h + pad), _fit(text, font, w - 2 * pad), font=font, fill=(245, 245, 245))
    meta_font, meta = _font(small, f"DEMO · {model} · seed {seed}")
    draw.text((pad, h - pad - small), _fit(meta, meta_font, w - 2 * pad), font=meta_font, fill=(200, 200, 200))


def render(params: GenerationParams) -> Image.Image:
    """Deterministic placeholder picture: same params → same pixels (the seed must be set).

    Soft models draw at a quarter of the size, blur and upscale (cheap and
    dreamy); crisp ones draw at full size. Either way the result is exactly
    ``image_size`` and renders in tens of milliseconds.
    """
    if params.seed is None:
        raise ValueError("render() needs a seed; the server picks one for requests without")
    seed, model = params.seed, params.model
    digest = _digest(params)
    rng = random.Random(digest)
    w, h = parse_size(params.image_size)
    if _is_soft(model, digest):
        small = _scene((max(w // 4, 16), max(h // 4, 16)), rng, seed)
        img = small.filter(ImageFilter.GaussianBlur(1.1)).resize((w, h), Image.Resampling.BICUBIC)
    else:
        img = _scene((w, h), rng, seed)
    if params.prompt_enhancement:  # a touch more contrast, so the flag is visible
        img = ImageOps.autocontrast(img, cutoff=1)
    _caption(img, params.prompt, model, seed)
    return img


def encode(img: Image.Image, fmt: str, png_compress_level: int = 1) -> bytes:
    """Encode to PNG/JPEG/WEBP bytes; PNG uses a fast compress level for benchmarks."""
    buf = io.BytesIO()
    if fmt == "PNG":
        img.save(buf, "PNG", compress_level=png_compress_level)
    elif fmt == "JPEG":
        img.save(buf, "JPEG", quality=88)
    else:
        img.save(buf, "WEBP", quality=85, method=0)
    return buf.getvalue()
