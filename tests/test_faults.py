"""Every fault the real API can show, injected over HTTP into a fake the app (in-process) talks to.

For each: a clear message in the user's language, no file or temporary file left,
no history row, and the app serves the next request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from webui.errors import ApiTimeoutError
from webui.storage import THUMBS_DIR

from .conftest import TEST_KEY, free_port
from .support.apps import ServedApp, api_client, serve_app
from .support.fake_api import FakeApi
from .support.faults import FAULTS, Fault, fault_id
from .support.waits import RecordedWaits

TIMEOUT = 2  # the app's --timeout for this module


@pytest.fixture(scope="module")
def waits() -> RecordedWaits:
    """The app's pauses between API retries, recorded instead of slept."""
    return RecordedWaits()


@pytest.fixture(scope="module")
def app(fake: FakeApi, waits: RecordedWaits, tmp_path_factory) -> Iterator[ServedApp]:
    served = serve_app(
        tmp_path_factory.mktemp("faults"),
        "--timeout", str(TIMEOUT),
        env=fake.app_env(),
        retry_wait=waits,
    )
    yield served
    served.stop()


@pytest.fixture(scope="module")
def en(app: ServedApp) -> Client:
    return api_client(app.url, headers={"Accept-Language": "en-US,en;q=0.9"})


@pytest.fixture(scope="module")
def zh(app: ServedApp) -> Client:
    return api_client(app.url, headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})


@pytest.fixture(autouse=True)
def clean_fake(fake: FakeApi, waits: RecordedWaits) -> Iterator[None]:
    fake.reset()
    waits.clear()
    yield
    fake.reset()


def all_files(outputs: Path) -> set[Path]:
    return {p for p in outputs.rglob("*") if p.is_file() and THUMBS_DIR not in p.parts}


def submit(client: Client, prompt: str = "a quiet harbour", model: str = "FLUX.1-schnell", seed: int = 11):
    return client.submit(prompt, model, "768x512", False, seed, api_name="/generate")


def generate(client: Client, prompt: str = "a quiet harbour", model: str = "FLUX.1-schnell", seed: int = 11):
    return submit(client, prompt, model, seed).result(timeout=120)


APP_FAULTS = [
    *FAULTS,  # every other answer, in tests/support/faults.py; the timeouts need this app's --timeout:
    Fault({"hang": TIMEOUT + 3}, ApiTimeoutError, f"did not answer within {TIMEOUT} s", f"{TIMEOUT} 秒内没有响应"),
    Fault({"image": "slow", "image_delay": TIMEOUT + 3}, ApiTimeoutError, f"did not answer within {TIMEOUT} s", "没有响应"),
]


@pytest.mark.parametrize("fault", APP_FAULTS, ids=fault_id)
def test_fault_gives_a_clear_message_and_leaves_nothing(app, fake, en, zh, fault: Fault) -> None:
    before = all_files(app.outputs)
    rows = len(en.predict("", 0, 500, api_name="/history"))
    fake.set_faults(**fault.knobs)
    # Both languages at once (one client each): a timeout row waits out --timeout once, not twice.
    jobs = [(submit(client), words) for client, words in ((en, fault.english), (zh, fault.chinese))]
    for job, words in jobs:
        with pytest.raises(AppError) as caught:
            job.result(timeout=120)
        assert words in str(caught.value)
        assert TEST_KEY not in str(caught.value)
    assert all_files(app.outputs) == before, "a failed generation left a file behind"
    assert len(en.predict("", 0, 500, api_name="/history")) == rows
    fake.reset()
    _, record = generate(en, seed=12)
    assert record["seed"] == 12 and (app.outputs / record["file"]).is_file()


def test_unknown_model_message_names_the_model(en, zh, fake) -> None:
    for client, words in ((en, "Pick another model"), (zh, "请从列表中选择其他模型")):
        with pytest.raises(AppError) as caught:
            generate(client, model="flux-9000-ultra")
        assert "flux-9000-ultra" in str(caught.value) and words in str(caught.value)
    assert fake.stats()["generation_requests"] == 2  # 404 is never retried


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_jpeg_and_webp_answers_are_saved_as_png(app, en, fake, fmt) -> None:
    fake.set_faults(image=fmt)
    path, record = generate(en, seed=21)
    saved = app.outputs / record["file"]
    assert saved.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert Path(path).read_bytes() == saved.read_bytes()


def test_rate_limit_with_short_retry_after_is_retried_transparently(en, fake, waits) -> None:
    fake.set_faults(status=429, count=2, retry_after=1)
    _, record = generate(en, seed=31)
    assert record["seed"] == 31
    assert fake.stats()["generation_requests"] == 3
    assert waits == [1, 1]  # Retry-After honoured before each try


def test_503_is_retried_then_succeeds(en, fake) -> None:
    fake.set_faults(status=503, count=1, retry_after=0)
    _, record = generate(en, seed=32)
    assert record["seed"] == 32 and fake.stats()["generation_requests"] == 2


def test_connection_refused_is_a_plain_message(serve) -> None:
    app = serve(env={"YUNYX_API_KEY": TEST_KEY, "YUNYX_API_BASE": f"http://127.0.0.1:{free_port()}/v1"})
    client = api_client(app.url)
    with pytest.raises(AppError, match="Could not reach the image service"):
        generate(client)
    assert not [p for p in app.outputs.rglob("*.png")]
