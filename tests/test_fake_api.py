"""The tests' fake API: every fault knob, the counters and the control routes, over real HTTP."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from webui.service import KNOWN_MODELS

from .conftest import wait_until
from .support.api_calls import ESC, KEY, fetch_png, generate, image_url
from .support.fake_api import FakeApi


def control(http: requests.Session, api: FakeApi, route: str, payload: Any = None) -> requests.Response:
    if payload is None:
        return http.get(f"{api.control_url}/{route}", timeout=5)
    return http.post(f"{api.control_url}/{route}", json=payload, timeout=5)


# --------------------------------------------------------------------------- response knobs


def test_escape_ampersand_knob_off(backend: FakeApi, http: requests.Session) -> None:
    backend.set_faults(escape_ampersand=False)
    url = generate(http, backend).json()["images"][0]["url"]
    assert ESC not in url and "&sig=" in url
    assert http.get(url, timeout=5).status_code == 200


# --------------------------------------------------------------------------- response knobs


def test_status_fault_with_count_and_retry_after(backend: FakeApi, http: requests.Session) -> None:
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


def test_status_fault_without_count_persists(backend: FakeApi, http: requests.Session) -> None:
    backend.set_faults(status=503)
    assert [generate(http, backend).status_code for _ in range(3)] == [503, 503, 503]
    backend.reset()
    assert generate(http, backend).status_code == 200


def test_delay_overlaps_concurrent_requests(backend: FakeApi, http: requests.Session) -> None:
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


def test_hold_keeps_requests_at_the_api_until_it_is_removed(backend: FakeApi, http: requests.Session) -> None:
    backend.set_faults(hold=True)
    answers: list[int] = []
    with requests.Session() as own:
        own.trust_env = False
        held = threading.Thread(target=lambda: answers.append(generate(own, backend).status_code))
        held.start()
        wait_until(lambda: backend.stats()["in_flight"] == 1, timeout=10, what="the request at the API")
        held.join(timeout=0.3)
        assert held.is_alive() and answers == []  # still held
        backend.set_faults(hold=None)
        held.join(timeout=10)
    assert answers == [200] and backend.stats()["in_flight"] == 0
    assert control(http, backend, "faults", {"hold": False}).status_code == 400  # only true, or null to remove


def test_hold_after_answers_the_next_requests_and_holds_the_rest(backend: FakeApi, http: requests.Session) -> None:
    generate(http, backend)  # counted before the knob: it does not use up the one let through
    backend.set_faults(hold_after=1)
    answers: list[int] = []
    with requests.Session() as first, requests.Session() as second:
        assert generate(first, backend).status_code == 200  # the one answered
        held = threading.Thread(target=lambda: answers.append(generate(second, backend).status_code))
        held.start()
        wait_until(lambda: backend.stats()["in_flight"] == 1, timeout=10, what="the second request at the API")
        held.join(timeout=0.3)
        assert held.is_alive() and answers == []
        backend.set_faults(hold_after=None)
        held.join(timeout=10)
    assert answers == [200] and backend.stats()["in_flight"] == 0


def test_hang_exceeds_client_timeout(backend: FakeApi, http: requests.Session) -> None:
    backend.set_faults(hang=5)
    with pytest.raises(requests.Timeout):
        generate(http, backend, timeout=0.2)
    # stop() (in the fixture) must not wait for the sleeping handler


def test_body_not_json(backend: FakeApi, http: requests.Session) -> None:
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
def test_body_variants(backend: FakeApi, http: requests.Session, fault: str, check: Any) -> None:
    backend.set_faults(body=fault)
    resp = generate(http, backend)
    assert resp.status_code == 200
    assert check(resp.json())


def test_body_fault_respects_count(backend: FakeApi, http: requests.Session) -> None:
    backend.set_faults(body="empty_images", count=1)
    assert generate(http, backend).json()["images"] == []
    assert len(generate(http, backend).json()["images"]) == 1


def test_bad_knobs_are_rejected(backend: FakeApi, http: requests.Session) -> None:
    assert control(http, backend, "faults", {"stauts": 500}).status_code == 400
    assert control(http, backend, "faults", {"image": "gif"}).status_code == 400
    assert control(http, backend, "faults", {"delay": -1}).status_code == 400
    assert control(http, backend, "faults", [1]).status_code == 400
    with pytest.raises(ValueError):
        backend.set_faults(body="sometimes")


def test_null_knob_removes_it(backend: FakeApi, http: requests.Session) -> None:
    resp = control(http, backend, "faults", {"status": 500, "delay": 0.01})
    assert resp.json()["faults"] == {"status": 500, "delay": 0.01}
    assert control(http, backend, "faults", {"status": None}).json()["faults"] == {"delay": 0.01}


# --------------------------------------------------------------------------- image knobs


def image_with_fault(http: requests.Session, api: FakeApi, fault: str, **extra: Any) -> requests.Response:
    url = image_url(http, api, seed=21, image_size="768x512")
    api.set_faults(image=fault, **extra)
    return http.get(url, timeout=5)


def test_image_expired(backend: FakeApi, http: requests.Session) -> None:
    resp = image_with_fault(http, backend, "expired")
    assert resp.status_code == 403
    assert b"<Error>" in resp.content and len(resp.content) < 1000


def test_image_missing(backend: FakeApi, http: requests.Session) -> None:
    assert image_with_fault(http, backend, "missing").status_code == 404


def test_image_truncated(backend: FakeApi, http: requests.Session) -> None:
    full = fetch_png(http, backend, seed=21, image_size="768x512")
    resp = image_with_fault(http, backend, "truncated")
    assert resp.status_code == 200
    assert resp.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(resp.content) < len(full)
    with pytest.raises(OSError):
        Image.open(io.BytesIO(resp.content)).load()


def test_image_html(backend: FakeApi, http: requests.Session) -> None:
    resp = image_with_fault(http, backend, "html")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/html")
    assert b"<html>" in resp.content


def test_image_jpeg(backend: FakeApi, http: requests.Session) -> None:
    resp = image_with_fault(http, backend, "jpeg")
    assert resp.headers["Content-Type"] == "image/jpeg"
    assert resp.content[:3] == b"\xff\xd8\xff"
    assert Image.open(io.BytesIO(resp.content)).size == (768, 512)


def test_image_webp(backend: FakeApi, http: requests.Session) -> None:
    resp = image_with_fault(http, backend, "webp")
    assert resp.headers["Content-Type"] == "image/webp"
    assert resp.content[:4] == b"RIFF" and resp.content[8:12] == b"WEBP"


def test_content_type_override(backend: FakeApi, http: requests.Session) -> None:
    url = image_url(http, backend, seed=2, image_size="768x512")
    backend.set_faults(content_type="application/octet-stream")
    resp = http.get(url, timeout=5)
    assert resp.headers["Content-Type"] == "application/octet-stream"
    assert resp.content.startswith(b"\x89PNG")


def test_image_huge(backend: FakeApi, http: requests.Session) -> None:
    url = image_url(http, backend, seed=21, image_size="768x512")
    backend.set_faults(image="huge")
    with http.get(url, timeout=5, stream=True) as resp:
        assert resp.status_code == 200
        assert int(resp.headers["Content-Length"]) > 50 * 1024 * 1024
        head = resp.raw.read(65536)
        assert head.startswith(b"\x89PNG\r\n\x1a\n")


def test_image_bomb(backend: FakeApi, http: requests.Session) -> None:
    resp = image_with_fault(http, backend, "bomb")
    data = resp.content
    assert resp.status_code == 200
    assert len(data) < 10 * 1024
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24]) == (30000, 30000)
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(data))


def test_image_slow(backend: FakeApi, http: requests.Session) -> None:
    started = time.monotonic()
    resp = image_with_fault(http, backend, "slow", image_delay=0.2)
    assert resp.status_code == 200
    assert time.monotonic() - started >= 0.2
    assert resp.content.startswith(b"\x89PNG")


# --------------------------------------------------------------------------- stats, reset, lifecycle


def test_stats_counts_and_last_request(backend: FakeApi, http: requests.Session) -> None:
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


def test_reset_clears_knobs_and_counters(backend: FakeApi, http: requests.Session) -> None:
    backend.set_faults(status=500, delay=0.01)
    generate(http, backend)
    assert control(http, backend, "reset", {}).status_code == 200
    stats = backend.stats()
    assert stats["faults"] == {}
    assert stats["generation_requests"] == stats["image_requests"] == stats["max_in_flight"] == 0
    assert stats["last_request"] is None
    assert generate(http, backend).status_code == 200


def test_two_instances_do_not_share_state(backend: FakeApi, http: requests.Session) -> None:
    with FakeApi(api_key=KEY) as other:
        other.set_faults(status=500)
        assert generate(http, backend).status_code == 200
        assert generate(http, other).status_code == 500
        assert backend.port != other.port


def test_it_runs_alone_and_prints_its_base_url() -> None:
    root = Path(__file__).resolve().parents[1]
    cmd = [sys.executable, "-m", "tests.support.fake_api", "--port", "0"]
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


def test_stats_say_whether_each_kind_of_request_carried_a_key(backend: FakeApi, http: requests.Session) -> None:
    url = image_url(http, backend, seed=5)
    http.get(url, timeout=5)
    stats = backend.stats()
    assert stats["last_headers_auth_present"] is True and stats["last_image_auth_present"] is False
    http.get(url, headers={"Authorization": f"Bearer {KEY}"}, timeout=5)
    assert backend.stats()["last_image_auth_present"] is True


def test_echo_auth_quotes_the_key_in_a_400(backend: FakeApi, http: requests.Session) -> None:
    """A careless API that repeats the request's Authorization header in its error body."""
    backend.set_faults(status=400, echo_auth=True)
    resp = generate(http, backend)
    assert resp.status_code == 400 and KEY in resp.json()["error"]["message"]
    backend.set_faults(echo_auth=None)
    assert KEY not in generate(http, backend).text

