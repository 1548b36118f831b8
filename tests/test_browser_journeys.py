"""A non-programmer's first ten minutes, in real Chromium: the acceptance journeys.

First visit in demo mode (English and Chinese, nothing half-translated), the banner
with a key, generate-then-history, API errors read as guidance, a phone and a laptop
layout, keyboard only, and progress / double clicks / Stop while the API is slow.

Two apps: the shared demo app (`demo_app`, no key) and one with a key, pointed at a
fake API (`FakeApi`) whose faults the tests set over HTTP. Skipped when Chromium
or Playwright is missing, unless REQUIRE_BROWSER=1 (CI), as in tests/test_browser.py.
Screenshots and the recorded Tab order go to tests/artifacts/.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import pytest

from webui.i18n import LABELS

from .browser import (
    PROMPT,
    SCREENS,
    WAIT_MS,
    focused_control,
    generate,
    horizontal_overflow,
    open_history,
    record_errors,
    require_playwright,
    wait_until_ready,
    wait_until_settled,
)
from .conftest import ARTIFACTS, TEST_KEY, pngs, token, wait_until
from .support.apps import ServedApp, serve_app
from .support.fake_api import FakeApi

pytestmark = pytest.mark.browser

expect = require_playwright()

EN, ZH = LABELS["en"], LABELS["zh"]
LANG = {"en-US": "en", "zh-CN": "zh"}

# Labels a visitor reads on the Generate tab (taken from the catalogue, so a renamed
# label is still checked): in one language, none of the other language's may show.
PAGE_LABELS = [
    "generate", "prompt", "model", "model_info", "size", "enhance", "enhance_info", "seed", "seed_info",
    "random_seed", "reuse_seed", "stop", "result", "details", "recent", "batch", "help_title",
    "tab_history", "tab_compare", "tab_pnginfo",
]



# -- fixtures -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def keyed_app(fake: FakeApi, tmp_path_factory) -> Iterator[ServedApp]:
    """The app as someone with a key runs it, talking to the fake."""
    app = serve_app(tmp_path_factory.mktemp("journeys-keyed"),
                    env=fake.app_env())
    yield app
    app.stop()


@pytest.fixture
def live(fake: FakeApi, keyed_app: ServedApp) -> Iterator[tuple[ServedApp, FakeApi]]:
    """The keyed app and its fake, with no fault left over from another test."""
    fake.reset()
    yield keyed_app, fake
    fake.reset()


# -- helpers --------------------------------------------------------------------------


def shot(page, name: str, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=full_page)
    return path


def visible_labels(page, texts) -> list[str]:
    """Those of `texts` shown on the page as the whole text of a visible element."""
    return [t for t in texts if page.get_by_text(t, exact=True).filter(visible=True).count()]


def box(page, selector: str) -> dict:
    found = page.locator(selector).bounding_box()
    assert found, f"{selector} has no box (not displayed)"
    return found


def thumbnail_loaded(item) -> int:
    """Natural width of a gallery item's image once decoded (0 = broken)."""
    return item.locator("img").evaluate("img => img.decode().then(() => img.naturalWidth, () => 0)")


# -- 1. first visit in demo mode ------------------------------------------------------

@pytest.mark.parametrize("locale", ["en-US", "zh-CN"], ids=["en", "zh"])
def test_first_visit_in_demo_mode_explains_the_key_in_one_language(open_page, demo_app, locale):
    lang = LANG[locale]
    here, other = LABELS[lang], LABELS["zh" if lang == "en" else "en"]
    page = open_page(demo_app, locale)

    banner = page.locator("#banner")
    expect(banner).to_be_in_viewport()
    expect(banner).to_contain_text("演示模式" if lang == "zh" else "Demo mode")
    # One line; the setup steps fold out beside it, for whoever runs the app (no login here).
    assert banner.bounding_box()["height"] < 60
    howto = page.locator("#demo-howto")
    expect(howto).to_be_visible()
    howto.get_by_text(here["demo_howto_title"]).click()
    expect(howto).to_contain_text("YUNYX_API_KEY")
    expect(howto).to_contain_text(".env")
    expect(howto.locator("ol > li")).to_have_count(2)  # step 1: the .env line, step 2: restart
    expect(howto.locator("ol > li").first).to_contain_text("YUNYX_API_KEY")

    expect(page.locator("#generate")).to_have_text(here["generate"])
    expect(page.get_by_role("tab", name=here["tab_history"], exact=True)).to_be_visible()
    expect(page.locator("#prompt [data-testid='block-info']")).to_have_text(here["prompt"])
    expect(page.locator(PROMPT)).to_have_attribute("placeholder", here["prompt_placeholder"])

    # No mixed-language screen: none of the other language's labels is shown as a label.
    foreign = [other[k] for k in PAGE_LABELS if other[k] != here[k]]
    assert visible_labels(page, foreign) == [], f"{locale}: labels of the other language on screen"
    shot(page, f"journey-first-visit-{lang}.png")


# -- 2. with a key ----------------------------------------------------------------------

def test_with_a_key_the_banner_says_connected_and_the_key_never_reaches_the_page(open_page, live):
    app, fake = live
    page = open_page(app)
    banner = page.locator("#banner")
    expect(banner).to_have_text(EN["live_banner"])
    expect(banner).not_to_have_class(re.compile(r"\bdemo\b"))
    expect(page.locator("#api-base")).to_contain_text(fake.base_url)

    seen = {
        "page HTML": page.content(),
        "window.gradio_config": page.evaluate("() => JSON.stringify(window.gradio_config)"),
    }
    for route in ("config", "gradio_api/info"):
        answer = page.request.get(app.url + route)
        assert answer.ok, f"GET /{route}: {answer.status}"
        seen[f"GET /{route}"] = answer.text()
    assert "live_banner" in seen["GET /config"] and EN["live_banner"] in seen["page HTML"]
    leaks = [where for where, text in seen.items() if TEST_KEY in text]
    assert not leaks, f"the API key is readable in: {leaks}"


# -- 3. generate, then see it in history ---------------------------------------------------

def test_enter_generates_and_the_image_is_in_history_with_its_prompt(open_page, demo_app):
    page = open_page(demo_app)
    prompt = f"a tin robot watering tulips {token()}"  # < 80 chars: the caption is not cut
    box_ = page.locator(PROMPT)
    box_.fill(prompt)
    box_.press("Enter")

    image = page.locator("#result img")
    expect(image).to_be_visible()
    expect(image).to_have_attribute("src", re.compile(r"\.png$"))
    name = image.get_attribute("src").rsplit("/", 1)[-1]
    expect(page.locator("#result-info")).to_contain_text(name)

    items = open_history(page, "en")
    newest = items.first
    expect(newest.locator(".caption-label")).to_contain_text(prompt)
    expect(newest.locator("img")).to_be_visible()
    assert thumbnail_loaded(newest) > 0, "the history thumbnail did not load"


# -- 4. errors as guidance ---------------------------------------------------------------

ERRORS = [
    # (faults, locale, words in the status line, screenshot)
    ({"status": 401}, "en-US", "YUNYX_API_KEY (environment or .env file", "journey-401-en.png"),
    ({"status": 401}, "zh-CN", "YUNYX_API_KEY（环境变量或 launch.py 旁的 .env 文件）", "journey-401-zh.png"),
    ({"status": 429, "retry_after": 120}, "en-US", "Try again in about 2 min", "journey-429-en.png"),
    ({"status": 429, "retry_after": 120}, "zh-CN", "大约 2 分钟后重试", "journey-429-zh.png"),
]


def fail_once(page, app: ServedApp, fake: FakeApi, faults: dict, words: str):
    """Set `faults`, press Enter on a prompt, return the error in #status showing `words`."""
    before = pngs(app.outputs)
    fake.set_faults(**faults)
    page.locator(PROMPT).fill(f"a harbour in the rain {token()}")
    page.locator(PROMPT).press("Enter")
    line = page.locator("#status .status-line")
    expect(line).to_contain_text(words)
    expect(line).to_have_attribute("data-state", "error")
    # Nothing added: no result, no file, no thumbnail; and no retry of a 401 or a long 429.
    expect(page.locator("#result img")).to_have_count(0)
    assert pngs(app.outputs) == before
    expect(page.locator("#gallery .gallery-item")).to_have_count(min(len(before), 24))
    assert fake.stats()["generation_requests"] == 1
    return line


@pytest.mark.parametrize(("faults", "locale", "words", "screenshot"), ERRORS,
                         ids=["401-en", "401-zh", "429-en", "429-zh"])
def test_api_errors_are_guidance_in_the_visitors_language(open_page, live, faults, locale, words, screenshot):
    app, fake = live
    page = open_page(app, locale)
    line = fail_once(page, app, fake, faults, words)
    assert TEST_KEY not in line.inner_text()
    # It stays under the result (never only a toast), with no bare "Error" pill anywhere.
    expect(page.locator(".toast-body")).to_have_count(0)
    expect(page.locator("#retry")).to_be_visible()
    if locale == "zh-CN":
        expect(line).not_to_contain_text(re.compile("Check|Try again"))
    shot(page, screenshot, full_page=False)


# -- 5. phone width ---------------------------------------------------------------------

def test_phone_has_no_horizontal_scroll_and_stacks_form_over_result(open_page, demo_app):
    page = open_page(demo_app, **SCREENS["phone"])
    prompt = f"a fox on a bicycle {token()}"
    generate(page, prompt)
    recent = page.locator("#gallery .gallery-item").first
    expect(recent.locator(".caption-label")).to_have_text(prompt)
    wait_until_settled(recent)  # drawn faded while the gallery refreshes

    assert horizontal_overflow(page) <= 0, "the Generate tab scrolls sideways on a phone"
    prompt_box, result = box(page, "#prompt"), box(page, "#result")
    assert result["y"] >= prompt_box["y"] + prompt_box["height"], (prompt_box, result)
    assert result["x"] >= 0 and result["x"] + result["width"] <= 390, result
    # Generate and Stop ride in a bar at the bottom of the screen, wherever the page is scrolled.
    button = page.locator("#generate").bounding_box()
    assert 0 <= button["y"] and button["y"] + button["height"] <= 844, button
    shot(page, "journey-phone.png")

    items = open_history(page, "en")
    expect(items.first.locator(".caption-label")).to_contain_text(prompt)
    assert thumbnail_loaded(items.first) > 0
    assert horizontal_overflow(page) <= 0, "the History tab scrolls sideways on a phone"
    shot(page, "journey-phone-history.png")


# -- 6. laptop layout -------------------------------------------------------------------

def test_laptop_puts_the_form_left_of_the_result(open_page, demo_app):
    page = open_page(demo_app, viewport={"width": 1280, "height": 800})
    prompt, result = box(page, "#prompt"), box(page, "#result")
    assert prompt["x"] < result["x"], (prompt, result)
    assert prompt["x"] + prompt["width"] <= result["x"], "the form overlaps the result"
    assert prompt["y"] < result["y"] + result["height"] and result["y"] < prompt["y"] + prompt["height"], \
        f"form and result are not side by side: {prompt} {result}"
    assert horizontal_overflow(page) <= 0


# -- 7. keyboard only -------------------------------------------------------------------

def describe(stop: dict | None) -> str:
    if stop is None:
        return "(focus left the page)"
    return f'{stop["role"] or stop["tag"]} "{stop["name"]}" #{stop["id"]}'


@pytest.fixture(scope="module")
def keyboard_walk(browser, demo_app) -> Iterator[dict]:
    """Keyboard only: reach the prompt, type, Enter; then Tab round the page from the prompt.

    Recorded once for the module: the first focus, the result, every Tab stop.
    """
    context = browser.new_context(locale="en-US")
    context.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    try:
        page = context.new_page()
        record_errors(page, errors)
        cdp = context.new_cdp_session(page)
        page.goto(demo_app.url)
        wait_until_ready(page)

        first = focused_control(page, cdp)
        presses = 0
        while (focused_control(page, cdp) or {}).get("id") != "prompt" and presses < 40:
            page.keyboard.press("Tab")
            presses += 1
        walk = {"first": first, "presses": presses, "errors": errors, "stops": [], "order": [],
                "reached": (focused_control(page, cdp) or {}).get("id") == "prompt", "info": ""}
        if walk["reached"]:
            page.keyboard.type(f"a kite over the dunes {token()}")
            page.keyboard.press("Enter")
            info = page.locator("#result-info")
            expect(info).to_contain_text(re.compile(r"Seed\s+\d+"))
            walk["info"] = info.inner_text()
            walk["after_enter"] = focused_control(page, cdp)  # Enter leaves focus in the prompt
            for _ in range(40):
                page.keyboard.press("Tab")
                walk["stops"].append(focused_control(page, cdp))
                if walk["stops"][-1] and walk["stops"][-1]["id"] == "prompt":  # round the page and back
                    break
            walk["order"] = [describe(s) for s in walk["stops"]]
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "journey-tab-order.txt").write_text(
            f"first focus: {describe(first)}; {presses} Tab to reach the prompt\n"
            "Tab from the prompt, after generating:\n"
            + "".join(f"{i:2d}. {line}\n" for i, line in enumerate(walk["order"], 1)))
        print("\nTab order from the prompt:\n" + "\n".join(walk["order"]))
        yield walk
    finally:
        context.close()


def test_keyboard_only_generates_and_tab_reaches_generate(keyboard_walk):
    walk = keyboard_walk
    assert not walk["errors"], walk["errors"]
    # Focus starts in the prompt (autofocus), or Tab gets there.
    assert walk["reached"], f"no Tab from {describe(walk['first'])} reached the prompt ({walk['presses']} tried)"
    assert re.search(r"Seed\s+\d+", walk["info"]), "Enter in the prompt did not generate"
    assert (walk["after_enter"] or {}).get("id") == "prompt", walk["after_enter"]

    stops = walk["stops"]
    ids = [s and s["id"] for s in stops]
    assert "generate" in ids, f"Tab never reaches Generate: {walk['order']}"
    generate_stop = stops[ids.index("generate")]
    assert generate_stop["role"] == "button" and generate_stop["name"] == EN["generate"], generate_stop
    assert "stop" not in ids, "Stop takes a Tab stop while nothing runs (it can do nothing then)"
    # The form, up to Generate, is named for a screen reader.
    assert all(s and s["name"] for s in stops[: ids.index("generate") + 1]), walk["order"]


def test_every_tab_stop_has_an_accessible_name(keyboard_walk):
    assert keyboard_walk["stops"], "no Tab walk recorded"
    unnamed = [s for s in keyboard_walk["stops"] if s is not None and not s["name"]]
    assert not unnamed, "\n".join(f'{s["id"]}: {s["html"]}' for s in unnamed)


# -- 8. progress, double clicks, Stop -----------------------------------------------------

def test_progress_shows_extra_clicks_are_ignored_and_stop_cancels(open_page, live):
    app, fake = live
    page = open_page(app)
    fake.set_faults(hold=True)  # the request stays at the API until Stop has been seen
    prompt = f"a slow snail race {token()}"
    joins: list[str] = []

    def on_request(request):
        if "/queue/join" in request.url:
            data = (request.post_data_json or {}).get("data") or []
            if prompt in data:  # the generation event's inputs, in whatever order the event lists them
                joins.append(request.url)

    page.on("request", on_request)
    before = pngs(app.outputs)
    page.locator(PROMPT).fill(prompt)
    page.locator("#generate").click()

    line = page.locator("#status .status-line")
    expect(line).to_have_attribute("data-state", "waiting")
    expect(line).to_contain_text(EN["status_making_one"])
    shot(page, "journey-progress.png")

    page.locator("#generate").click()
    page.locator("#generate").click()
    wait_until(lambda: fake.stats()["in_flight"] == 1, timeout=30, what="the request held at the fake")
    assert len(joins) == 1, f"{len(joins)} generation events sent for three clicks"

    # Stop: the request already sent still lands, is saved and shown; it says so.
    page.locator("#stop").click()
    expect(line).to_contain_text("Stopping")
    fake.set_faults(hold=None)  # the API answers now
    expect(line).to_have_attribute("data-state", "stopped")
    new = wait_until(lambda: pngs(app.outputs) - before, timeout=15, what="the image on disk")
    assert len(new) == 1
    assert fake.stats()["generation_requests"] == 1
    assert len(joins) == 1
    expect(page.locator("#result img")).to_be_visible()
    expect(page.locator("#result-info")).to_contain_text(next(iter(new)).name)
