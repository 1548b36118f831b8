"""Calls to an image API (the demo's or the tests' fake) as a client makes them: raw HTTP, no
service module in between. Used by test_demo.py and test_fake_api.py."""

from __future__ import annotations

from typing import Any, Protocol

import requests

from webui.service import KNOWN_MODELS

from ..conftest import TEST_KEY

KEY = TEST_KEY  # what conftest's `backend` and `fake` want
ESC = "\\u0026"  # the six literal characters the real API leaves in URLs
PROMPT = "a lighthouse on a cliff at dusk"


class Api(Protocol):
    base_url: str


def generate(http: requests.Session, api: Api, body: Any = None, *,
             key: str | None = KEY, timeout: float = 5, **fields: Any) -> requests.Response:
    """POST /images/generations: `body` as given, else a valid request with `fields` on top."""
    payload = body if body is not None else {"model": KNOWN_MODELS[0], "prompt": PROMPT, **fields}
    headers = {} if key is None else {"Authorization": f"Bearer {key}"}
    return http.post(f"{api.base_url}/images/generations", json=payload, headers=headers, timeout=timeout)


def image_url(http: requests.Session, api: Api, **fields: Any) -> str:
    """A fetchable URL (the escape undone, as clients must)."""
    resp = generate(http, api, **fields)
    assert resp.status_code == 200, resp.text
    return resp.json()["images"][0]["url"].replace(ESC, "&")


def fetch_png(http: requests.Session, api: Api, **fields: Any) -> bytes:
    resp = http.get(image_url(http, api, **fields), timeout=5)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "image/png"
    return resp.content
