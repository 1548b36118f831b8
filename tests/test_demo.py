"""The demo's image API (what demo mode serves), over real HTTP only, as the app uses it.

Its contract with the app: validation and errors like the real API, bearer auth, signed
expiring image URLs with the escaped ampersand, deterministic pictures. The fault knobs the
tests add on top are tested in test_fake_api.py."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from PIL import Image

from webui.demo import DemoBackend
from webui.service import IMAGE_SIZES, KNOWN_MODELS

from .support.api_calls import ESC, KEY, fetch_png, generate, image_url


@pytest.fixture
def backend() -> Iterator[DemoBackend]:
    """The demo itself (conftest's `backend` is the tests' fake built on it)."""
    with DemoBackend(api_key=KEY) as api:
        yield api


# --------------------------------------------------------------------------- success path


def test_success_answer_shape(backend: DemoBackend, http: requests.Session) -> None:
    resp = generate(http, backend, seed=12345, image_size="768x512", prompt_enhancement=True)
    assert resp.status_code == 200
    data = resp.json()
    assert set(data) == {"images", "timings", "seed"}
    assert data["seed"] == 12345
    assert isinstance(data["timings"]["inference"], int)
    assert 300 <= data["timings"]["inference"] <= 2000
    assert len(data["images"]) == 1
    assert data["images"][0]["url"].startswith(backend.base_url.removesuffix("/v1") + "/files/")


def test_inference_time_is_deterministic(backend: DemoBackend, http: requests.Session) -> None:
    first = generate(http, backend, seed=5).json()["timings"]["inference"]
    assert generate(http, backend, seed=5).json()["timings"]["inference"] == first


def test_missing_seed_gets_a_random_one(backend: DemoBackend, http: requests.Session) -> None:
    seeds = {generate(http, backend).json()["seed"] for _ in range(3)}
    assert all(isinstance(s, int) and 0 <= s <= 9_999_999_999 for s in seeds)
    assert len(seeds) > 1


def test_url_carries_literal_escaped_ampersand(backend: DemoBackend, http: requests.Session) -> None:
    resp = generate(http, backend, seed=1)
    assert "\\\\u0026" in resp.text  # raw JSON: an escaped backslash, then u0026
    url = resp.json()["images"][0]["url"]
    assert ESC in url and "&" not in url
    assert http.get(url, timeout=5).status_code == 403  # used as-is it is broken
    fixed = http.get(url.replace(ESC, "&"), timeout=5)
    assert fixed.status_code == 200
    assert fixed.content.startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize("size", ["768x512", "576x1024"])
def test_image_is_png_of_requested_size(backend: DemoBackend, http: requests.Session, size: str) -> None:
    png = fetch_png(http, backend, image_size=size, seed=3)
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG"
    assert f"{img.width}x{img.height}" == size
    assert img.getcolors(maxcolors=256) is None  # a picture, not a flat fill


def test_default_size_is_1024(backend: DemoBackend, http: requests.Session) -> None:
    assert Image.open(io.BytesIO(fetch_png(http, backend, seed=4))).size == (1024, 1024)


def test_rendering_is_deterministic_and_varies(backend: DemoBackend, http: requests.Session) -> None:
    base = {"image_size": "768x512", "seed": 42}
    first = fetch_png(http, backend, **base)
    again = fetch_png(http, backend, **base)  # a different token, same params
    other_seed = fetch_png(http, backend, image_size="768x512", seed=43)
    other_prompt = fetch_png(http, backend, **{**base, "prompt": "a red fox in snow"})
    assert first == again
    assert first != other_seed
    assert first != other_prompt


def test_both_models_render(backend: DemoBackend, http: requests.Session) -> None:
    images = [fetch_png(http, backend, model=m, seed=9, image_size="768x512") for m in KNOWN_MODELS]
    assert images[0] != images[1]


def test_image_route_rejects_bad_signatures(backend: DemoBackend, http: requests.Session) -> None:
    url = image_url(http, backend, seed=8)
    path, _, query = url.partition("?")
    assert http.get(path, timeout=5).status_code == 403  # no query at all
    assert http.get(url[:-4] + "0000", timeout=5).status_code == 403  # wrong sig
    bumped = query.replace("expires=", "expires=1", 1)  # tampered expiry breaks the sig
    assert http.get(f"{path}?{bumped}", timeout=5).status_code == 403
    unknown = url.replace("/files/", "/files/0", 1)
    assert http.get(unknown, timeout=5).status_code == 403


# --------------------------------------------------------------------------- auth and validation


@pytest.mark.parametrize("key", [None, "", "wrong-key"])
def test_bad_bearer_is_401(backend: DemoBackend, http: requests.Session, key: str | None) -> None:
    resp = generate(http, backend, key=key)
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == 401


def test_any_bearer_accepted_without_configured_key(http: requests.Session) -> None:
    with DemoBackend() as api:
        assert generate(http, api, key="anything").status_code == 200
        assert generate(http, api, key=None).status_code == 401


def test_unknown_model_is_404(backend: DemoBackend, http: requests.Session) -> None:
    resp = generate(http, backend, model="no-such-model")
    assert resp.status_code == 404
    assert set(resp.json()["error"]) == {"message", "type", "code"}


@pytest.mark.parametrize("body", [
    {"model": "FLUX.1-schnell", "prompt": "x", "image_size": "1000x1000"},
    {"model": "FLUX.1-schnell", "prompt": "x", "seed": -1},
    {"model": "FLUX.1-schnell", "prompt": "x", "seed": 10_000_000_000},
    {"model": "FLUX.1-schnell", "prompt": "x", "seed": "5"},
    {"model": "FLUX.1-schnell", "prompt": "x", "seed": 1.5},
    {"model": "FLUX.1-schnell", "prompt": "x", "seed": True},
    {"model": "FLUX.1-schnell", "prompt": "x", "prompt_enhancement": "yes"},
    {"model": "FLUX.1-schnell", "prompt": "  "},
    {"model": "FLUX.1-schnell"},
    {"prompt": "x"},
    {"model": "", "prompt": "x"},
    ["not", "an", "object"],
])
def test_validation_errors_are_400(backend: DemoBackend, http: requests.Session, body: Any) -> None:
    resp = generate(http, backend, body)
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == 400


def test_non_json_body_is_400(backend: DemoBackend, http: requests.Session) -> None:
    resp = http.post(f"{backend.base_url}/images/generations", data=b"{nope",
                     headers={"Authorization": f"Bearer {KEY}"}, timeout=5)
    assert resp.status_code == 400


def test_seed_bounds_are_inclusive(backend: DemoBackend, http: requests.Session) -> None:
    assert generate(http, backend, seed=0).status_code == 200
    assert generate(http, backend, seed=9_999_999_999).json()["seed"] == 9_999_999_999


def test_all_sizes_accepted(backend: DemoBackend, http: requests.Session) -> None:
    for size in IMAGE_SIZES:
        assert generate(http, backend, image_size=size).status_code == 200


def test_unknown_route_is_404_json(backend: DemoBackend, http: requests.Session) -> None:
    resp = http.get(f"{backend.base_url}/models", timeout=5)
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == 404


# --------------------------------------------------------------------------- lifecycle


def test_stop_is_idempotent_and_frees_port(http: requests.Session) -> None:
    api = DemoBackend().start()
    assert generate(http, api, key="any").status_code == 200
    api.stop()
    api.stop()
    with pytest.raises(requests.ConnectionError):
        generate(http, api, key="any", timeout=1)


def test_the_demo_serves_no_fault_knobs_nor_statistics(backend: DemoBackend, http: requests.Session) -> None:
    """A user's demo app has the API's routes only: the fault injector is test support."""
    origin = backend.base_url.removesuffix("/v1")
    assert http.post(f"{origin}/_demo/faults", json={"status": 500}, timeout=5).status_code == 404
    assert http.post(f"{origin}/_demo/reset", json={}, timeout=5).status_code == 404
    assert http.get(f"{origin}/_demo/stats", timeout=5).status_code == 404
    assert generate(http, backend).status_code == 200  # the knob did not take
