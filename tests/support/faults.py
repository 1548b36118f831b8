"""Every answer of the image API that must become a plain message: the fault knob that makes
it, the typed error the service raises and words of the message in English and Chinese.

One table for two layers: test_service.py checks the error and its words, test_faults.py the
message a visitor of the app reads (and that nothing is left behind). A timeout needs the
caller's own `--timeout`, so each test file adds its `hang` rows itself.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from webui.errors import (
    AuthError,
    BadImageError,
    BadRequestError,
    BadResponseError,
    ExpiredLinkError,
    RateLimitedError,
    UnavailableError,
)


class Fault(NamedTuple):
    knobs: dict[str, Any]  # FakeApi.set_faults(**knobs)
    error: type[Exception]
    english: str
    chinese: str


FAULTS = [
    Fault({"status": 400}, BadRequestError, "rejected the request (400)", "拒绝了请求"),
    Fault({"status": 401}, AuthError, "refused this app's API key", "API 密钥"),
    Fault({"status": 429, "retry_after": 120}, RateLimitedError, "Try again in about 2 min", "大约 2 分钟"),
    Fault({"status": 429}, RateLimitedError, "busy", "繁忙"),
    Fault({"status": 500}, UnavailableError, "temporarily unavailable (HTTP 500)", "暂时不可用"),
    Fault({"status": 503}, UnavailableError, "temporarily unavailable (HTTP 503)", "暂时不可用"),
    Fault({"status": 504}, UnavailableError, "temporarily unavailable (HTTP 504)", "暂时不可用"),
    Fault({"body": "not_json"}, BadResponseError, "does not understand", "无法理解"),
    Fault({"body": "no_images"}, BadResponseError, "does not understand", "无法理解"),
    Fault({"body": "empty_images"}, BadResponseError, "does not understand", "无法理解"),
    Fault({"body": "no_url"}, BadResponseError, "does not understand", "无法理解"),
    Fault({"image": "expired"}, ExpiredLinkError, "link expired", "链接在下载前已过期"),
    Fault({"image": "missing"}, ExpiredLinkError, "link expired", "链接在下载前已过期"),
    Fault({"image": "truncated"}, BadImageError, "not a usable image", "不是可用的图片"),
    Fault({"image": "html"}, BadImageError, "not a usable image", "不是可用的图片"),
    Fault({"image": "huge"}, BadImageError, "too large", "不是可用的图片"),
    Fault({"image": "bomb"}, BadImageError, "not a usable image", "不是可用的图片"),
]


def fault_id(fault: Fault) -> str:
    return str(fault.knobs)
