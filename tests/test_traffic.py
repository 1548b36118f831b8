"""Issue 16 (5, 6, 8, 9, 10): floods, login guessing, foreign hosts, echoed keys, unstorable text.

Each test drives an app built in this process over HTTP, the way an attacker would.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Iterator

import pytest
from gradio_client import Client

from webui.config import Secret

from .conftest import TEST_KEY, token
from .inprocess import CallFailed, Served, call, served
from .support.fake_api import FakeApi

ARGS = ("FLUX.1-schnell", "768x512", False, 5)


# --------------------------------------------------------------------------- 16.9 an echoed key


def test_a_key_echoed_by_the_api_reaches_neither_the_visitor_nor_the_log(
    fake: FakeApi, tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    """A 400 body that quotes our Authorization header is relayed without the key or any Bearer token."""
    caplog.set_level(logging.DEBUG)
    fake.reset()
    fake.set_faults(status=400, echo_auth=True)
    try:
        with served(tmp_path, api_key=Secret(TEST_KEY), api_base=fake.base_url) as app:
            with pytest.raises(Exception) as refused:
                Client(app.url, verbose=False).predict("echo", *ARGS, api_name="/generate")
    finally:
        fake.set_faults(status=None, echo_auth=None)
    message = str(refused.value)
    assert "injected by the fake API" in message  # the API's words did reach the visitor
    assert TEST_KEY not in message and "Bearer sk" not in message
    assert TEST_KEY not in caplog.text


# --------------------------------------------------------------------------- 16.10 text that must be storable


@pytest.fixture(scope="module")
def demo(fake: FakeApi, tmp_path_factory) -> Iterator[Served]:
    """One in-process app against the fake API (it counts calls), for the tests that need no special settings."""
    with served(tmp_path_factory.mktemp("traffic-demo"), api_key=Secret(TEST_KEY), api_base=fake.base_url) as app:
        yield app


def _api_calls(fake: FakeApi) -> int:
    return fake.stats()["generation_requests"]


def test_a_prompt_of_only_control_characters_is_refused_before_the_api(demo: Served, fake: FakeApi) -> None:
    before = _api_calls(fake)
    for prompt in ("\x00\x00\x00", "\ud800\x07\r", " \x1b\x7f "):
        with pytest.raises(CallFailed, match="type a prompt"):
            call(demo.url, "generate", prompt, *ARGS)
    assert _api_calls(fake) == before


def test_lone_surrogates_and_control_characters_are_cleaned_and_the_image_is_listed(demo: Served) -> None:
    word = token()
    _, record = call(demo.url, "generate", f"sur\ud800ro\x07gate {word}\tline\r\nnext", "FLUX.1-schnell\udfff",
                     "768x512", False, 5)
    assert record["prompt"] == f"surrogate {word}\tline\nnext"
    assert record["model"] == "FLUX.1-schnell"
    listed = Client(demo.url, verbose=False).predict(word, 0, 10, api_name="/history")
    assert [r["id"] for r in listed] == [record["id"]]


def test_an_image_the_index_refused_is_still_listed_and_the_caller_is_told(
    demo: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = demo.app.storage.index
    real_add = index.add

    def refuse_once(record):
        monkeypatch.setattr(index, "add", real_add)
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(index, "add", refuse_once)
    word = token()
    path, record = Client(demo.url, verbose=False).predict(f"unindexed {word}", *ARGS, api_name="/generate")
    assert Path(path).is_file()
    assert "history list could not be updated" in record["warning"]
    listed = Client(demo.url, verbose=False).predict(word, 0, 10, api_name="/history")
    assert [r["id"] for r in listed] == [record["id"]]
