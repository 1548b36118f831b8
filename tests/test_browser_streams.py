"""What a page shows when it reads an event's streamed steps late, in real Chromium.

Gradio sends a generator's steps as patches, and its page applies each patch in place
onto the objects it handed out for the previous step. On a busy machine the page may
read a step only after the next one arrived, already patched: a step that skipped the
result image then emptied the update that showed it ("Done" and the info line, but no
picture; the CI failure of test_enter_generates_and_the_image_is_in_history_with_its_prompt).

Here the page gets each event's stream in one piece (the `page` fixture), which makes
that late reading certain instead of a matter of load.
"""

from __future__ import annotations

import re
from typing import Iterator

import pytest

from .browser import PROMPT, WAIT_MS, require_playwright, set_batch_count
from .conftest import token

pytestmark = pytest.mark.browser

expect = require_playwright()

STREAMS = re.compile(r"/gradio_api/queue/data\b")


@pytest.fixture
def page(open_page, demo_app) -> Iterator:
    """The demo app in a page that gets every event stream (`/gradio_api/queue/data`) whole, once it ends."""
    def whole(route) -> None:
        route.fulfill(response=route.fetch(timeout=2 * WAIT_MS))

    page = open_page(demo_app)
    page.route(STREAMS, whole)
    yield page
    page.unroute_all(behavior="ignoreErrors")  # a stream still open when the page closes


def expect_result(page, prompt: str) -> str:
    """The result shows a saved PNG described by `prompt`, the one the info line names; its file name."""
    image = page.locator("#result img")
    expect(image).to_have_attribute("alt", re.compile(re.escape(prompt)))
    expect(image).to_have_attribute("src", re.compile(r"\.png$"))
    name = image.get_attribute("src").rsplit("/", 1)[-1]
    expect(page.locator("#result-info")).to_contain_text(name)
    return name


def test_a_picture_read_late_is_still_shown(page):
    for _ in range(2):  # the second replaces the first
        prompt = f"a lantern in the snow {token()}"
        page.locator(PROMPT).fill(prompt)
        page.locator(PROMPT).press("Enter")
        expect(page.locator("#status .status-line")).to_have_attribute("data-state", "done")
        expect_result(page, prompt)


def test_a_batch_read_late_ends_on_its_last_picture(page):
    set_batch_count(page, 3)
    expect(page.locator("#batch-results")).to_be_visible()
    prompt = f"three paper cranes {token()}"
    page.locator(PROMPT).fill(prompt)
    page.locator("#generate").click()
    expect(page.locator("#status .status-line")).to_have_attribute("data-state", "done")
    expect(page.locator("#batch-results .gallery-item")).to_have_count(3)
    expect_result(page, prompt)
