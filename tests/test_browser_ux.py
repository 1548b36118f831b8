"""The loop a non-programmer lives in (issue 11), driven in real Chromium.

One in-process app (demo backend, concurrency 2 so Stop has something not yet sent)
and one browser for the module; each test loads a page once and checks several
things on it, in English and Chinese, on a laptop (1366x768) and a phone (390x844).
Everything polls (Playwright's expect); nothing sleeps.
"""

from __future__ import annotations

import re
from typing import Iterator

import pytest

from webui.app import App
from webui.i18n import LABELS, MESSAGES
from webui.storage import TRASH_DIR

from .browser import PROMPT, SCREENS, open_history, require_playwright, search_history, set_batch_count, wait_for_images
from .conftest import ARTIFACTS, TEST_KEY, pngs, token, wait_until
from .support.apps import ServedApp, serve_app
from .support.fake_api import FakeApi

pytestmark = pytest.mark.browser
expect = require_playwright()

EN, ZH = LABELS["en"], LABELS["zh"]
TEXT = {"en-US": EN, "zh-CN": ZH}


@pytest.fixture(scope="module")
def served(fake: FakeApi, tmp_path_factory) -> Iterator[ServedApp]:
    """The app in this process, with a key, against the fake API (whose faults tests set)."""
    app = serve_app(tmp_path_factory.mktemp("ux"), "--concurrency", "2",
                    env={"YUNYX_API_KEY": TEST_KEY, "YUNYX_API_BASE": fake.base_url})
    yield app
    app.stop()


@pytest.fixture
def app(served: ServedApp, fake: FakeApi) -> Iterator[App]:
    """The app; the fake's faults are reset after each test."""
    yield served.app
    fake.reset()


@pytest.fixture
def open_ux(open_page, served: ServedApp):
    """`open_ux(locale, screen, **context_options)`: conftest's page (one rule for JavaScript
    errors) on this app and screen."""

    def open_(locale: str = "en-US", screen: str = "laptop", **options):
        return open_page(served, locale, **SCREENS[screen], **options)

    return open_


def no_toast_and_no_bare_error(page) -> None:
    """An error is told in the status line only: no toast, no bare "Error" anywhere."""
    expect(page.locator(".toast-body")).to_have_count(0)
    expect(page.get_by_text(re.compile(r"^\s*(Error|错误)\s*$"))).to_have_count(0)


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"ux-{name}.png"))


def expect_in_reach(page, *selectors: str) -> None:
    """Each element ends up entirely inside the window without scrolling. Polled: the page still
    moves just after it is drawn (its load events, a web font, a scroll into view), and a
    one-look check at that moment failed under load."""
    for selector in selectors:
        expect(page.locator(selector)).to_be_in_viewport(ratio=1)


def status(page):
    return page.locator("#status .status-line")


# -- 1, 13: controls in reach, heading, buttons that can do nothing are disabled ---------

@pytest.mark.parametrize("screen", ["laptop", "phone"])
@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_generate_and_stop_in_reach_and_done_says_so(open_ux, locale, screen):
    text = TEXT[locale]
    page = open_ux(locale, screen)
    expect(page.locator("#heading h1")).to_have_text(text["heading"].lstrip("# "))
    expect(page.locator("#stop")).to_be_disabled()
    expect(page.locator("#reuse-seed")).to_be_disabled()
    expect_in_reach(page, "#generate", "#stop")
    expect(page.locator("#result button[aria-label*='hare' i], #result [title*='hare' i]")).to_have_count(0)
    if locale == "zh-CN":
        expect(page).to_have_title(ZH["heading"].lstrip("# "))

    page.locator(PROMPT).fill(f"a quiet harbour {token()}")
    page.locator("#generate").click()
    expect(status(page)).to_have_attribute("data-state", "done")
    expect(status(page)).to_have_text(re.compile(re.escape(text["status_done_one"])))
    # The result and the buttons are in view after the click (on a phone: the bar at the bottom).
    expect_in_reach(page, "#generate", "#stop")
    if screen == "laptop":
        expect_in_reach(page, "#status")
    expect(page.locator("#result-info")).to_contain_text(text["made_in"].split("{")[0].strip())
    expect(page.locator("#reuse-seed")).to_be_enabled()
    expect(page.locator("#stop")).to_be_disabled()
    shot(page, f"done-{screen}-{locale}")


# -- 2, 3: errors stay in #status with what to do and Try again ----------------------------

@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_an_error_stays_under_the_result_with_try_again(open_ux, app, fake, locale):
    text, lang = TEXT[locale], locale[:2]
    page = open_ux(locale)
    fake.set_faults(status=401, count=1)
    page.locator(PROMPT).fill(f"a refused key {token()}")
    page.locator("#generate").click()
    line = status(page)
    expect(line).to_have_attribute("data-state", "error")
    expect(line).to_contain_text(MESSAGES[lang]["auth"][:12])
    # Whoever runs the app (no login here) also reads what to do about the key.
    expect(line).to_contain_text("YUNYX_API_KEY")
    no_toast_and_no_bare_error(page)
    retry = page.locator("#retry")
    expect(retry).to_have_text(text["try_again"])
    shot(page, f"error-{locale}")

    retry.click()  # the fault was for one request only
    expect(line).to_have_attribute("data-state", "done")
    expect(retry).to_be_hidden()
    expect(page.locator("#result img")).to_be_visible()


def test_input_errors_are_in_status_too_and_waits_read_as_people_say_them(open_ux, app, fake):
    page = open_ux("zh-CN")
    page.locator(PROMPT).fill("")
    page.locator("#generate").click()
    expect(status(page)).to_contain_text(MESSAGES["zh"]["empty_prompt"])
    expect(page.locator("#retry")).to_be_hidden()
    fake.set_faults(status=429, retry_after=3600, count=10)
    page.locator(PROMPT).fill(f"busy {token()}")
    page.locator("#generate").click()
    expect(status(page)).to_contain_text("大约 1 小时", timeout=60_000)


# -- 4: honest waiting and Stop --------------------------------------------------------------

def test_waiting_counts_and_stop_sends_nothing_more(open_ux, fake, app):
    page = open_ux("en-US")
    set_batch_count(page, 4)
    expect(page.locator("#batch-plan")).to_contain_text("This makes 4 images")
    fake.set_faults(hold=True)  # the first two stay at the API until the server has taken Stop
    before = pngs(app.settings.outputs)
    page.locator(PROMPT).fill(f"a slow snail race {token()}")
    page.locator("#generate").click()
    line = status(page)
    expect(line).to_have_attribute("data-state", "waiting")
    expect(line).to_contain_text("Making 4 pictures")
    expect(line.locator(".elapsed")).to_have_text(re.compile(r"^[1-9] s$"))  # it counts in the browser
    expect(page.locator("#stop")).to_be_enabled()
    shot(page, "waiting")
    # Concurrency 2: two images are with the API, two are not sent yet.
    wait_until(lambda: fake.stats()["in_flight"] >= 2, timeout=20, what="two requests at the API")
    page.locator("#stop").click()
    expect(line).to_contain_text("Stopping")  # the server's answer to Stop: its flag is set
    fake.set_faults(hold=None)  # the API answers now
    expect(line).to_have_attribute("data-state", "stopped", timeout=30_000)
    expect(line).to_contain_text("2 made; 2 not sent")
    expect(page.locator("#stop")).to_be_disabled()
    # What was sent landed, is saved, shown and in Recent.
    assert len(pngs(app.settings.outputs) - before) == 2
    assert fake.stats()["generation_requests"] >= 2
    expect(page.locator("#batch-results .gallery-item")).to_have_count(2)
    shot(page, "stopped")


def test_waiting_tells_the_typical_time_for_this_model_and_size(open_ux, app, fake):
    page = open_ux("en-US")
    page.locator(PROMPT).fill(f"first {token()}")
    page.locator("#generate").click()
    expect(status(page)).to_have_attribute("data-state", "done")
    fake.set_faults(hold=True)  # it waits until the line has been read
    page.locator("#generate").click()
    expect(status(page)).to_contain_text(re.compile(r"usually about \d"))
    fake.set_faults(hold=None)
    expect(status(page)).to_have_attribute("data-state", "done")


# -- helpers for the tests below: images made straight through the app's core ------------

def make(app: App, prompt: str, model: str = "FLUX.1-schnell", size: str = "1024x1024", seed: int = 7) -> dict:
    from webui.generator import validate

    return app.core.generator.generate(validate(prompt, model, size, False, seed))


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()


# -- 14: Variation is the one generation event ----------------------------------------------

def test_variation_runs_the_one_generation_event(open_ux, app):
    word = token()
    original = make(app, f"a paper crane {word}", seed=4242)
    page = open_ux("en-US")
    open_history(page)
    search_history(page, word, found=1).first.click()
    expect(page.locator("#variation")).to_be_enabled()
    page.locator("#variation").click()
    # The same waiting state, result, Recent refresh and last seed as Generate.
    expect(status(page)).to_have_attribute("data-state", "done")
    expect(page.locator("#gallery .gallery-item").first).to_contain_text(word)
    info = page.locator("#result-info").inner_text()
    seed = re.search(r"Seed\s+(\d+)", info).group(1)
    assert seed != "4242"
    page.locator("#seed input").fill("1")
    page.locator("#reuse-seed").click()
    expect(page.locator("#seed input")).to_have_value(seed)
    assert original["seed"] == 4242


# -- 4: the Matrix tab waits, stops and fails like Generate and Compare ---------------------

@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_matrix_uses_the_one_waiting_state_and_errors_stay(open_ux, app, fake, locale):
    text, lang = TEXT[locale], locale[:2]
    page = open_ux(locale)
    open_tab(page, text["tab_matrix"])
    line = page.locator("#matrix-status .status-line")
    expect(page.locator("#matrix-stop")).to_be_disabled()
    # Nothing to make: said in the status line, not a toast.
    page.locator("#matrix-run").click()
    expect(line).to_have_attribute("data-state", "error")
    expect(line).to_contain_text(MESSAGES[lang]["empty_prompt"][:8])
    expect(page.locator(".toast-body")).to_have_count(0)

    word = token()
    page.locator("#matrix-prompts textarea").fill(f"a brass key {word}\na wax seal {word}")
    fake.set_faults(hold=True)  # it waits until the waiting state has been read
    page.locator("#matrix-run").click()
    expect(line).to_have_attribute("data-state", "waiting")
    expect(line.locator(".elapsed")).to_be_visible()  # elapsed time, counted in the browser
    expect(line).to_contain_text(re.compile(r"2"))
    expect(page.locator("#matrix-stop")).to_be_enabled()
    fake.set_faults(hold=None)
    expect(line).to_have_attribute("data-state", "done", timeout=60_000)
    expect(page.locator("#matrix-grid img")).to_have_count(2)
    expect(page.locator("#matrix-stop")).to_be_disabled()
    # No Gradio progress text ("processing | 1.2/2.4s") anywhere on the tab.
    expect(page.locator("#tab-matrix .progress-text, #tab-matrix .eta-bar")).to_have_count(0)

    fake.set_faults(status=401, count=10)
    page.locator("#matrix-run").click()
    expect(line).to_have_attribute("data-state", "error", timeout=60_000)
    expect(line).to_contain_text(MESSAGES[lang]["auth"][:12])
    expect(page.locator("#matrix-retry")).to_be_visible()
    no_toast_and_no_bare_error(page)
    shot(page, f"matrix-error-{locale}")


# -- 7: History uses the page; search as you type; no matches; one size label -------------

@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_history_grid_searches_as_you_type_and_says_no_matches(open_ux, app, locale):
    text = TEXT[locale]
    word = token()
    for i in range(3):
        make(app, f"a glass lantern {word} number{i}", size="768x512")
    page = open_ux(locale, "laptop")
    open_tab(page, text["tab_history"])
    box = page.locator("#history-search input, #history-search textarea")
    box.press_sequentially(word, delay=30)  # no Enter: it searches as you type
    items = page.locator("#history_gallery .gallery-item")
    expect(items).to_have_count(3)
    # The grid is not a small scroll box: all its rows are drawn at full height.
    assert page.evaluate("""() => { const w = document.querySelector('#history_gallery .grid-wrap');
        return w.scrollHeight <= w.clientHeight + 2; }""")
    # Date and model on hover only.
    caption = items.first.locator(".caption-label")
    assert float(caption.evaluate("(e) => getComputedStyle(e).opacity")) == 0
    items.first.hover()
    expect(caption).to_have_css("opacity", "1")
    expect(caption).to_contain_text("FLUX.1-schnell")
    expect(page.locator("#history-prev")).to_be_disabled()
    expect(page.locator("#history-next")).to_be_disabled()
    expect(page.locator("#reuse")).to_be_disabled()
    # One size label format everywhere.
    page.locator("#history-size input").click()
    expect(page.get_by_role("option", name=text["size_768x512"])).to_be_visible()
    page.keyboard.press("Escape")

    box.press_sequentially("zzz", delay=30)
    expect(page.locator("#history-empty")).to_contain_text(text["no_matches"].split("–")[0].split("——")[0])
    expect(items).to_have_count(0)
    page.locator("#history-clear").click()
    expect(box).to_have_value("")
    expect(page.locator("#history-empty")).to_be_hidden()
    expect(items.first).to_be_visible()
    shot(page, f"history-{locale}")


# -- 6: delete with Undo, a Trash view with Restore and Empty trash ---------------------------

def test_delete_undo_trash_restore_and_empty(open_ux, app):
    word = token()
    victim = make(app, f"a chipped teacup {word}")
    page = open_ux("en-US")
    open_history(page)
    items = search_history(page, word, found=1)

    def delete_it():
        items.first.click()
        page.locator("#delete").click()
        page.locator("#delete-confirm").click()
        expect(page.locator("#history-status")).to_contain_text("Moved to the trash")
        expect(items).to_have_count(0)

    delete_it()
    expect(page.locator("#history-status")).not_to_contain_text(TRASH_DIR)
    page.locator("#undo").click()
    expect(page.locator("#history-status")).to_contain_text("Restored")
    expect(items).to_have_count(1)
    assert app.storage.index.get(victim["id"]) is not None
    # and open again, as it was before Delete: its picture, its settings, its buttons on
    expect(page.locator("#history-image img")).to_be_visible()
    expect(page.locator("#history-card")).to_contain_text(victim["prompt"])
    expect(page.locator("#delete")).to_be_enabled()

    delete_it()
    page.locator("#trash-view").get_by_text("Trash", exact=True).click()
    trash = page.locator("#trash .gallery-item").filter(has_text=word)
    expect(trash).to_have_count(1)
    shot(page, "trash")
    trash.click()
    page.locator("#trash-restore").click()
    expect(page.locator("#history-status")).to_contain_text("Restored")
    expect(items).to_have_count(1)

    delete_it()
    expect(page.locator("#trash .gallery-item").filter(has_text=word)).to_have_count(1)
    page.locator("#trash-empty").click()
    expect(page.locator("#history-status")).to_contain_text("for good")
    expect(page.locator("#trash .gallery-item")).to_have_count(0)
    assert not any(app.storage.trash_dir.rglob("*.png"))


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_history_refusals_stay_in_the_status_line_in_the_visitors_language(open_ux, app, locale):
    text, lang = TEXT[locale], locale[:2]
    word = token()
    vanishing, undone = make(app, f"a vanishing vase {word}"), make(app, f"an undone knot {word}")
    page = open_ux(locale)
    open_history(page, lang)
    items = search_history(page, word, found=2, lang=lang)
    line = page.locator("#history-status .status-line")
    gone = MESSAGES[lang]["not_found"]

    # Someone else deletes the picked image meanwhile: Reuse and Delete say so, and stay.
    items.filter(has_text="vanishing").click()
    expect(page.locator("#reuse")).to_be_enabled()
    # the page has fetched its pictures (on a busy machine the big one came after the delete: a 403)
    wait_for_images(page, "#history_gallery")
    wait_for_images(page, "#history-image")
    app.trash.delete(vanishing["id"])
    page.locator("#reuse").click()
    expect(line).to_have_attribute("data-state", "error")
    expect(line).to_have_text(re.compile(re.escape(gone)))
    expect(page.get_by_role("tab", name=text["tab_history"], exact=True)).to_have_attribute("aria-selected", "true")
    # Starring it says the same in the same place, and the star box goes back.
    star = page.locator("#history-star input")
    star.click()  # not check(): that insists the box stays ticked, and the refusal unticks it
    expect(line).to_have_text(re.compile(re.escape(gone)))
    expect(star).not_to_be_checked()
    page.locator("#delete").click()
    page.locator("#delete-confirm").click()
    expect(page.locator("#delete-confirm-row")).to_be_hidden()
    expect(line).to_have_text(re.compile(re.escape(gone)))

    # Undo of an image someone emptied from the trash meanwhile.
    items.filter(has_text="undone").click()
    page.locator("#delete").click()
    page.locator("#delete-confirm").click()
    expect(page.locator("#undo")).to_be_visible()
    for path, record in app.trash.items(limit=None):
        if record["id"] == undone["id"]:
            (app.storage.root / path).unlink()
    page.locator("#undo").click()
    expect(line).to_have_attribute("data-state", "error")
    expect(line).to_have_text(re.compile(re.escape(gone)))
    expect(page.locator("#undo")).to_be_hidden()
    no_toast_and_no_bare_error(page)
    shot(page, f"history-refusal-{locale}")


# -- 11: phone: every tab reachable, tapping a thumbnail shows the picture ------------------

@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_phone_reaches_every_tab_and_a_tap_shows_the_picture(open_ux, app, locale):
    text = TEXT[locale]
    make(app, f"a red kite {token()}", seed=8)  # opened in History only: not in the browser's cache
    make(app, f"a red kite {token()}")
    page = open_ux(locale, "phone")
    tabs = page.get_by_role("tab")
    for name in ("tab_generate", "tab_history", "tab_compare", "tab_pnginfo"):
        expect(page.get_by_role("tab", name=text[name], exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="More tabs")).to_have_count(0)
    assert tabs.count() >= 4
    assert page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") <= 0
    rows = {round(box["y"]) for box in (tab.bounding_box() for tab in tabs.all())}
    if locale == "zh-CN":  # short names: one line of tabs, none left alone on a second
        assert len(rows) == 1, rows
    else:  # two lines at most
        assert len(rows) <= 2, rows
    # Recent: a tap shows the picture at the top of the result.
    page.locator("#gallery .gallery-item").first.scroll_into_view_if_needed()
    page.locator("#gallery .gallery-item").first.click()
    expect(page.locator("#result img")).to_be_visible()
    expect(page.locator("#result")).to_be_in_viewport(ratio=0.3)
    # History: a tap shows the picture beside (below) the grid.
    open_tab(page, text["tab_history"])
    page.locator("#history_gallery .gallery-item").nth(1).click()
    expect(page.locator("#history-image img")).to_be_visible()
    expect(page.locator("#history-image")).to_be_in_viewport(ratio=0.3)
    # The first picture opened grows its box from nothing as it loads: the page must not then
    # scroll on to the buttons below it (it did, leaving the picture above the screen).
    page.wait_for_function(_PICTURE_LOADED)
    top = page.evaluate(_TOP_AFTER_TWO_FRAMES)
    assert 0 <= top < page.viewport_size["height"] / 2, top
    # The star box beside the rating keeps its label on one line ("★" above "Starred" before).
    assert page.evaluate(_LINES_OF_STAR_LABEL) == 1
    shot(page, f"phone-history-{locale}")


_PICTURE_LOADED = "() => { const img = document.querySelector('#history-image img'); return img?.complete && img.naturalWidth > 0; }"
_LINES_OF_STAR_LABEL = """() => { const text = document.querySelector('#history-star .label-text');
  return Math.round(text.getBoundingClientRect().height / parseFloat(getComputedStyle(text).lineHeight)); }"""
_TOP_AFTER_TWO_FRAMES = """() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(
  () => done(Math.round(document.getElementById('history-image').getBoundingClientRect().top)))))"""


# -- 10: PNG Info for people --------------------------------------------------------------

def test_pnginfo_reads_a_jpeg_says_what_carries_over_and_one_message_for_a_non_image(open_ux, tmp_path):
    from PIL import Image

    infotext = ("a moonlit pier\nNegative prompt: blurry\n"
                "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 99, Size: 768x512, Model: FLUX.1-schnell")
    jpeg = tmp_path / "a1111.jpg"
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\0" + infotext.encode("utf-16-be")
    Image.new("RGB", (64, 48), "navy").save(jpeg, "JPEG", exif=exif.tobytes())
    page = open_ux("en-US")
    open_tab(page, "PNG Info")
    page.locator("#pnginfo-file input[type=file]").set_input_files(jpeg)
    expect(page.locator("#pnginfo-image img")).to_be_visible()  # the dropped picture is shown
    summary = page.locator("#pnginfo-summary")
    expect(summary).to_contain_text("Stable Diffusion web UI")
    expect(summary).to_contain_text("Not carried over to Generate")
    expect(summary).to_contain_text("Steps")
    shot(page, "pnginfo-jpeg")

    junk = tmp_path / "notes.png"
    junk.write_text("not a picture at all")
    page.locator("#pnginfo-file").get_by_role("button", name="Clear").click()
    page.locator("#pnginfo-file input[type=file]").set_input_files(junk)
    expect(summary).to_have_text(MESSAGES["en"]["not_an_image"])
    expect(page.locator("#pnginfo-image img")).to_have_count(0)
    expect(page.locator(".toast-body")).to_have_count(0)
    expect(page.get_by_text(re.compile(r"^\s*Error\s*$"))).to_have_count(0)


@pytest.mark.parametrize(("locale", "screen"), [("en-US", "laptop"), ("zh-CN", "phone")])
def test_pnginfo_shows_the_same_settings_card_as_history_with_raw_data_folded(open_ux, app, locale, screen):
    from webui.handlers.card import local_time, size_label

    text, lang = TEXT[locale], locale[:2]
    record = make(app, f"a folded paper boat {token()}", size="768x512", seed=31337)
    page = open_ux(locale, screen, timezone_id="Asia/Shanghai")
    open_tab(page, text["tab_pnginfo"])
    page.locator("#pnginfo-file input[type=file]").set_input_files(str(app.storage.path_of(record)))
    settings = page.locator("#pnginfo-card .settings-card")
    expect(settings).to_contain_text(record["prompt"])
    expect(settings).to_contain_text(size_label("768x512", lang))
    expect(settings).to_contain_text("31337")
    expect(settings).to_contain_text("FLUX.1-schnell")
    expect(settings).to_contain_text(local_time(record["created_at"], "Asia/Shanghai"))  # the visitor's time
    expect(settings.locator("button.copy")).to_have_count(2)  # prompt and seed
    for raw in ("null", "false", "true", '"id"', record["id"]):
        expect(page.locator("#pnginfo-card")).not_to_contain_text(raw)
    # The raw data is folded away, under "technical details".
    fold = page.locator("#pnginfo-technical")
    expect(fold).to_contain_text(text["technical_details"])
    expect(page.locator("#pnginfo-parameters")).to_have_count(0)
    # The same card as History's for the same image.
    card_html = settings.evaluate("(e) => e.outerHTML")
    shot(page, f"pnginfo-card-{screen}-{locale}")
    open_tab(page, text["tab_history"])
    page.locator("#history_gallery .gallery-item").filter(has_text="folded paper boat").first.click()
    expect(page.locator("#history-card .settings-card")).to_contain_text("31337")
    assert page.locator("#history-card .settings-card").evaluate("(e) => e.outerHTML") == card_html


# -- 13: keyboard, background tab ------------------------------------------------------------

def test_recent_is_one_tab_stop_with_arrow_keys_and_a_background_tab_is_told(open_ux, app):
    for i in range(3):
        make(app, f"a tin star {i} {token()}")
    page = open_ux("en-US")
    thumbs = page.locator("#gallery .thumbnail-item")
    expect(thumbs.nth(2)).to_be_visible()
    page.wait_for_function("() => document.querySelectorAll('#gallery .thumbnail-item[tabindex=\"0\"]').length === 1")
    thumbs.first.focus()
    page.keyboard.press("ArrowRight")
    assert page.evaluate("() => document.activeElement === document.querySelectorAll('#gallery .thumbnail-item')[1]")
    page.keyboard.press("Tab")
    assert page.evaluate("() => !document.activeElement.closest('#gallery')"), "Tab stayed in the thumbnails"

    # A job that ends while the tab is in the background marks the title.
    page.evaluate("() => Object.defineProperty(document, 'hidden', {configurable: true, get: () => true})")
    page.locator(PROMPT).fill(f"a background job {token()}")
    page.locator("#generate").click()
    expect(page).to_have_title(re.compile(r"^✓ "))


# -- 12: Chinese everywhere ---------------------------------------------------------------------

# Latin words a Chinese page may show: model names, sizes, file names and formats,
# product names, and what a person types as a value (the API key variable, a flag).
ALLOWED_LATIN = {
    "yunyx", "flux", "schnell", "stable", "diffusion", "large", "sd", "png", "jpeg", "jpg", "webp", "json",
    "api", "web", "ui", "comfyui", "a1111", "demo", "ai", "shift", "enter", "zip", "csv", "html",
    "kb", "mb", "gb", "iptc", "c2pa",  # file sizes; the labelling standards' names (GB 45438, IPTC, C2PA)
    "board",  # the search token a caption tells people to type (board:"…")
}
_VISIBLE_TEXT = """() => {
  const out = [];
  const visible = (el) => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!el || !node.nodeValue.trim() || el.closest('script,style,code,[data-testid="textbox"],textarea,img')) continue;
    // names people chose (boards, users) in the search chips are data too
    if (el.closest('.chip[data-add^="board:"], .chip[data-add^="user:"], .chip[data-remove]')) continue;
    if (el.closest('#gallery, #history_gallery, #trash, #result-info, #history-path, #history-card, #card, #model, '
                   + '#compare-models, #compare-grid, #compare-prompt, #pnginfo-json, #pnginfo-chunks, footer')) continue;  // data, not words of ours
    if (visible(el)) out.push(node.nodeValue.trim());
  }
  document.querySelectorAll('[title], [aria-label], [placeholder]').forEach((el) => {
    if (!visible(el) || el.closest('#gallery, #history_gallery, #trash, footer')) return;
    for (const a of ['title', 'aria-label', 'placeholder']) if (el.getAttribute(a)) out.push(el.getAttribute(a));
  });
  return out;
}"""


# A search token is what a person types (the chips show it as their tooltip): `is:starred`, `board:"x"`.
SEARCH_TOKEN = re.compile(r'-?(?:is|rating|board|model|size|user|seed|after|before):(?:"[^"]*"|\S+)')


def latin_words(texts: list[str]) -> set[str]:
    found = set()
    for text in texts:
        text = SEARCH_TOKEN.sub(" ", text)
        for word in re.findall(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9]*(?:[.-][A-Za-z0-9]+)*", text):
            parts = re.split(r"[.-]", word.lower())
            if not all(p in ALLOWED_LATIN or p.isdigit() or re.fullmatch(r"\d+x\d+", p) for p in parts):
                found.add(word)
    return found


def test_every_tab_in_chinese_has_no_stray_english(open_ux, app):
    make(app, "a lighthouse")
    app.trash.delete(make(app, "一只旧茶杯")["id"])  # something in the trash
    page = open_ux("zh-CN")
    problems = {}
    page.locator(PROMPT).fill("灯塔")
    page.locator("#generate").click()
    expect(status(page)).to_have_attribute("data-state", "done")
    page.locator("#prompt-help").get_by_text(ZH["help_title"]).click()
    page.locator("#details").get_by_text(ZH["details"]).click()
    page.locator("#library").get_by_text(ZH["library"]).click()  # the prompt library panel
    expect(page.locator("#recipe-save")).to_be_visible()
    page.locator("#batch").get_by_text(ZH["batch"]).click()
    problems["generate"] = latin_words(page.evaluate(_VISIBLE_TEXT))
    shot(page, "zh-tab_generate")
    for tab, shown in (("tab_history", "#history_gallery"), ("tab_compare", "#compare-run"),
                       ("tab_matrix", "#matrix-run"), ("tab_pnginfo", "#pnginfo-file")):
        open_tab(page, ZH[tab])
        expect(page.locator(shown)).to_be_visible()
        if tab == "tab_history":
            page.locator("#history_gallery .gallery-item").first.click()
            expect(page.locator("#history-image img")).to_be_visible()
            page.locator("#trash-view").get_by_text(ZH["trash_title"]).click()  # the Trash view
            expect(page.locator("#trash .gallery-item").first).to_be_visible()
        if tab == "tab_matrix":  # a matrix made: its status line, caption and grid
            page.locator("#matrix-prompts textarea").fill("一座灯塔\n一艘小船")
            page.locator("#matrix-run").click()
            expect(page.locator("#matrix-status .status-line")).to_have_attribute("data-state", "done")
            expect(page.locator("#matrix-grid img")).to_have_count(2)
        if tab == "tab_pnginfo":  # a picture read: its summary and settings card
            record = app.storage.index.search("", 0, 1, None)[0]
            page.locator("#pnginfo-file input[type=file]").set_input_files(str(app.storage.path_of(record)))
            expect(page.locator("#pnginfo-card .settings-card")).to_be_visible()
            page.locator("#pnginfo-technical").get_by_text(ZH["technical_details"]).click()
            expect(page.locator("#pnginfo-parameters")).to_be_visible()
        problems[tab] = latin_words(page.evaluate(_VISIBLE_TEXT))
        shot(page, f"zh-{tab}")
    problems = {k: sorted(v) for k, v in problems.items() if v}
    assert not problems, f"English on a Chinese page: {problems}"
