"""Offline stand-in for the hosted image API: a real HTTP server on loopback.

Why a real server and not a mock: the app, the test suite and the benchmarks all
exercise the same HTTP client code path (auth header, JSON parsing, the
``\\u0026``-escaped image URL, downloading the image) with no key and no internet.
Fault knobs (``POST /_demo/faults``) reproduce the misbehaviour the real API and
its image CDN can show, so clients can be tested against it deterministically.

Routes:
  ``POST /v1/images/generations``   the API (validation mirrors the real one)
  ``GET  /files/<token>.png?expires=..&sig=..``   signed, expiring image URLs
  ``POST /_demo/faults`` / ``POST /_demo/reset`` / ``GET /_demo/stats``   control
"""

from __future__ import annotations

import argparse
import colorsys
import hashlib
import hmac
import io
import json
import logging
import math
import os
import random
import secrets
import socket
import struct
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

# The contract's facts live with the client that speaks it; re-exported for tests.
from .service import IMAGE_SIZES, KNOWN_MODELS, MAX_SEED

logger = logging.getLogger(__name__)

DEFAULT_IMAGE_SIZE = IMAGE_SIZES[0]
URL_TTL_SECONDS = 3600
MAX_TOKENS = 5000
RENDER_CACHE_ENTRIES = 32
MAX_REQUEST_BYTES = 1 << 20
HUGE_BODY_BYTES = 60 * 1024 * 1024
BOMB_DIMENSION = 30_000
DEFAULT_IMAGE_DELAY = 5.0
CJK_FONT_PATH = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
FALLBACK_FONT_PATH = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
# What the real API leaves in the URL even after JSON decoding (six characters).
ESCAPED_AMPERSAND = "\\u0026"

BODY_FAULTS = frozenset({"not_json", "no_images", "empty_images", "no_url"})
IMAGE_FAULTS = frozenset({"expired", "missing", "truncated", "html", "jpeg", "webp", "huge", "bomb", "slow"})
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
    500: "server_error",
    503: "service_unavailable",
    504: "timeout_error",
}


# --------------------------------------------------------------------------- knobs


def _is_int(value: Any) -> bool:
    """JSON integers only: ``True`` is an int in Python but not in JSON."""
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and value >= 0)


# Knob name → (validator, description for the 400 message).
KNOB_RULES: dict[str, tuple[Any, str]] = {
    "status": (lambda v: _is_int(v) and 100 <= v <= 599, "an HTTP status code"),
    "count": (lambda v: _is_int(v) and v >= 1, "a positive integer"),
    "retry_after": (lambda v: isinstance(v, str) or _is_int(v), "a string or an integer"),
    "delay": (_is_number, "a non-negative number of seconds"),
    "hang": (_is_number, "a non-negative number of seconds"),
    "body": (lambda v: v in BODY_FAULTS, f"one of {sorted(BODY_FAULTS)}"),
    "image": (lambda v: v in IMAGE_FAULTS, f"one of {sorted(IMAGE_FAULTS)}"),
    "image_delay": (_is_number, "a non-negative number of seconds"),
    "escape_ampersand": (lambda v: isinstance(v, bool), "a boolean"),
    "content_type": (lambda v: isinstance(v, str) and v.strip() != "", "a non-empty string"),
    # An injected error's message quotes the request's Authorization header, as careless proxies do.
    "echo_auth": (lambda v: isinstance(v, bool), "a boolean"),
}


def validate_knobs(knobs: Any) -> str | None:
    """Return an error message for a bad knob update, or None when it is fine.

    Unknown knob names are rejected so a typo in a test fails loudly instead of
    silently testing nothing. ``null`` removes a knob.
    """
    if not isinstance(knobs, dict):
        return "faults must be a JSON object"
    for name, value in knobs.items():
        if name not in KNOB_RULES:
            return f"unknown knob {name!r}; known: {sorted(KNOB_RULES)}"
        check, wanted = KNOB_RULES[name]
        if value is not None and not check(value):
            return f"knob {name!r} must be {wanted}"
    return None


# --------------------------------------------------------------------------- request validation


@dataclass(frozen=True)
class GenParams:
    """Everything the picture depends on; also the render-cache key."""

    prompt: str
    model: str
    size: str
    seed: int
    enhancement: bool


class ApiError(Exception):
    """An error answer in the API's shape."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def validate_generation(body: Any, models: Iterable[str]) -> tuple[str, str, str, bool, int | None]:
    """Check a request body like the real API: 400 for bad fields, 404 for unknown models.

    Returns (prompt, model, image_size, prompt_enhancement, seed or None).
    """
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise ApiError(400, "'model' is required and must be a non-empty string")
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ApiError(400, "'prompt' is required and must be a non-empty string")
    size = body.get("image_size", DEFAULT_IMAGE_SIZE)
    if size not in IMAGE_SIZES:
        raise ApiError(400, f"'image_size' must be one of {', '.join(IMAGE_SIZES)}")
    enhancement = body.get("prompt_enhancement", False)
    if not isinstance(enhancement, bool):
        raise ApiError(400, "'prompt_enhancement' must be a boolean")
    seed = body.get("seed")
    if seed is not None and not (_is_int(seed) and 0 <= seed <= MAX_SEED):
        raise ApiError(400, f"'seed' must be an integer between 0 and {MAX_SEED}")
    if model not in models:
        raise ApiError(404, f"model {model!r} does not exist")
    return prompt, model, size, enhancement, seed


def error_body(status: int, message: str) -> dict[str, Any]:
    """OpenAI-like error envelope, which is what clients will parse."""
    return {"error": {"message": message, "type": ERROR_TYPES.get(status, "api_error"), "code": status}}


# --------------------------------------------------------------------------- rendering


def parse_size(size: str) -> tuple[int, int]:
    """``"768x512"`` → ``(768, 512)``."""
    width, _, height = size.partition("x")
    return int(width), int(height)


def _digest(params: GenParams) -> bytes:
    key = "\x00".join([params.prompt, params.model, params.size, str(params.seed), str(params.enhancement)])
    return hashlib.sha256(key.encode("utf-8")).digest()


def inference_ms(params: GenParams) -> int:
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


def render(prompt: str, model: str, size: str, seed: int, enhancement: bool = False) -> Image.Image:
    """Deterministic placeholder picture: same inputs → same pixels.

    Soft models draw at a quarter of the size, blur and upscale (cheap and
    dreamy); crisp ones draw at full size. Either way the result is exactly
    ``size`` and renders in tens of milliseconds.
    """
    params = GenParams(prompt, model, size, seed, enhancement)
    digest = _digest(params)
    rng = random.Random(digest)
    w, h = parse_size(size)
    if _is_soft(model, digest):
        small = _scene((max(w // 4, 16), max(h // 4, 16)), rng, seed)
        img = small.filter(ImageFilter.GaussianBlur(1.1)).resize((w, h), Image.Resampling.BICUBIC)
    else:
        img = _scene((w, h), rng, seed)
    if enhancement:  # a touch more contrast, so the flag is visible
        img = ImageOps.autocontrast(img, cutoff=1)
    _caption(img, prompt, model, seed)
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


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(width: int = BOMB_DIMENSION, height: int = BOMB_DIMENSION) -> bytes:
    """A tiny PNG whose IHDR claims ``width``x``height`` (8-bit grey).

    The IDAT holds only one row of zeros; it is the declared size that must make a
    careful client refuse (Pillow raises DecompressionBombError on open).
    """
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (width + 1), 9)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def huge_chunks(total: int = HUGE_BODY_BYTES, chunk: int = 64 * 1024) -> Iterator[bytes]:
    """PNG-looking bytes generated on the fly so 60 MB never sits in memory."""
    head = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 8000, 8000, 8, 2, 0, 0, 0))
    yield head
    filler = bytes(chunk)
    sent = len(head)
    while sent < total:
        piece = filler[: min(chunk, total - sent)]
        sent += len(piece)
        yield piece


EXPIRED_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    b"<Message>Request has expired</Message></Error>\n"
)
DENIED_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code>'
    b"<Message>The request signature we calculated does not match the signature you provided."
    b"</Message></Error>\n"
)
MISSING_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code>'
    b"<Message>The specified key does not exist.</Message></Error>\n"
)
HTML_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>"
    b"<h1>Please sign in</h1><p>This content is protected.</p></body></html>\n"
)
NOT_JSON_PAGE = b"<html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>\n"


# --------------------------------------------------------------------------- server


class _Server(ThreadingHTTPServer):
    """Daemon request threads, and a record of open sockets so stop() can cut keep-alives."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the default backlog of 5 drops connections in a burst

    def __init__(self, address: tuple[str, int], backend: DemoBackend) -> None:
        self.backend = backend
        self._open: set[Any] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up mid-request are normal here; keep stderr quiet."""
        logger.debug("demo backend: connection error from %s", client_address, exc_info=True)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_open_connections(self) -> None:
        """Unblock handler threads parked on idle keep-alive sockets."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    """Thin HTTP layer; all behaviour lives on the DemoBackend instance."""

    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, so benchmarks measure the app and not TCP setup
    server_version = "DemoImageAPI/1.0"
    timeout = 30  # idle keep-alive connections give up eventually
    # Headers and body go out in two writes; with Nagle on, the second waits for a
    # delayed ACK and every keep-alive request costs ~40 ms.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        # The request line and status only: headers (and so the key) are never logged.
        logger.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        try:
            self.server.backend._route(self, method)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away; nothing to answer
        except Exception:  # pragma: no cover - last resort so a bug is a 500, not a hang
            logger.exception("demo backend: unhandled error for %s %s", method, urlsplit(self.path).path)
            self.close_connection = True
            try:
                self.send_json(500, error_body(500, "internal error in demo backend"))
            except OSError:
                pass

    # -- small response helpers -------------------------------------------------

    def read_body(self) -> bytes | None:
        """The request body, or None if it is too large (the connection is then closed)."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if length > MAX_REQUEST_BYTES:
            self.close_connection = True
            return None
        return self.rfile.read(length) if length > 0 else b""

    def send_bytes(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_bytes(status, body, "application/json; charset=utf-8", headers)


class DemoBackend:
    """The offline image API. ``with DemoBackend() as api: ...`` then use ``api.base_url``.

    All state (knobs, counters, tokens, render cache) lives on the instance so several
    backends can run side by side in one process (tests, benchmarks).
    """

    def __init__(self, api_key: str | None = None, host: str = "127.0.0.1", port: int = 0,
                 models: Iterable[str] = KNOWN_MODELS, png_compress_level: int = 1) -> None:
        self.api_key = api_key
        self.host = host
        self.port = port
        self.models: tuple[str, ...] = tuple(models)
        self.png_compress_level = png_compress_level
        self._secret = secrets.token_bytes(32)
        self._sysrand = random.SystemRandom()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._knobs: dict[str, Any] = {}
        self._tokens: OrderedDict[str, GenParams] = OrderedDict()
        self._cache: OrderedDict[tuple[GenParams, str], bytes] = OrderedDict()
        self._in_flight = 0
        self._reset_counters()

    # -- lifecycle --------------------------------------------------------------

    def start(self) -> DemoBackend:
        """Bind (port 0 → a free port) and serve on a daemon thread."""
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server((self.host, self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"demo-backend-{self.port}", daemon=True)
        self._thread.start()
        logger.info("demo backend serving at %s", self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving; sleeping handlers are woken so this returns promptly. Idempotent."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.close_open_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> DemoBackend:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def _origin(self) -> str:
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What the app uses as its API base."""
        return f"{self._origin}/v1"

    @property
    def control_url(self) -> str:
        return f"{self._origin}/_demo"

    # -- control wrappers (real HTTP, same as a test or benchmark would do) -----

    def _control(self, method: str, route: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        req = urllib.request.Request(f"{self.control_url}/{route}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        # No proxies: an HTTP(S)_PROXY in the environment must not capture loopback calls.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(req, timeout=10) as resp:
                return json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            raise ValueError(f"demo control {route} failed: {exc.code} {detail}") from None

    def set_faults(self, **faults: Any) -> None:
        """Merge knobs (see KNOB_RULES); ``None`` removes one."""
        self._control("POST", "faults", faults)

    def reset(self) -> None:
        self._control("POST", "reset", {})

    def stats(self) -> dict:
        return self._control("GET", "stats")

    # -- state ------------------------------------------------------------------

    def _reset_counters(self) -> None:
        """Counters go to zero; in_flight is live state, so max restarts from it."""
        self._generation_requests = 0
        self._image_requests = 0
        self._max_in_flight = self._in_flight
        self._last_request: Any = None
        self._last_auth_present = False

    def _knob(self, name: str, default: Any = None) -> Any:
        with self._lock:
            return self._knobs.get(name, default)

    def _take_response_fault(self) -> tuple[int | None, str | None, Any]:
        """(status, body fault, retry_after) for this request, spending one ``count``."""
        with self._lock:
            status, body = self._knobs.get("status"), self._knobs.get("body")
            retry_after = self._knobs.get("retry_after")
            if (status is not None or body is not None) and "count" in self._knobs:
                self._knobs["count"] -= 1
                if self._knobs["count"] <= 0:
                    for name in ("status", "body", "count", "retry_after"):
                        self._knobs.pop(name, None)
            return status, body, retry_after

    def _sleep(self, seconds: float) -> None:
        """Interruptible by stop(), so a 'hang' never holds up shutdown."""
        if seconds > 0:
            self._stopping.wait(seconds)

    def _remember(self, params: GenParams) -> str:
        token = secrets.token_hex(16)
        with self._lock:
            self._tokens[token] = params
            while len(self._tokens) > MAX_TOKENS:
                self._tokens.popitem(last=False)
        return token

    def _sign(self, token: str, expires: int) -> str:
        return hmac.new(self._secret, f"{token}:{expires}".encode(), hashlib.sha256).hexdigest()

    def _image_url(self, token: str) -> str:
        expires = int(time.time()) + URL_TTL_SECONDS
        url = f"{self._origin}/files/{token}.png?expires={expires}&sig={self._sign(token, expires)}"
        if self._knob("escape_ampersand", True):
            url = url.replace("&", ESCAPED_AMPERSAND)
        return url

    def _image_bytes(self, params: GenParams, fmt: str) -> bytes:
        """Render lazily, caching encoded bytes in a small LRU (benchmarks refetch a lot)."""
        key = (params, fmt)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        img = render(params.prompt, params.model, params.size, params.seed, params.enhancement)
        data = encode(img, fmt, self.png_compress_level)
        with self._lock:
            self._cache[key] = data
            while len(self._cache) > RENDER_CACHE_ENTRIES:
                self._cache.popitem(last=False)
        return data

    # -- routing ----------------------------------------------------------------

    def _route(self, h: _Handler, method: str) -> None:
        path = urlsplit(h.path).path
        if method == "POST" and path == "/v1/images/generations":
            self._handle_generation(h)
        elif method == "GET" and path.startswith("/files/") and path.endswith(".png"):
            self._handle_image(h, path[len("/files/"):-len(".png")])
        elif method == "POST" and path == "/_demo/faults":
            self._handle_faults(h)
        elif method == "POST" and path == "/_demo/reset":
            h.read_body()
            with self._lock:
                self._knobs.clear()
                self._reset_counters()
            h.send_json(200, {"ok": True})
        elif method == "GET" and path == "/_demo/stats":
            h.send_json(200, self._stats())
        else:
            if method == "POST":
                h.read_body()
            h.send_json(404, error_body(404, f"no route for {method} {path}"))

    def _stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "generation_requests": self._generation_requests,
                "image_requests": self._image_requests,
                "in_flight": self._in_flight,
                "max_in_flight": self._max_in_flight,
                "last_request": self._last_request,
                "last_headers_auth_present": self._last_auth_present,
                "faults": dict(self._knobs),
                "tokens": len(self._tokens),
            }

    def _handle_faults(self, h: _Handler) -> None:
        raw = h.read_body()
        try:
            knobs = json.loads(raw or b"{}")
        except ValueError:
            knobs = None
        problem = validate_knobs(knobs)
        if problem:
            h.send_json(400, error_body(400, problem))
            return
        with self._lock:
            for name, value in knobs.items():
                if value is None:
                    self._knobs.pop(name, None)
                else:
                    self._knobs[name] = value
            current = dict(self._knobs)
        h.send_json(200, {"faults": current})

    # -- generation -------------------------------------------------------------

    def _handle_generation(self, h: _Handler) -> None:
        raw = h.read_body()
        body = _parse_json(raw)
        with self._lock:
            self._generation_requests += 1
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
            self._last_request = body
            self._last_auth_present = bool(h.headers.get("Authorization"))
        try:
            self._sleep(float(self._knob("delay", 0)) + float(self._knob("hang", 0)))
            status, body_fault, payload, headers = self._generation_answer(h, raw, body)
            if body_fault == "not_json":
                h.send_bytes(200, NOT_JSON_PAGE, "text/html; charset=utf-8")
            else:
                h.send_json(status, payload, headers)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _generation_answer(self, h: _Handler, raw: bytes | None,
                           body: Any) -> tuple[int, str | None, Any, dict[str, str]]:
        """Decide the answer: injected status → auth → validation → body fault → success."""
        status, body_fault, retry_after = self._take_response_fault()
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        if status is not None:
            message = f"{_phrase(status)} (injected by demo backend)"
            if self._knob("echo_auth", False):
                message += f"; request had Authorization: {h.headers.get('Authorization')}"
            return status, None, error_body(status, message), headers
        if not self._authorized(h.headers.get("Authorization")):
            return 401, None, error_body(401, "authentication failed: invalid or missing API key"), {}
        if raw is None:
            return 413, None, error_body(413, "request body too large"), {}
        try:
            prompt, model, size, enhancement, seed = validate_generation(body, self.models)
        except ApiError as err:
            return err.status, None, error_body(err.status, err.message), {}
        if seed is None:
            seed = self._sysrand.randint(0, MAX_SEED)
        params = GenParams(prompt, model, size, seed, enhancement)
        url = self._image_url(self._remember(params))
        return 200, body_fault, _success_payload(url, params, body_fault), headers

    def _authorized(self, header: str | None) -> bool:
        scheme, _, token = (header or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return False
        if self.api_key is None:
            return True
        return hmac.compare_digest(token.encode(), self.api_key.encode())

    # -- images -----------------------------------------------------------------

    def _handle_image(self, h: _Handler, token: str) -> None:
        with self._lock:
            self._image_requests += 1
        fault = self._knob("image")
        if fault == "slow":
            self._sleep(float(self._knob("image_delay", DEFAULT_IMAGE_DELAY)))
        params, denial = self._verify(token, h.path)
        if params is None:
            h.send_bytes(403, denial, "application/xml")
        elif fault == "expired":
            h.send_bytes(403, EXPIRED_XML, "application/xml")
        elif fault == "missing":
            h.send_bytes(404, MISSING_XML, "application/xml")
        elif fault == "html":
            h.send_bytes(200, HTML_PAGE, self._knob("content_type", "text/html; charset=utf-8"))
        elif fault == "huge":
            self._send_huge(h)
        else:
            body, default_type = self._image_payload(params, fault)
            h.send_bytes(200, body, self._knob("content_type", default_type))

    def _verify(self, token: str, raw_path: str) -> tuple[GenParams | None, bytes]:
        """Signed-URL check like S3: bad/missing signature, expiry or unknown token → 403."""
        query = parse_qs(urlsplit(raw_path).query)
        expires, sig = (query.get("expires") or [""])[0], (query.get("sig") or [""])[0]
        if not expires.isdigit() or not hmac.compare_digest(sig.encode(), self._sign(token, int(expires)).encode()):
            return None, DENIED_XML
        if int(expires) < time.time():
            return None, EXPIRED_XML
        with self._lock:
            params = self._tokens.get(token)
        return (params, b"") if params is not None else (None, MISSING_XML)

    def _image_payload(self, params: GenParams, fault: str | None) -> tuple[bytes, str]:
        if fault == "jpeg":
            return self._image_bytes(params, "JPEG"), "image/jpeg"
        if fault == "webp":
            return self._image_bytes(params, "WEBP"), "image/webp"
        if fault == "bomb":
            return bomb_png(), "image/png"
        png = self._image_bytes(params, "PNG")
        if fault == "truncated":
            return png[: len(png) // 2], "image/png"
        return png, "image/png"

    def _send_huge(self, h: _Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", self._knob("content_type", "image/png"))
        h.send_header("Content-Length", str(HUGE_BODY_BYTES))
        h.end_headers()
        for piece in huge_chunks():
            if self._stopping.is_set():
                h.close_connection = True
                return
            h.wfile.write(piece)  # a client that stops reading raises BrokenPipe → handled


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _parse_json(raw: bytes | None) -> Any:
    """Decoded JSON body, or None when it is absent or not JSON (validation says 400)."""
    if not raw:
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def _success_payload(url: str, params: GenParams, body_fault: str | None) -> dict[str, Any]:
    """The 200 body, or one of its broken variants."""
    payload: dict[str, Any] = {"images": [{"url": url}], "timings": {"inference": inference_ms(params)},
                               "seed": params.seed}
    if body_fault == "no_images":
        del payload["images"]
    elif body_fault == "empty_images":
        payload["images"] = []
    elif body_fault == "no_url":
        payload["images"] = [{}]
    return payload


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    """Run in the foreground for manual testing: ``python -m webui.demo_backend --port 8790``."""
    parser = argparse.ArgumentParser(description="Offline stand-in for the image API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--api-key", default=None, help="require exactly this bearer token")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    backend = DemoBackend(api_key=args.api_key, host=args.host, port=args.port).start()
    print(backend.base_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        backend.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
