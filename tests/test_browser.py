"""End-to-end tests in a real browser (headless Chromium through Playwright).

They drive the launched demo app (`demo_app`) the way a person does: type, click,
press keys, read toasts. Skipped when Chromium or Playwright is missing, unless
REQUIRE_BROWSER=1 (CI), in which case a missing browser is an error.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin

import pytest

from .browser import PNG_SIGNATURE, PROMPT, require_playwright
from .conftest import ARTIFACTS, pngs, record_of, token, wait_until
from .support.apps import api_client

pytestmark = pytest.mark.browser

expect = require_playwright()


# -- fixtures -------------------------------------------------------------------------

# -- helpers --------------------------------------------------------------------------

def new_png(outputs: Path, before: set[Path], what: str) -> Path:
    """Wait for exactly one new PNG to appear and return it."""
    new = wait_until(lambda: pngs(outputs) - before, timeout=30, what=what)
    assert len(new) == 1, f"expected one new image, got {sorted(map(str, new))}"
    return new.pop()



# -- tests ----------------------------------------------------------------------------

def test_generate_shows_saved_png_and_updates_gallery(open_page, demo_app):
    page = open_page()
    expect(page.locator("#banner")).to_contain_text("Demo mode")
    prompt = f"a clockwork lighthouse at dusk {token()}"  # < 80 chars: the caption is not cut
    before = pngs(demo_app.outputs)

    page.locator("#prompt textarea").fill(prompt)
    page.locator("#generate").click()

    image = page.locator("#result img")
    expect(image).to_be_visible()
    expect(image).to_have_attribute("src", re.compile(r".+\.png$"))
    answer = page.request.get(urljoin(page.url, image.get_attribute("src")))
    assert answer.ok, answer.status
    shown = answer.body()
    assert shown.startswith(PNG_SIGNATURE), f"result is not a PNG: {shown[:16]!r}"

    info = page.locator("#result-info")
    expect(info).to_contain_text(re.compile(r"Seed\s+\d+"))
    seed = re.search(r"Seed\s+(\d+)", info.inner_text()).group(1)

    # Newest first: the first gallery item is the new picture, captioned with its prompt.
    first = page.locator("#gallery .gallery-item").first
    expect(first.locator(".caption-label")).to_have_text(prompt)
    expect(first.locator("img")).to_have_attribute("alt", prompt)

    saved = new_png(demo_app.outputs, before, "the generated PNG on disk")
    assert seed in saved.name
    assert shown == saved.read_bytes(), "the page shows something else than the saved PNG"
    record = record_of(saved)
    assert record["prompt"] == prompt and str(record["seed"]) == seed

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser-generate.png"), full_page=True)


def test_enter_generates_and_shift_enter_does_not(open_page, demo_app):
    page = open_page()
    box = page.locator(PROMPT)
    info = page.locator("#result-info")

    # Enter: one generation of exactly what was typed, no newline left in the box.
    prompt = f"a paper boat on a puddle {token()}"
    before = pngs(demo_app.outputs)
    box.fill(prompt)
    box.press("Enter")
    saved = new_png(demo_app.outputs, before, "a PNG after pressing Enter")
    expect(info).to_contain_text(saved.name)
    assert "\n" not in box.input_value()
    assert record_of(saved)["prompt"] == prompt
    assert len(pngs(demo_app.outputs) - before) == 1

    # Shift+Enter: no generation. A click then generates once, with both lines.
    # (Had Shift+Enter started one, the click would be ignored while it runs, and the
    # only new file would hold the first line alone.)
    first, second = f"a red kite {token()}", f"over green hills {token()}"
    before = pngs(demo_app.outputs)
    box.fill(first)
    box.press("Shift+Enter")
    box.press_sequentially(second)
    page.locator("#generate").click()
    saved = new_png(demo_app.outputs, before, "a PNG after Shift+Enter and a click")
    expect(info).to_contain_text(saved.name)
    assert len(pngs(demo_app.outputs) - before) == 1
    saved_prompt = record_of(saved)["prompt"]
    assert first in saved_prompt and second in saved_prompt, saved_prompt


def test_shift_enter_adds_a_line(open_page, demo_app):
    page = open_page()
    box = page.locator(PROMPT)
    first, second = f"a quiet harbour {token()}", f"in the fog {token()}"
    box.fill(first)
    box.press("Shift+Enter")
    box.press_sequentially(second)
    assert box.input_value() == f"{first}\n{second}"

    before = pngs(demo_app.outputs)
    page.locator("#generate").click()
    saved = new_png(demo_app.outputs, before, "a PNG of a two-line prompt")
    assert record_of(saved)["prompt"] == f"{first}\n{second}"


@pytest.mark.parametrize(("locale", "message", "generate", "prompt_label"), [
    ("en-US", "Please type a prompt first", "Generate", "Prompt"),
    ("zh-CN", "请先输入提示词", "生成", "提示词"),
], ids=["en", "zh"])
def test_empty_prompt_error_in_visitors_language(open_page, demo_app, locale, message, generate,
                                                 prompt_label):
    page = open_page(locale=locale)
    # gr.I18n labels follow the browser's language.
    expect(page.locator("#generate")).to_have_text(generate)
    expect(page.locator("#prompt [data-testid='block-info']")).to_have_text(prompt_label)

    before = pngs(demo_app.outputs)
    page.locator(PROMPT).fill("")
    with page.expect_request(lambda request: "/queue/join" in request.url) as joined:
        page.locator("#generate").click()
    # The server picks the message language from Accept-Language, set by the locale.
    language = joined.value.all_headers().get("accept-language", "")
    assert language.startswith(locale), language

    line = page.locator("#status .status-line")
    expect(line).to_contain_text(message)
    expect(line).to_have_attribute("data-state", "error")
    expect(page.locator(".toast-body")).to_have_count(0)
    if locale != "en-US":
        expect(line).not_to_contain_text("Please type")
    # The error came back from the server, so the handler is done: nothing was saved.
    assert pngs(demo_app.outputs) == before


def test_html_in_a_prompt_is_shown_as_text(open_page, demo_app):
    """A prompt is data: markup in it shows as typed in captions and details, and never runs."""

    hostile = f'<img src=x onerror="window.__xss=1"><b>bold</b> {token()}'
    api_client(demo_app.url).predict(hostile, "FLUX.1-schnell", "768x512", False, 3,
                                                 api_name="/generate")
    page = open_page()
    gallery = page.locator("#gallery")
    expect(gallery).to_contain_text('<img src=x onerror="window.__xss=1"><b>bold</b>')
    page.locator("#gallery .gallery-item").first.click()
    expect(page.locator("#result-info")).to_contain_text("Seed")
    assert page.evaluate("() => window.__xss") is None
    assert page.locator("#gallery b, #result-info b, #gallery img[src='x']").count() == 0
