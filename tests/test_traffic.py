"""Issue 16 (5, 6, 8, 9, 10): floods, login guessing, foreign hosts, echoed keys, unstorable text.

Each test drives an app built in this process over HTTP, the way an attacker would.
"""

from __future__ import annotations

import logging

import pytest
from gradio_client import Client

from webui.config import Secret
from webui.demo_backend import DemoBackend

from .conftest import TEST_KEY
from .inprocess import served

ARGS = ("FLUX.1-schnell", "768x512", False, 5)


# --------------------------------------------------------------------------- 16.9 an echoed key


def test_a_key_echoed_by_the_api_reaches_neither_the_visitor_nor_the_log(
    fake: DemoBackend, tmp_path, caplog: pytest.LogCaptureFixture
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
    assert "injected by demo backend" in message  # the API's words did reach the visitor
    assert TEST_KEY not in message and "Bearer sk" not in message
    assert TEST_KEY not in caplog.text
