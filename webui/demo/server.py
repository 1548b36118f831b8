"""The demo's image API: a real HTTP server on loopback that speaks the hosted API's contract.

Why a real server and not a mock: in demo mode the app goes through exactly the code it
uses with a key (auth header, JSON parsing, the ``\\u0026``-escaped image URL, the
download), so what a person tries offline is what runs online.

Routes (nothing else; the tests' fault injector extends this class in tests/support):
  ``POST /v1/images/generations``                  validation mirrors the real API
  ``GET  /files/<token>.png?expires=..&sig=..``    signed, expiring image URLs, like its CDN
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import secrets
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..service import IMAGE_SIZES, KNOWN_MODELS, MAX_SEED, GenerationParams
from .render import encode, inference_ms, render

logger = logging.getLogger(__name__)

DEFAULT_IMAGE_SIZE = IMAGE_SIZES[0]
URL_TTL_SECONDS = 3600
MAX_TOKENS = 5000
RENDER_CACHE_ENTRIES = 32
MAX_REQUEST_BYTES = 1 << 20
# What the real API leaves in the URL even after JSON decoding (six characters).
ESCAPED_AMPERSAND = "\\u0026"

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

# What an S3-like image host answers for a bad, expired or unknown signed URL.
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


# --------------------------------------------------------------------------- request validation


class ApiError(Exception):
    """An error answer in the API's shape."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def is_json_int(value: Any) -> bool:
    """JSON integers only: ``True`` is an int in Python but not in JSON."""
    return isinstance(value, int) and not isinstance(value, bool)


def validate_generation(body: Any, models: Iterable[str]) -> GenerationParams:
    """Check a request body like the real API: 400 for bad fields, 404 for unknown models.

    The seed is None when the request has none (the server then picks one).
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
    if seed is not None and not (is_json_int(seed) and 0 <= seed <= MAX_SEED):
        raise ApiError(400, f"'seed' must be an integer between 0 and {MAX_SEED}")
    if model not in models:
        raise ApiError(404, f"model {model!r} does not exist")
    return GenerationParams(prompt, model, size, enhancement, seed)


def error_body(status: int, message: str) -> dict[str, Any]:
    """OpenAI-like error envelope, which is what clients will parse."""
    return {"error": {"message": message, "type": ERROR_TYPES.get(status, "api_error"), "code": status}}


def success_body(url: str, params: GenerationParams) -> dict[str, Any]:
    return {"images": [{"url": url}], "timings": {"inference": inference_ms(params)}, "seed": params.seed}


def parse_json(raw: bytes | None) -> Any:
    """Decoded JSON body, or None when it is absent or not JSON (validation says 400)."""
    if not raw:
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


# --------------------------------------------------------------------------- HTTP plumbing


class _Server(ThreadingHTTPServer):
    """Daemon request threads, and a record of open sockets so stop() can cut keep-alives."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the default backlog of 5 drops connections in a burst

    def __init__(self, address: tuple[str, int], backend: DemoBackend) -> None:
        self.backend = backend
        self._open: set[Any] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, Handler)

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


class Handler(BaseHTTPRequestHandler):
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
            self.server.backend.route(self, method)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away; nothing to answer
        except Exception:  # pragma: no cover - last resort so a bug is a 500, not a hang
            logger.exception("demo backend: unhandled error for %s %s", method, urlsplit(self.path).path)
            self.close_connection = True
            try:
                self.send_json(500, error_body(500, "internal error in demo backend"))
            except OSError:
                pass

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

    def send_bytes(self, status: int, body: bytes, content_type: str,
                   headers: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> None:
        self.send_bytes(status, json_bytes(payload), JSON_TYPE, headers)


JSON_TYPE = "application/json; charset=utf-8"


def json_bytes(payload: Any) -> bytes:
    """A JSON answer's body, as the API sends it (UTF-8, Chinese unescaped)."""
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


# --------------------------------------------------------------------------- the backend


class DemoBackend:
    """The offline image API. ``with DemoBackend() as api: ...`` then use ``api.base_url``.

    All state (tokens, render cache) lives on the instance so several backends can run
    side by side in one process (two apps, tests, benchmarks).
    """

    def __init__(self, api_key: str | None = None, host: str = "127.0.0.1", port: int = 0,
                 models: Iterable[str] = KNOWN_MODELS, png_compress_level: int = 1) -> None:
        self.api_key = api_key
        self.host = host
        self.port = port
        self.models: tuple[str, ...] = tuple(models)
        self.png_compress_level = png_compress_level
        self.render_cache_entries = RENDER_CACHE_ENTRIES
        self._secret = secrets.token_bytes(32)
        self._sysrand = random.SystemRandom()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._tokens: OrderedDict[str, GenerationParams] = OrderedDict()
        self._cache: OrderedDict[tuple[GenerationParams, str], bytes] = OrderedDict()

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
    def origin(self) -> str:
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What the app uses as its API base."""
        return f"{self.origin}/v1"

    # -- routing ----------------------------------------------------------------

    def route(self, h: Handler, method: str) -> None:
        path = urlsplit(h.path).path
        if method == "POST" and path == "/v1/images/generations":
            self.handle_generation(h)
        elif method == "GET" and path.startswith("/files/") and path.endswith(".png"):
            self.handle_image(h, path[len("/files/"):-len(".png")])
        else:
            if method == "POST":
                h.read_body()
            h.send_json(404, error_body(404, f"no route for {method} {path}"))

    # -- generation -------------------------------------------------------------

    def handle_generation(self, h: Handler) -> None:
        raw = h.read_body()
        status, payload = self.generation_answer(h.headers.get("Authorization"), raw)
        h.send_json(status, payload)

    def generation_answer(self, authorization: str | None, raw: bytes | None) -> tuple[int, dict[str, Any]]:
        """(status, JSON body) for a generation request: auth → size → validation → success."""
        if not self.authorized(authorization):
            return 401, error_body(401, "authentication failed: invalid or missing API key")
        if raw is None:
            return 413, error_body(413, "request body too large")
        try:
            params = validate_generation(parse_json(raw), self.models)
        except ApiError as err:
            return err.status, error_body(err.status, err.message)
        if params.seed is None:
            params = GenerationParams(params.prompt, params.model, params.image_size,
                                      params.prompt_enhancement, self._sysrand.randint(0, MAX_SEED))
        return 200, success_body(self.image_url(self._remember(params)), params)

    def authorized(self, header: str | None) -> bool:
        scheme, _, token = (header or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return False
        if self.api_key is None:
            return True
        return hmac.compare_digest(token.encode(), self.api_key.encode())

    # -- signed image URLs --------------------------------------------------------

    def _remember(self, params: GenerationParams) -> str:
        token = secrets.token_hex(16)
        with self._lock:
            self._tokens[token] = params
            while len(self._tokens) > MAX_TOKENS:
                self._tokens.popitem(last=False)
        return token

    def _sign(self, token: str, expires: int) -> str:
        return hmac.new(self._secret, f"{token}:{expires}".encode(), hashlib.sha256).hexdigest()

    def image_url(self, token: str, escape_ampersand: bool = True) -> str:
        expires = int(time.time()) + URL_TTL_SECONDS
        url = f"{self.origin}/files/{token}.png?expires={expires}&sig={self._sign(token, expires)}"
        return url.replace("&", ESCAPED_AMPERSAND) if escape_ampersand else url

    def verify(self, token: str, raw_path: str) -> tuple[GenerationParams | None, bytes]:
        """Signed-URL check like S3: bad/missing signature, expiry or unknown token → (None, why)."""
        query = parse_qs(urlsplit(raw_path).query)
        expires, sig = (query.get("expires") or [""])[0], (query.get("sig") or [""])[0]
        if not expires.isdigit() or not hmac.compare_digest(sig.encode(), self._sign(token, int(expires)).encode()):
            return None, DENIED_XML
        if int(expires) < time.time():
            return None, EXPIRED_XML
        with self._lock:
            params = self._tokens.get(token)
        return (params, b"") if params is not None else (None, MISSING_XML)

    def handle_image(self, h: Handler, token: str) -> None:
        params, denial = self.verify(token, h.path)
        if params is None:
            h.send_bytes(403, denial, "application/xml")
        else:
            h.send_bytes(200, self.image_bytes(params, "PNG"), "image/png")

    def image_bytes(self, params: GenerationParams, fmt: str) -> bytes:
        """Render lazily, caching encoded bytes in a small LRU (benchmarks refetch a lot)."""
        key = (params, fmt)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        data = encode(render(params), fmt, self.png_compress_level)
        with self._lock:
            self._cache[key] = data
            while len(self._cache) > self.render_cache_entries:
                self._cache.popitem(last=False)
        return data
