"""Every failure the app tells a person about, as data, and the one place that words it.

An error carries a message `code` (a key of `i18n.MESSAGES`) and the parameters that
message needs; it never holds a sentence. `render(error, lang, tz)` is the only code
that turns an error into words, for the page's toasts and status line and for the
command line alike, so the two cannot drift apart.

    AppError(code, **params)       a failure a person can act on
    ├── InvalidInputError          input refused before any API call (generator, recipes)
    ├── DailyLimitError            today's images are used up; nothing was sent to the API
    ├── StorageFailedError         the image arrived but the outputs folder refused it;
    │                              carries the PNG, so the image is still handed over
    └── ImageApiError              the image API or its image host failed (service)
        ├── AuthError              401/403: the key was refused
        ├── UnknownModelError      404: names the model
        ├── BadRequestError        400/422: the API's own reason in `detail`
        ├── RateLimitedError       429 after the retries: "try again in N s"
        ├── UnavailableError       5xx (after the retries for 503)
        ├── ApiTimeoutError        no answer (or no image) within --timeout
        ├── ExpiredLinkError       the image link died before the download
        ├── BadImageError          the download is not a usable image
        ├── BadResponseError       the API's answer does not follow the contract
        └── ConnectionFailedError  the host could not be reached

Anything else that reaches `render` is a bug of ours: the person reads "internal error
(details in the log)" and the traceback goes to the log, never the exception's name
dressed up as the API's fault. Start-up problems (`config.ConfigError`,
`accounts.AccountsError`) are not here: they stop the program before any visitor
exists and are printed as they are.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import i18n

log = logging.getLogger(__name__)

INTERNAL = "internal"  # the message code for our own bugs


class AppError(Exception):
    """A failure with a message `code` and its `params`; `render` says it in words."""

    code: str = INTERNAL

    def __init__(self, code: str | None = None, /, **params: Any) -> None:
        self.code = code or type(self).code
        self.params = params
        super().__init__(self.code)

    def __str__(self) -> str:  # for logs: technical and English-free, never rendered words
        args = ", ".join(f"{name}={value!r}" for name, value in self.params.items())
        return f"{self.code}({args})"

    def __repr__(self) -> str:
        return f"{type(self).__name__}: {self}"


# --------------------------------------------------------------------------- the app's rules


class InvalidInputError(AppError, ValueError):
    """Form or API input the app refuses before calling the API."""


class DailyLimitError(AppError):
    """A user's images for today are used up; `resets_at` is rendered in the visitor's zone."""

    code = "daily_limit"

    def __init__(self, used: int, limit: int, resets_at: datetime) -> None:
        super().__init__(used=used, limit=limit, resets=resets_at)
        self.used, self.limit, self.resets_at = used, limit, resets_at


class StorageFailedError(AppError):
    """The API delivered an image but the outputs folder refused it.

    Carries the PNG and its fields so the UI can still hand the image over.
    """

    code = "save_failed"

    def __init__(self, folder: Any, detail: str, png: bytes, fields: dict[str, Any]) -> None:
        super().__init__(folder=str(folder), detail=detail)
        self.folder, self.detail = folder, detail
        self.png = png
        self.fields = dict(fields)


# --------------------------------------------------------------------------- the image API


class ImageApiError(AppError):
    """Base of every failure the service reports; `detail` is a short, key-free reason."""

    code = "bad_response"

    def __init__(self, detail: str = "", **params: Any) -> None:
        super().__init__(detail=detail, **params)
        self.detail = detail


class AuthError(ImageApiError):
    code = "auth"


class UnknownModelError(ImageApiError):
    code = "unknown_model"

    def __init__(self, model: str) -> None:
        super().__init__(f"model {model!r} does not exist", model=model)
        self.model = model


class BadRequestError(ImageApiError):
    code = "bad_request"


class RateLimitedError(ImageApiError):
    code = "rate_limited"

    def __init__(self, retry_after: float | None) -> None:
        seconds = max(1, round(retry_after)) if retry_after else 10
        super().__init__(f"rate limited, retry after {seconds}s", seconds=seconds)
        self.retry_after = seconds


class UnavailableError(ImageApiError):
    code = "unavailable"

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}", status=status)
        self.status = status


class ApiTimeoutError(ImageApiError):
    code = "timeout"

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no answer within {seconds:g}s", seconds=f"{seconds:g}")


class ExpiredLinkError(ImageApiError):
    code = "expired"


class BadImageError(ImageApiError):
    code = "bad_image"


class BadResponseError(ImageApiError):
    code = "bad_response"


class ConnectionFailedError(ImageApiError):
    code = "connection"


# --------------------------------------------------------------------------- words


def render(error: BaseException, lang: str = i18n.FALLBACK, tz: str | None = None) -> str:
    """What a non-programmer should read about `error`, in `lang` ("en" or "zh").

    A time in the parameters is shown in the browser's zone `tz` (UTC when unknown).
    An error that is not an `AppError` is a bug of ours: its traceback is logged here,
    because the message promises it is in the log.
    """
    if not isinstance(error, AppError):
        log.error("Internal error: %s", type(error).__name__, exc_info=error)
        return i18n.message(INTERNAL, lang)
    params = {
        name: local_time(value, tz) if isinstance(value, datetime) else value
        for name, value in error.params.items()
    }
    return i18n.message(error.code, lang, **params)


def local_time(moment: datetime, tz: str | None) -> str:
    """`2026-11-25 08:00 (Asia/Shanghai)` from the browser's zone, else UTC."""
    try:
        zone = ZoneInfo(tz) if tz else UTC
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M} ({tz if zone is not UTC else 'UTC'})"
