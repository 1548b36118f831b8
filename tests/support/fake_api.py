"""The image API as tests and benchmarks need it: the demo server plus every way to misbehave.

`FakeApi` is the app's own `webui.demo.DemoBackend` (same contract, same pictures) with
fault knobs and counters on top, so a test drives the failures the real API and its
image CDN can show, deterministically, over real HTTP:

  ``POST /_demo/faults`` (knobs, see KNOB_RULES) · ``POST /_demo/reset`` · ``GET /_demo/stats``

`set_faults`, `reset` and `stats` call those routes, as a test in another process would.
The product's demo never serves them. Run it alone with
``python -m tests.support.fake_api --port 8790`` to try a client against it.

Adding a knob: a rule in KNOB_RULES (unknown knobs are refused, so a typo fails loudly),
then its behaviour in `handle_generation` or `handle_image`, and a test in
tests/test_fake_api.py.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import struct
import threading
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any, Callable, Mapping

from webui.demo.server import (
    EXPIRED_XML,
    JSON_TYPE,
    MISSING_XML,
    DemoBackend,
    Handler,
    error_body,
    is_json_int,
    json_bytes,
    parse_json,
)
from webui.metadata import PNG_SIGNATURE
from webui.metadata import _make_chunk as png_chunk  # the one PNG chunk writer

HUGE_BODY_BYTES = 60 * 1024 * 1024
BOMB_DIMENSION = 30_000
DEFAULT_IMAGE_DELAY = 5.0

BODY_FAULTS = frozenset({"not_json", "no_images", "empty_images", "no_url"})
IMAGE_FAULTS = frozenset({"expired", "missing", "truncated", "html", "jpeg", "webp", "huge", "bomb", "slow"})

HTML_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>"
    b"<h1>Please sign in</h1><p>This content is protected.</p></body></html>\n"
)
NOT_JSON_PAGE = b"<html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>\n"


# --------------------------------------------------------------------------- knobs


def _is_number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and value >= 0)


# Knob name → (validator, description for the 400 message).
KNOB_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "status": (lambda v: is_json_int(v) and 100 <= v <= 599, "an HTTP status code"),
    "count": (lambda v: is_json_int(v) and v >= 1, "a positive integer"),
    "retry_after": (lambda v: isinstance(v, str) or is_json_int(v), "a string or an integer"),
    "delay": (_is_number, "a non-negative number of seconds"),
    "hang": (_is_number, "a non-negative number of seconds"),
    # Generation requests wait at the API until the knob is removed: a test decides when they end.
    "hold": (lambda v: v is True, "true (remove it with null to let held requests go on)"),
    # The next N generation requests are answered; the ones after wait like `hold`, until it is removed.
    "hold_after": (lambda v: is_json_int(v) and v >= 0, "a number of requests to answer first (0 or more)"),
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


# --------------------------------------------------------------------------- hostile bodies


def bomb_png(width: int = BOMB_DIMENSION, height: int = BOMB_DIMENSION) -> bytes:
    """A tiny PNG whose IHDR claims ``width``x``height`` (8-bit grey).

    The IDAT holds only one row of zeros; it is the declared size that must make a
    careful client refuse (Pillow raises DecompressionBombError on open).
    """
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (width + 1), 9)
    return PNG_SIGNATURE + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def huge_chunks(total: int = HUGE_BODY_BYTES, chunk: int = 64 * 1024) -> Iterator[bytes]:
    """PNG-looking bytes generated on the fly so 60 MB never sits in memory."""
    head = PNG_SIGNATURE + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 8000, 8000, 8, 2, 0, 0, 0))
    yield head
    filler = bytes(chunk)
    sent = len(head)
    while sent < total:
        piece = filler[: min(chunk, total - sent)]
        sent += len(piece)
        yield piece


# What the fake answers a request with: status, body, content type, headers.
Reply = tuple[int, bytes, str, Mapping[str, str]]


def _json_reply(status: int, payload: Any, headers: Mapping[str, str]) -> Reply:
    return status, json_bytes(payload), JSON_TYPE, headers


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


# --------------------------------------------------------------------------- the fake


class FakeApi(DemoBackend):
    """`DemoBackend` with fault knobs, counters and control routes; see the module docstring."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._knobs: dict[str, Any] = {}
        self._in_flight = 0
        self._hold_from = 0  # requests numbered above this wait while `hold_after` is set
        self._reset_counters()

    @property
    def control_url(self) -> str:
        return f"{self.origin}/_demo"

    def app_env(self) -> dict[str, str]:
        """The environment that points an app at this fake with its key (as a user's would)."""
        env = {"YUNYX_API_BASE": self.base_url}
        if self.api_key:
            env["YUNYX_API_KEY"] = self.api_key
        return env

    # -- control, over real HTTP (as a test or benchmark in another process would) ----

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

    def stats(self) -> dict[str, Any]:
        return self._control("GET", "stats")

    # -- state ------------------------------------------------------------------

    def _reset_counters(self) -> None:
        """Counters go to zero; in_flight is live state, so max restarts from it."""
        self._generation_requests = 0
        self._image_requests = 0
        self._max_in_flight = self._in_flight
        self._last_request: Any = None
        self._last_auth_present = False
        self._last_image_auth_present = False

    def _knob(self, name: str, default: Any = None) -> Any:
        with self._lock:
            return self._knobs.get(name, default)

    def _held(self, number: int) -> bool:
        """Whether generation request `number` (counted since the last reset) waits at the API now."""
        with self._lock:
            return bool(self._knobs.get("hold")) or ("hold_after" in self._knobs and number > self._hold_from)

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

    def _stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "generation_requests": self._generation_requests,
                "image_requests": self._image_requests,
                "in_flight": self._in_flight,
                "max_in_flight": self._max_in_flight,
                "last_request": self._last_request,
                "last_headers_auth_present": self._last_auth_present,
                "last_image_auth_present": self._last_image_auth_present,
                "faults": dict(self._knobs),
                "tokens": len(self._tokens),
            }

    # -- routing ----------------------------------------------------------------

    def route(self, h: Handler, method: str) -> None:
        path = h.path.split("?", 1)[0]
        if method == "POST" and path == "/_demo/faults":
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
            super().route(h, method)

    def _handle_faults(self, h: Handler) -> None:
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
            if knobs.get("hold_after") is not None:
                self._hold_from = self._generation_requests + knobs["hold_after"]
            current = dict(self._knobs)
        h.send_json(200, {"faults": current})

    # -- generation -------------------------------------------------------------

    def handle_generation(self, h: Handler) -> None:
        raw = h.read_body()
        authorization = h.headers.get("Authorization")
        with self._lock:
            self._generation_requests += 1
            number = self._generation_requests
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
            self._last_request = parse_json(raw)
            self._last_auth_present = bool(authorization)
        try:
            while self._held(number) and not self._stopping.wait(0.01):
                pass
            self._sleep(float(self._knob("delay", 0)) + float(self._knob("hang", 0)))
            reply = self._generation_reply(authorization, raw)
        finally:
            # Answered from here on: a client that holds its answer never sees itself in flight.
            with self._lock:
                self._in_flight -= 1
        h.send_bytes(*reply)

    def _generation_reply(self, authorization: str | None, raw: bytes | None) -> Reply:
        """Injected status → echoed key → the demo's own answer, then a body fault on success."""
        status, body_fault, retry_after = self._take_response_fault()
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        if status is not None:
            message = f"{_phrase(status)} (injected by the fake API)"
            if self._knob("echo_auth"):
                message += f"; request had Authorization: {authorization}"
            return _json_reply(status, error_body(status, message), headers)
        status, payload = self.generation_answer(authorization, raw)
        if status != 200 or body_fault is None:
            return _json_reply(status, payload, headers)
        if body_fault == "not_json":
            return 200, NOT_JSON_PAGE, "text/html; charset=utf-8", {}
        if body_fault == "no_images":
            del payload["images"]
        elif body_fault == "empty_images":
            payload["images"] = []
        elif body_fault == "no_url":
            payload["images"] = [{}]
        return _json_reply(status, payload, headers)

    def image_url(self, token: str, escape_ampersand: bool = True) -> str:
        return super().image_url(token, escape_ampersand=self._knob("escape_ampersand", escape_ampersand))

    # -- images -----------------------------------------------------------------

    def handle_image(self, h: Handler, token: str) -> None:
        with self._lock:
            self._image_requests += 1
            self._last_image_auth_present = bool(h.headers.get("Authorization"))
        fault = self._knob("image")
        if fault == "slow":
            self._sleep(float(self._knob("image_delay", DEFAULT_IMAGE_DELAY)))
        params, denial = self.verify(token, h.path)
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
        elif fault == "bomb":
            h.send_bytes(200, bomb_png(), self._knob("content_type", "image/png"))
        elif fault in ("jpeg", "webp"):
            fmt = fault.upper()
            h.send_bytes(200, self.image_bytes(params, fmt), self._knob("content_type", f"image/{fault}"))
        else:
            png = self.image_bytes(params, "PNG")
            if fault == "truncated":
                png = png[: len(png) // 2]
            h.send_bytes(200, png, self._knob("content_type", "image/png"))

    def _send_huge(self, h: Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", self._knob("content_type", "image/png"))
        h.send_header("Content-Length", str(HUGE_BODY_BYTES))
        h.end_headers()
        for piece in huge_chunks():
            if self._stopping.is_set():
                h.close_connection = True
                return
            h.wfile.write(piece)  # a client that stops reading raises BrokenPipe → handled


def main(argv: list[str] | None = None) -> int:
    """Run in the foreground: ``python -m tests.support.fake_api --port 8790``; prints the base URL."""
    parser = argparse.ArgumentParser(description="The fake image API with fault knobs.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--api-key", default=None, help="require exactly this bearer token")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    fake = FakeApi(api_key=args.api_key, host=args.host, port=args.port).start()
    print(fake.base_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
