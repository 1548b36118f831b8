"""The offline demo backend, exercised over real HTTP only (as the app and benchmarks use it)."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from webui.demo_backend import IMAGE_SIZES, KNOWN_MODELS, DemoBackend

KEY = "test-key-123"
ESC = "\\u0026"  # the six literal characters the real API leaves in URLs
PROMPT = "a lighthouse on a cliff at dusk"


@pytest.fixture
def backend() -> Iterator[DemoBackend]:
    api = DemoBackend(api_key=KEY).start()
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """No proxies from the environment: everything here is loopback."""
    with requests.Session() as session:
        session.trust_env = False
        yield session


def generate(http: requests.Session, api: DemoBackend, body: Any = None, *,
             key: str | None = KEY, timeout: float = 5, **fields: Any) -> requests.Response:
    payload = body if body is not None else {"model": KNOWN_MODELS[0], "prompt": PROMPT, **fields}
    headers = {} if key is None else {"Authorization": f"Bearer {key}"}
    return http.post(f"{api.base_url}/images/generations", json=payload, headers=headers, timeout=timeout)


def image_url(http: requests.Session, api: DemoBackend, **fields: Any) -> str:
    """A fetchable URL (the escape undone, as clients must)."""
    resp = generate(http, api, **fields)
    assert resp.status_code == 200, resp.text
    return resp.json()["images"][0]["url"].replace(ESC, "&")


def fetch_png(http: requests.Session, api: DemoBackend, **fields: Any) -> bytes:
    resp = http.get(image_url(http, api, **fields), timeout=5)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "image/png"
    return resp.content


def control(http: requests.Session, api: DemoBackend, route: str, payload: Any = None) -> requests.Response:
    if payload is None:
        return http.get(f"{api.control_url}/{route}", timeout=5)
    return http.post(f"{api.control_url}/{route}", json=payload, timeout=5)


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


def test_escape_ampersand_knob_off(backend: DemoBackend, http: requests.Session) -> None:
    backend.set_faults(escape_ampersand=False)
    url = generate(http, backend).json()["images"][0]["url"]
    assert ESC not in url and "&sig=" in url
    assert http.get(url, timeout=5).status_code == 200


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


# --------------------------------------------------------------------------- response knobs


def test_status_fault_with_count_and_retry_after(backend: DemoBackend, http: requests.Session) -> None:
    backend.set_faults(status=429, count=2, retry_after=7)
    for _ in range(2):
        resp = generate(http, backend)
        assert resp.status_code == 429
        assert resp.headers["Retry-After"] == "7"
        assert resp.json()["error"]["code"] == 429
    resp = generate(http, backend)
    assert resp.status_code == 200
    assert "Retry-After" not in resp.headers
    assert backend.stats()["faults"] == {}


def test_status_fault_without_count_persists(backend: DemoBackend, http: requests.Session) -> None:
    backend.set_faults(status=503)
    assert [generate(http, backend).status_code for _ in range(3)] == [503, 503, 503]
    backend.reset()
    assert generate(http, backend).status_code == 200


def test_delay_overlaps_concurrent_requests(backend: DemoBackend, http: requests.Session) -> None:
    backend.set_faults(delay=0.3)
    workers = 4
    barrier = threading.Barrier(workers)
    codes: list[int] = []

    def worker() -> None:
        with requests.Session() as own:
            own.trust_env = False
            barrier.wait(timeout=5)
            codes.append(generate(own, backend).status_code)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert codes == [200] * workers
    assert time.monotonic() - started >= 0.3
    stats = backend.stats()
    assert stats["max_in_flight"] >= 2
    assert stats["in_flight"] == 0


def test_hang_exceeds_client_timeout(backend: DemoBackend, http: requests.Session) -> None:
    backend.set_faults(hang=5)
    with pytest.raises(requests.Timeout):
        generate(http, backend, timeout=0.2)
    # stop() (in the fixture) must not wait for the sleeping handler


def test_body_not_json(backend: DemoBackend, http: requests.Session) -> None:
    backend.set_faults(body="not_json")
    resp = generate(http, backend)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError):
        resp.json()


@pytest.mark.parametrize(("fault", "check"), [
    ("no_images", lambda d: "images" not in d and "seed" in d),
    ("empty_images", lambda d: d["images"] == []),
    ("no_url", lambda d: d["images"] == [{}]),
])
def test_body_variants(backend: DemoBackend, http: requests.Session, fault: str, check: Any) -> None:
    backend.set_faults(body=fault)
    resp = generate(http, backend)
    assert resp.status_code == 200
    assert check(resp.json())


def test_body_fault_respects_count(backend: DemoBackend, http: requests.Session) -> None:
    backend.set_faults(body="empty_images", count=1)
    assert generate(http, backend).json()["images"] == []
    assert len(generate(http, backend).json()["images"]) == 1


def test_bad_knobs_are_rejected(backend: DemoBackend, http: requests.Session) -> None:
    assert control(http, backend, "faults", {"stauts": 500}).status_code == 400
    assert control(http, backend, "faults", {"image": "gif"}).status_code == 400
    assert control(http, backend, "faults", {"delay": -1}).status_code == 400
    assert control(http, backend, "faults", [1]).status_code == 400
    with pytest.raises(ValueError):
        backend.set_faults(body="sometimes")


def test_null_knob_removes_it(backend: DemoBackend, http: requests.Session) -> None:
    resp = control(http, backend, "faults", {"status": 500, "delay": 0.01})
    assert resp.json()["faults"] == {"status": 500, "delay": 0.01}
    assert control(http, backend, "faults", {"status": None}).json()["faults"] == {"delay": 0.01}


# --------------------------------------------------------------------------- image knobs


def image_with_fault(http: requests.Session, api: DemoBackend, fault: str, **extra: Any) -> requests.Response:
    url = image_url(http, api, seed=21, image_size="768x512")
    api.set_faults(image=fault, **extra)
    return http.get(url, timeout=5)


def test_image_expired(backend: DemoBackend, http: requests.Session) -> None:
    resp = image_with_fault(http, backend, "expired")
    assert resp.status_code == 403
    assert b"<Error>" in resp.content and len(resp.content) < 1000


def test_image_missing(backend: DemoBackend, http: requests.Session) -> None:
    assert image_with_fault(http, backend, "missing").status_code == 404


def test_image_truncated(backend: DemoBackend, http: requests.Session) -> None:
    full = fetch_png(http, backend, seed=21, image_size="768x512")
    resp = image_with_fault(http, backend, "truncated")
    assert resp.status_code == 200
    assert resp.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(resp.content) < len(full)
    with pytest.raises(OSError):
        Image.open(io.BytesIO(resp.content)).load()


def test_image_html(backend: DemoBackend, http: requests.Session) -> None:
    resp = image_with_fault(http, backend, "html")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/html")
    assert b"<html>" in resp.content


def test_image_jpeg(backend: DemoBackend, http: requests.Session) -> None:
    resp = image_with_fault(http, backend, "jpeg")
    assert resp.headers["Content-Type"] == "image/jpeg"
    assert resp.content[:3] == b"\xff\xd8\xff"
    assert Image.open(io.BytesIO(resp.content)).size == (768, 512)


def test_image_webp(backend: DemoBackend, http: requests.Session) -> None:
    resp = image_with_fault(http, backend, "webp")
    assert resp.headers["Content-Type"] == "image/webp"
    assert resp.content[:4] == b"RIFF" and resp.content[8:12] == b"WEBP"


def test_content_type_override(backend: DemoBackend, http: requests.Session) -> None:
    url = image_url(http, backend, seed=2, image_size="768x512")
    backend.set_faults(content_type="application/octet-stream")
    resp = http.get(url, timeout=5)
    assert resp.headers["Content-Type"] == "application/octet-stream"
    assert resp.content.startswith(b"\x89PNG")


def test_image_huge(backend: DemoBackend, http: requests.Session) -> None:
    url = image_url(http, backend, seed=21, image_size="768x512")
    backend.set_faults(image="huge")
    with http.get(url, timeout=5, stream=True) as resp:
        assert resp.status_code == 200
        assert int(resp.headers["Content-Length"]) > 50 * 1024 * 1024
        head = resp.raw.read(65536)
        assert head.startswith(b"\x89PNG\r\n\x1a\n")


def test_image_bomb(backend: DemoBackend, http: requests.Session) -> None:
    resp = image_with_fault(http, backend, "bomb")
    data = resp.content
    assert resp.status_code == 200
    assert len(data) < 10 * 1024
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24]) == (30000, 30000)
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(data))


def test_image_slow(backend: DemoBackend, http: requests.Session) -> None:
    started = time.monotonic()
    resp = image_with_fault(http, backend, "slow", image_delay=0.2)
    assert resp.status_code == 200
    assert time.monotonic() - started >= 0.2
    assert resp.content.startswith(b"\x89PNG")


# --------------------------------------------------------------------------- stats, reset, lifecycle


def test_stats_counts_and_last_request(backend: DemoBackend, http: requests.Session) -> None:
    body = {"model": KNOWN_MODELS[1], "prompt": "stats please", "seed": 77}
    url = generate(http, backend, body).json()["images"][0]["url"].replace(ESC, "&")
    http.get(url, timeout=5)
    resp = control(http, backend, "stats")
    stats = resp.json()
    assert stats["generation_requests"] == 1
    assert stats["image_requests"] == 1
    assert stats["in_flight"] == 0 and stats["max_in_flight"] == 1
    assert stats["last_request"] == body
    assert stats["last_headers_auth_present"] is True
    assert KEY not in resp.text
    generate(http, backend, key=None)
    assert backend.stats()["last_headers_auth_present"] is False


def test_reset_clears_knobs_and_counters(backend: DemoBackend, http: requests.Session) -> None:
    backend.set_faults(status=500, delay=0.01)
    generate(http, backend)
    assert control(http, backend, "reset", {}).status_code == 200
    stats = backend.stats()
    assert stats["faults"] == {}
    assert stats["generation_requests"] == stats["image_requests"] == stats["max_in_flight"] == 0
    assert stats["last_request"] is None
    assert generate(http, backend).status_code == 200


def test_stop_is_idempotent_and_frees_port(http: requests.Session) -> None:
    api = DemoBackend().start()
    url = f"{api.control_url}/stats"
    assert http.get(url, timeout=5).status_code == 200
    api.stop()
    api.stop()
    with pytest.raises(requests.ConnectionError):
        http.get(url, timeout=1)


def test_two_instances_do_not_share_state(backend: DemoBackend, http: requests.Session) -> None:
    with DemoBackend(api_key=KEY) as other:
        other.set_faults(status=500)
        assert generate(http, backend).status_code == 200
        assert generate(http, other).status_code == 500
        assert backend.port != other.port


def test_module_entry_point_prints_base_url() -> None:
    root = Path(__file__).resolve().parents[1]
    cmd = [sys.executable, "-m", "webui.demo_backend", "--port", "0"]
    with subprocess.Popen(cmd, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline().strip()
            assert line.startswith("http://127.0.0.1:") and line.endswith("/v1")
            with requests.Session() as session:
                session.trust_env = False
                stats = session.get(line.removesuffix("/v1") + "/_demo/stats", timeout=5).json()
            assert stats["generation_requests"] == 0
        finally:
            proc.terminate()
            proc.wait(timeout=5)
