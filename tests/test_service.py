"""The service against the demo backend over real HTTP, with every fault injected."""

from __future__ import annotations

import time
from typing import Iterator

import pytest

from webui import metadata
from webui.errors import (
    ApiTimeoutError,
    AuthError,
    BadRequestError,
    ConnectionFailedError,
    RateLimitedError,
    UnavailableError,
    UnknownModelError,
    render,
)
from webui.service import GenerationParams, ImageService, unescape_url

from .conftest import TEST_KEY, free_port
from .support.fake_api import FakeApi
from .support.faults import FAULTS, Fault, fault_id
from .support.waits import RecordedWaits

PARAMS = GenerationParams("a lighthouse at dusk, oil painting", "FLUX.1-schnell", "768x512", False, 42)


@pytest.fixture
def waits() -> RecordedWaits:
    return RecordedWaits()


@pytest.fixture
def service(backend: FakeApi, waits: RecordedWaits) -> Iterator[ImageService]:
    svc = ImageService(backend.base_url, TEST_KEY, timeout=5, max_retries=3, max_retry_wait=3, retry_wait=waits)
    yield svc
    svc.close()


def test_generate_downloads_the_png_and_reports_seed_and_inference(service, backend) -> None:
    image = service.generate(PARAMS)
    assert image.png.startswith(metadata.PNG_SIGNATURE) and image.source_type == "png"
    assert image.seed == 42 and isinstance(image.inference, (int, float))
    sent = backend.stats()["last_request"]
    assert sent == {"model": "FLUX.1-schnell", "prompt": PARAMS.prompt, "image_size": "768x512",
                    "prompt_enhancement": False, "seed": 42}


def test_the_png_bytes_arrive_unchanged(service, backend) -> None:
    """What the API serves is what we return: no decode, no re-encode."""
    import requests

    image = service.generate(PARAMS)
    again = GenerationParams(**{**PARAMS.__dict__})
    # The backend is deterministic: fetch the same picture directly and compare bytes.
    with requests.Session() as s:
        s.trust_env = False
        answer = s.post(backend.base_url + "/images/generations", json=again.payload(),
                        headers={"Authorization": f"Bearer {TEST_KEY}"}).json()
        direct = s.get(unescape_url(answer["images"][0]["url"])).content
    assert image.png == direct


def test_unescape_url_turns_literal_escapes_into_characters() -> None:
    assert unescape_url("http://h/x.png?a=1\\u0026b=2") == "http://h/x.png?a=1&b=2"
    assert unescape_url("http://h/\\u00e9\\u003d") == "http://h/é="
    assert unescape_url("http://h/plain?a=1&b=2") == "http://h/plain?a=1&b=2"


def test_seed_none_lets_the_api_choose_and_reports_it(service) -> None:
    image = service.generate(GenerationParams("x", "FLUX.1-schnell", "768x512", False, None))
    assert isinstance(image.seed, int) and 0 <= image.seed <= 9_999_999_999


@pytest.mark.parametrize("fault", FAULTS, ids=fault_id)
def test_each_fault_is_a_typed_error_with_a_plain_message(service, backend, fault: Fault) -> None:
    backend.set_faults(**fault.knobs)
    with pytest.raises(fault.error) as caught:
        service.generate(PARAMS)
    en, zh = render(caught.value, "en"), render(caught.value, "zh")
    assert fault.english in en and fault.chinese in zh
    assert TEST_KEY not in en + zh + repr(caught.value)


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_jpeg_and_webp_are_converted_to_png_once(service, backend, fmt) -> None:
    backend.set_faults(image=fmt)
    image = service.generate(PARAMS)
    assert image.source_type == fmt
    assert image.png.startswith(metadata.PNG_SIGNATURE)


def test_wrong_key_is_auth_error_and_never_retried(backend) -> None:
    svc = ImageService(backend.base_url, "wrong-key", timeout=5)
    with pytest.raises(AuthError):
        svc.generate(PARAMS)
    assert backend.stats()["generation_requests"] == 1


def test_unknown_model_names_the_model_and_is_not_retried(service, backend) -> None:
    with pytest.raises(UnknownModelError) as caught:
        service.generate(GenerationParams("x", "no-such-model-v9", "768x512", False, 1))
    assert "no-such-model-v9" in render(caught.value, "en")
    assert "no-such-model-v9" in render(caught.value, "zh")
    assert backend.stats()["generation_requests"] == 1


def test_bad_request_is_not_retried(service, backend) -> None:
    backend.set_faults(status=400)
    with pytest.raises(BadRequestError):
        service.generate(PARAMS)
    assert backend.stats()["generation_requests"] == 1


@pytest.mark.parametrize("status", [429, 503])
def test_429_and_503_are_retried_then_succeed(service, backend, status) -> None:
    backend.set_faults(status=status, count=2, retry_after=0)
    image = service.generate(PARAMS)
    assert image.seed == 42
    assert backend.stats()["generation_requests"] == 3


def test_retry_after_is_honoured(service, backend, waits) -> None:
    backend.set_faults(status=429, count=1, retry_after=2)
    service.generate(PARAMS)
    assert waits == [2]
    assert backend.stats()["generation_requests"] == 2


def test_the_real_clock_waits_by_default(backend) -> None:
    """Without an injected wait the service really pauses for Retry-After."""
    backend.set_faults(status=429, count=1, retry_after=1)
    svc = ImageService(backend.base_url, TEST_KEY, timeout=5)
    started = time.monotonic()
    try:
        svc.generate(PARAMS)
    finally:
        svc.close()
    assert time.monotonic() - started >= 0.9


def test_retries_are_bounded_in_count(service, backend) -> None:
    backend.set_faults(status=503, retry_after=0)
    with pytest.raises(UnavailableError):
        service.generate(PARAMS)
    assert backend.stats()["generation_requests"] == 4  # one try + max_retries


def test_a_long_retry_after_is_not_waited_out_but_reported(service, backend, waits) -> None:
    """Retry-After beyond the total-wait budget: fail fast with 'try again in N s'."""
    backend.set_faults(status=429, retry_after=120)
    with pytest.raises(RateLimitedError) as caught:
        service.generate(PARAMS)
    assert waits == []
    assert caught.value.retry_after == 120
    assert "about 2 min" in render(caught.value, "en") and "大约 2 分钟" in render(caught.value, "zh")
    assert backend.stats()["generation_requests"] == 1


def test_429_without_retry_after_backs_off_and_reports(service, backend, waits) -> None:
    backend.set_faults(status=429)
    with pytest.raises(RateLimitedError) as caught:
        service.generate(PARAMS)
    assert "Try again in" in render(caught.value, "en")
    assert 2 <= backend.stats()["generation_requests"] <= 4
    assert waits and waits == sorted(waits) and sum(waits) <= 3  # growing back-off within the budget


def test_api_that_hangs_times_out(backend) -> None:
    svc = ImageService(backend.base_url, TEST_KEY, timeout=0.5)
    backend.set_faults(hang=30)  # interruptible: the backend's stop() ends it
    started = time.monotonic()
    with pytest.raises(ApiTimeoutError) as caught:
        svc.generate(PARAMS)
    assert time.monotonic() - started < 15  # gave up after its timeout, not after the hang (a margin for a busy machine)
    assert "0.5" in render(caught.value, "en")


def test_image_host_that_hangs_times_out(backend) -> None:
    svc = ImageService(backend.base_url, TEST_KEY, timeout=0.5)
    backend.set_faults(image="slow", image_delay=3)
    with pytest.raises(ApiTimeoutError):
        svc.generate(PARAMS)


def test_connection_refused_is_a_plain_message() -> None:
    svc = ImageService(f"http://127.0.0.1:{free_port()}/v1", TEST_KEY, timeout=2)
    with pytest.raises(ConnectionFailedError) as caught:
        svc.generate(PARAMS)
    assert "Could not reach the image service" in render(caught.value, "en")


def test_the_key_is_sent_to_the_api_but_not_to_the_image_host(service, backend) -> None:
    service.generate(PARAMS)
    stats = backend.stats()
    assert stats["generation_requests"] == stats["image_requests"] == 1
    assert stats["last_headers_auth_present"] is True
    assert stats["last_image_auth_present"] is False  # test_fake_api shows it can be True


def test_service_repr_hides_the_key(service) -> None:
    assert TEST_KEY not in repr(service)


def test_a_malformed_retry_after_means_the_usual_backoff(service, backend) -> None:
    backend.set_faults(status=429, retry_after="soon")
    with pytest.raises(RateLimitedError) as caught:
        service.generate(PARAMS)
    assert "Try again in" in render(caught.value, "en")
    assert backend.stats()["generation_requests"] >= 2  # it did retry


def test_retry_after_zero_means_no_wait_at_all(service, backend, waits) -> None:
    """`Retry-After: 0` is "now", not urllib3's back-off (which the 30 s budget never counted)."""
    backend.set_faults(status=429, count=3, retry_after=0)
    service.generate(PARAMS)
    assert backend.stats()["generation_requests"] == 4
    assert waits == []
