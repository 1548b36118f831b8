"""The one module that speaks HTTP to the image API. No Gradio here.

`ImageService.generate()` posts the five parameters, downloads the image at once
(its URL dies after an hour), checks the bytes really are an image, and returns
them. Every failure is a typed `errors.ImageApiError` carrying a message code and
its parameters; `errors.render` words it in the visitor's language.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

import requests
import requests.auth
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

from . import metadata, provenance
from .errors import (
    ApiTimeoutError,
    AuthError,
    BadImageError,
    BadRequestError,
    BadResponseError,
    ConnectionFailedError,
    ExpiredLinkError,
    RateLimitedError,
    UnavailableError,
    UnknownModelError,
)
from .redact import redact

log = logging.getLogger(__name__)

# The API's contract (see shared/api): the one place these facts live.
GENERATIONS_PATH = "/images/generations"
IMAGE_SIZES: tuple[str, ...] = ("1024x1024", "512x1024", "768x512", "768x1024", "1024x576", "576x1024")
KNOWN_MODELS: tuple[str, ...] = ("FLUX.1-schnell", "stable-diffusion-3-5-large")
MAX_SEED = 9_999_999_999
DEFAULT_MAX_IMAGE_BYTES = 40 * 1024 * 1024
RETRY_STATUSES = frozenset({429, 503})
_CHUNK = 256 * 1024
_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class GenerationParams:
    """The five request fields, already validated by the caller."""

    prompt: str
    model: str
    image_size: str = "1024x1024"
    prompt_enhancement: bool = False
    seed: int | None = None

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "prompt": self.prompt,
            "image_size": self.image_size,
            "prompt_enhancement": self.prompt_enhancement,
        }
        if self.seed is not None:
            body["seed"] = self.seed
        return body


@dataclass(frozen=True)
class GeneratedImage:
    """What the API produced: the downloaded bytes plus what it told us about them."""

    png: bytes = field(repr=False)
    source_type: str  # what the API sent ("png", "jpeg", "webp"…); `png` is always PNG
    seed: int | None
    inference: float | None
    api_id: str | None = None  # the API's id for this image or request, if it sent one


# --------------------------------------------------------------------------- retries


class BoundedRetry(Retry):
    """urllib3 `Retry` that also caps the *total* time spent waiting between tries.

    Plain `Retry` bounds the count and each single `Retry-After`; a server that keeps
    saying "come back in 20 s" would still hold a visitor for minutes. When the next
    wait would cross the budget we stop and let the caller report "try again in N s".
    """

    def __init__(self, *args: Any, max_total_wait: float = 30.0, waited: float = 0.0,
                 wait: Callable[[float], None] = time.sleep, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.max_total_wait = max_total_wait
        self.waited = waited
        self.wait = wait  # every pause between tries goes through it; tests pass one that records

    def new(self, **kw: Any) -> "BoundedRetry":
        kw.setdefault("max_total_wait", self.max_total_wait)
        kw.setdefault("waited", self.waited)
        kw.setdefault("wait", self.wait)
        return super().new(**kw)

    def _sleep_backoff(self) -> None:
        backoff = self.get_backoff_time()
        if backoff > 0:
            self.wait(backoff)

    def _next_wait(self, response: Any) -> float:
        after = _parse_retry_after(response.headers.get("Retry-After")) if response is not None else None
        return after if after is not None else self.get_backoff_time()

    def sleep_for_retry(self, response: Any) -> bool:
        """Honour a Retry-After we can read (0 means now); a malformed one means the usual back-off.

        Returning False hands over to urllib3's exponential back-off, which the total-wait
        budget never counted: only a missing or unreadable header may do that.
        """
        after = _parse_retry_after(response.headers.get("Retry-After")) if response is not None else None
        if after is None:
            return False
        if after > 0:
            self.wait(after)
        return True

    def increment(self, method: str | None = None, url: str | None = None, response: Any = None,
                  error: Exception | None = None, _pool: Any = None, _stacktrace: Any = None) -> "BoundedRetry":
        new = super().increment(method, url, response, error, _pool, _stacktrace)
        wait = new._next_wait(response)
        if self.waited + wait > self.max_total_wait:
            raise MaxRetryError(_pool, url or "", error)  # type: ignore[arg-type]  # urllib3 passes its pool
        new.waited = self.waited + wait
        return new


def build_retry(max_retries: int, max_total_wait: float,
                wait: Callable[[float], None] = time.sleep) -> BoundedRetry:
    """Retry 429/503 only, honouring Retry-After; never 400/401/404, never read errors."""
    return BoundedRetry(
        total=max_retries,
        connect=0,
        read=False,  # False (not 0) re-raises the read timeout as itself, not as a ConnectionError
        other=0,
        redirect=3,
        status=max_retries,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "POST"}),
        backoff_factor=0.5,
        backoff_max=10,
        respect_retry_after_header=True,
        raise_on_status=False,
        max_total_wait=max_total_wait,
        wait=wait,
    )


# --------------------------------------------------------------------------- service


class BearerAuth(requests.auth.AuthBase):
    """Adds the bearer key to API calls only; its repr never shows the key.

    Passing the key as a headers dict would put it in every traceback that shows
    local variables; this object keeps it out of them.
    """

    def __init__(self, key: str) -> None:
        self._key = key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._key}"
        return request

    def __repr__(self) -> str:
        return "BearerAuth('***')"


def unescape_url(url: str) -> str:
    """Turn literal `\\uXXXX` escapes (the API sends `\\u0026` for `&`) into characters."""
    return _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), url)


def _parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (a number or an HTTP date); None if absent or unreadable."""
    if not value or not value.strip():
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        pass
    try:
        return Retry().parse_retry_after(value)
    except urllib3.exceptions.InvalidHeader:
        return None


def _error_detail(response: requests.Response, secrets: tuple[str, ...] = ()) -> str:
    """A short, safe description of an error body (it may be JSON, HTML or nothing).

    Safe means redacted too: a body may echo our Authorization header back.
    """
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            err = err.get("message") or err.get("msg") or err.get("detail")
        if isinstance(err, str) and err.strip():
            return redact(err.strip(), secrets)[:200]
    return f"HTTP {response.status_code}"


class ImageService:
    """A client for `POST {base}/images/generations` plus the image download.

    One `requests.Session` (connection pooling, retries) per service; thread-safe for
    the way we use it (one request per call, no shared mutable state besides the pool).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout: float = 120.0,
        connect_timeout: float = 10.0,
        max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES,
        max_retries: int = 3,
        max_retry_wait: float = 30.0,
        retry_wait: Callable[[float], None] = time.sleep,
        pool_size: int = 16,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.connect_timeout = min(connect_timeout, timeout)
        self.max_image_bytes = max_image_bytes
        self._session = requests.Session()
        self._session.trust_env = False  # no .netrc: it could override our Authorization header
        adapter = HTTPAdapter(
            max_retries=build_retry(max_retries, max_retry_wait, retry_wait),
            pool_connections=4,
            pool_maxsize=pool_size,
        )
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.headers["Accept"] = "application/json"
        self._auth = BearerAuth(api_key or "demo")
        self._secrets = (api_key,) if api_key else ()

    def close(self) -> None:
        self._session.close()

    def __repr__(self) -> str:  # never shows the key
        return f"ImageService(base_url={self.base_url!r})"

    # -- public -------------------------------------------------------------------

    def generate(self, params: GenerationParams) -> GeneratedImage:
        """Ask for one image and download it; raises an `ImageApiError` subclass."""
        answer = self._post_generation(params)
        url, seed, inference = self._read_answer(answer, params)
        data = self._download(url)
        source_type = metadata.sniff_image_type(data)
        if source_type is None:
            raise BadImageError("not an image")
        try:
            png = metadata.to_png(data)  # PNG passes through untouched; others converted once
        except ValueError as exc:
            raise BadImageError(str(exc)[:120]) from None
        return GeneratedImage(png=png, source_type=source_type, seed=seed, inference=inference,
                              api_id=_answer_id(answer))

    # -- steps --------------------------------------------------------------------

    def _post_generation(self, params: GenerationParams) -> dict[str, Any]:
        url = self.base_url + GENERATIONS_PATH
        response = self._send(
            "POST",
            url,
            json=params.payload(),
            auth=self._auth,
        )
        with response:
            self._raise_for_api_status(response, params)
            try:
                answer = response.json()
            except ValueError:
                raise BadResponseError("the answer is not JSON") from None
        if not isinstance(answer, dict):
            raise BadResponseError("the answer is not a JSON object")
        return answer

    def _send(self, method: str, url: str, **kw: Any) -> requests.Response:
        """One HTTP call with our timeouts; transport failures become typed errors."""
        try:
            return self._session.request(
                method, url, timeout=(self.connect_timeout, self.timeout), **kw
            )
        except requests.exceptions.Timeout:
            raise ApiTimeoutError(self.timeout) from None
        except requests.exceptions.RetryError:
            raise RateLimitedError(None) from None
        except requests.exceptions.ConnectionError as exc:
            raise ConnectionFailedError(_host_of(url) + _connection_reason(exc)) from None
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as exc:
            raise ConnectionFailedError(_host_of(url) + f": {type(exc).__name__}") from None

    def _raise_for_api_status(self, response: requests.Response, params: GenerationParams) -> None:
        status = response.status_code
        if status == 200:
            return
        if status == 401 or status == 403:
            raise AuthError(_error_detail(response, self._secrets))
        if status == 404:
            raise UnknownModelError(params.model)
        if status == 400 or status == 422:
            raise BadRequestError(_error_detail(response, self._secrets))
        if status == 429:
            raise RateLimitedError(_parse_retry_after(response.headers.get("Retry-After")))
        if status == 504:
            raise UnavailableError(504)
        raise UnavailableError(status)

    @staticmethod
    def _read_answer(answer: dict[str, Any], params: GenerationParams) -> tuple[str, int | None, float | None]:
        images = answer.get("images")
        if not isinstance(images, list) or not images:
            raise BadResponseError("no image in the answer")
        first = images[0]
        url = first.get("url") if isinstance(first, dict) else None
        if not isinstance(url, str) or not url.strip():
            raise BadResponseError("no image link in the answer")
        url = unescape_url(url.strip())
        if urlsplit(url).scheme not in ("http", "https"):
            raise BadResponseError("the image link is not a web address")
        seed = answer.get("seed")
        if not isinstance(seed, int) or isinstance(seed, bool):
            seed = params.seed
        timings = answer.get("timings")
        inference = timings.get("inference") if isinstance(timings, dict) else None
        if not isinstance(inference, (int, float)) or isinstance(inference, bool):
            inference = None
        return url, seed, inference

    def _download(self, url: str) -> bytes:
        """Fetch the image now, capped in size and in total time (a slow drip counts too)."""
        deadline = time.monotonic() + self.timeout
        # The image host is not the API: never send it our key.
        response = self._send("GET", url, stream=True, headers={"Accept": "image/*"})
        with response:
            if response.status_code in (401, 403, 404, 410):
                raise ExpiredLinkError(f"HTTP {response.status_code}")
            if response.status_code != 200:
                raise UnavailableError(response.status_code)
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > self.max_image_bytes:
                raise BadImageError("the image is too large")
            return self._read_capped(response, deadline)

    def _read_capped(self, response: requests.Response, deadline: float) -> bytes:
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(_CHUNK):
                size += len(chunk)
                if size > self.max_image_bytes:
                    raise BadImageError("the image is too large")
                if time.monotonic() > deadline:
                    raise ApiTimeoutError(self.timeout)
                chunks.append(chunk)
        except requests.exceptions.RequestException:
            raise BadImageError("the download was interrupted") from None
        return b"".join(chunks)


def _answer_id(answer: dict[str, Any]) -> str | None:
    """The API's id for the image (``images[0].id``) or the request (``id``, ``request_id``).

    The documented answer has none; if the provider adds one, the AI label's ProduceID
    names it. Bounded printable text, or None.
    """
    images = answer.get("images")
    first = images[0] if isinstance(images, list) and images and isinstance(images[0], dict) else {}
    for value in (first.get("id"), answer.get("id"), answer.get("request_id")):
        text = provenance.clean_id(value)
        if text:
            return text
    return None


def _host_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.hostname or "?"


def _connection_reason(exc: Exception) -> str:
    text = str(exc).lower()
    if "refused" in text:
        return ": connection refused"
    if "name or service" in text or "resolve" in text or "nodename" in text:
        return ": host name not found"
    return ""
