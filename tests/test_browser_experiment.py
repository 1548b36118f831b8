"""Browser tests of the experimenting tabs: History (search, reuse, variation, delete),
PNG Info, batches and Compare, in headless Chromium through Playwright.

Each behaviour goes through the page the way a person uses it; set-up may use the
`/generate` API to be fast. Results are checked on screen, on disk and over HTTP.
This module launches its own app (own outputs folder), so counts are predictable.
Skipped when Chromium or Playwright is missing, unless REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urljoin

import pytest

from .browser import (
    PROMPT,
    open_fold,
    open_history,
    require_playwright,
    search_history,
    set_batch_count,
    wait_for_images,
)
from .conftest import ARTIFACTS, pngs, record_of, token, wait_until
from .support.apps import ServedApp, api_client

pytestmark = pytest.mark.browser

expect = require_playwright()

FLUX, SD = "FLUX.1-schnell", "stable-diffusion-3-5-large"
A1111_PROMPT = "masterpiece, a castle on a hill"
A1111_INFOTEXT = (
    f"{A1111_PROMPT}\nNegative prompt: blurry\n"
    "Steps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1234567, Size: 768x512, "
    "Model hash: abc, Model: v1-5-pruned"
)
SCRIPT = "<script>window.__pwned=1</script>"
ONERROR = '<img src="x" onerror="window.__pwned=2">'


# -- fixtures -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def app(module_app: ServedApp) -> ServedApp:
    """This module's own demo app: nobody else adds or deletes its images."""
    return module_app


@pytest.fixture(scope="module")
def client(app):
    """A gradio_client on the app, for fast set-up and for checking `/history`."""

    return api_client(app.url)


@pytest.fixture
def page(open_page, app):
    """A fresh page (own Gradio session) on this module's app, ready for input."""
    return open_page(app, viewport={"width": 1280, "height": 900})


# -- helpers --------------------------------------------------------------------------


def pixels(png: Path) -> tuple[tuple[int, int], bytes]:
    from PIL import Image

    with Image.open(png) as image:
        return image.size, image.convert("RGBA").tobytes()


def new_pngs(outputs: Path, before: set[Path], count: int, what: str) -> list[Path]:
    """Wait until `count` new PNGs are on disk; fail if there are more. Oldest name first."""
    wait_until(lambda: len(pngs(outputs) - before) >= count, timeout=30, what=what)
    new = pngs(outputs) - before
    assert len(new) == count, f"expected {count} new image(s), got {sorted(map(str, new))}"
    return sorted(new)


def api_generate(client, prompt: str, model: str = FLUX, size: str = "1024x1024", enhance: bool = False,
                 seed: int = -1) -> dict:
    """Set-up through the `/generate` API; returns the saved record."""
    _path, record = client.predict(prompt, model, size, enhance, seed, api_name="/generate")
    assert record.get("file"), record
    return record


def api_history(client, query: str = "") -> list[dict]:
    return client.predict(query, 0, 500, api_name="/history")


def open_tab(page, name: str) -> None:
    tab = page.get_by_role("tab", name=name, exact=True)
    tab.click()
    expect(tab).to_have_attribute("aria-selected", "true")


def expect_tab_selected(page, name: str) -> None:
    expect(page.get_by_role("tab", name=name, exact=True)).to_have_attribute("aria-selected", "true")


def select_thumbnail(page, record: dict) -> None:
    """Click the History thumbnail captioned with the record's prompt; wait for its details."""
    page.locator("#history_gallery .gallery-item").filter(has_text=record["prompt"]).click()
    expect(page.locator("#history-path")).to_contain_text(Path(record["file"]).name)
    expect(page.locator("#history-image img")).to_be_visible()


def expect_form(page, prompt: str, model: str, size: str, enhance: bool, seed: str | None = None) -> None:
    expect(page.locator(PROMPT)).to_have_value(prompt)
    expect(page.locator("#model input")).to_have_value(model)
    expect(page.locator("#size input:checked")).to_have_attribute("value", size)
    checkbox = page.locator("#enhance input[type=checkbox]")
    if enhance:
        expect(checkbox).to_be_checked()
    else:
        expect(checkbox).not_to_be_checked()
    if seed is not None:
        expect(page.locator("#seed input")).to_have_value(seed)


def shot(page, name: str, *galleries: str) -> None:
    """Screenshot the end state, once the given galleries' thumbnails have loaded."""
    for selector in galleries:
        wait_for_images(page, selector)
    page.mouse.move(0, 0)  # no hover look on the last button clicked
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"experiment-{name}.png"), full_page=True)


def write_png(path: Path, chunks: dict[str, str], color: str = "teal") -> Path:
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    for key, value in chunks.items():
        info.add_text(key, value)
    Image.new("RGB", (96, 64), color).save(path, pnginfo=info)
    return path


def run_compare(page, prompt: str, seed: str) -> None:
    """Type prompt and seed in Generate, open Compare and run it with the default choices."""
    page.locator(PROMPT).fill(prompt)
    page.locator("#seed input").fill(seed)
    open_tab(page, "Compare")
    expect(page.locator("#compare-models .token")).to_have_text([FLUX, SD])
    expect(page.locator("#compare-sizes input:checked")).to_have_count(0)
    expect(page.locator("#compare-enhance input[type=checkbox]")).not_to_be_checked()
    expect(page.locator("#compare-prompt")).to_contain_text(prompt)
    expect(page.locator("#compare-plan")).to_contain_text("This makes 2 images")
    page.locator("#compare-run").click()
    expect(page.locator("#compare-status .status-line")).to_have_attribute("data-state", "done")
    expect(page.locator("#compare-grid td img")).to_have_count(2)
    wait_for_images(page, "#compare-grid")


# -- tests ----------------------------------------------------------------------------

def test_search_finds_exactly_the_matching_image(page, app, client):
    shared = token()
    words = [token() for _ in range(3)]
    prompts = [f"a brass owl reading a map {shared} {words[0]}",
               f"a glass whale over a desert {shared} {words[1]}",
               f"a copper fox in the snow {shared} {words[2]}"]  # < 60 chars: captions are not cut
    records = [api_generate(client, p, size="768x512") for p in prompts]
    whale = records[1]

    open_history(page)
    search_history(page, shared, found=3)  # the word all three share: all three
    search_history(page, words[1], found=1)  # a word from one prompt: that one only
    item = page.locator("#history_gallery .gallery-item")
    expect(item.locator(".caption-label")).to_contain_text(whale["prompt"])
    expect(item.locator("img")).to_have_attribute("alt", re.compile("^" + re.escape(whale["prompt"])))
    answer = page.request.get(urljoin(page.url, item.locator("img").get_attribute("src")))
    body = answer.body()
    assert answer.ok and (body[8:12] == b"WEBP" or body.startswith(b"\x89PNG")), (answer.status, body[:16])

    select_thumbnail(page, whale)
    expect(page.locator("#history-path")).to_contain_text(str(app.outputs / whale["file"]))
    expect(page.locator("#history-card")).to_contain_text(whale["prompt"])
    # The same search over HTTP agrees.
    assert [r["id"] for r in api_history(client, words[1])] == [whale["id"]]
    shot(page, "find", "#history_gallery", "#history-image")


def test_reuse_fills_the_form_and_regenerates_the_same_picture(page, app, client):
    original = api_generate(client, f"a lantern festival over a river {token()}", SD, "768x1024", enhance=True)
    original_png = app.outputs / original["file"]

    open_history(page)
    search_history(page, original["prompt"].rsplit(" ", 1)[1], found=1)
    select_thumbnail(page, original)
    page.locator("#reuse").click()
    expect_tab_selected(page, "Generate")
    expect_form(page, original["prompt"], SD, "768x1024", True, seed=str(original["seed"]))

    before = pngs(app.outputs)
    page.locator("#generate").click()
    (again,) = new_pngs(app.outputs, before, 1, "the regenerated PNG")
    expect(page.locator("#result-info")).to_contain_text(again.name)
    assert again != original_png
    record = record_of(again)
    assert record["id"] != original["id"]
    assert record["seed"] == original["seed"]
    for key in ("prompt", "model", "image_size", "prompt_enhancement"):
        assert record[key] == original[key], key
    assert pixels(again) == pixels(original_png), "same settings and seed, yet different pixels"
    shot(page, "reuse", "#result", "#gallery")


def test_variation_generates_the_same_settings_with_a_new_seed(page, app, client):
    original = api_generate(client, f"a paper crane on a windowsill {token()}", SD, "1024x576", seed=4242)
    word = original["prompt"].rsplit(" ", 1)[1]

    open_history(page)
    search_history(page, word, found=1)
    select_thumbnail(page, original)
    before = pngs(app.outputs)
    page.locator("#variation").click()
    expect_tab_selected(page, "Generate")
    expect_form(page, original["prompt"], SD, "1024x576", False)
    (varied,) = new_pngs(app.outputs, before, 1, "the variation's PNG")
    expect(page.locator("#result-info")).to_contain_text(varied.name)

    record = record_of(varied)
    for key in ("prompt", "model", "image_size", "prompt_enhancement"):
        assert record[key] == original[key], key
    assert isinstance(record["seed"], int) and record["seed"] != 4242
    listed = api_history(client, word)  # newest first
    assert [r["id"] for r in listed] == [record["id"], original["id"]]
    assert listed[0]["seed"] == record["seed"] and listed[1]["seed"] == 4242
    assert (app.outputs / original["file"]).is_file(), "the original must stay"
    shot(page, "variation", "#result", "#gallery")


def test_delete_asks_cancel_keeps_confirm_moves_to_trash(page, app, client):
    word = token()
    victim = api_generate(client, f"a rusty bicycle in the rain {word}")
    keeper = api_generate(client, f"a rusty bicycle in the sun {word}")
    victim_png = app.outputs / victim["file"]
    trashed = app.app.storage.trash_dir / victim["file"]

    open_history(page)
    search_history(page, word, found=2)
    select_thumbnail(page, victim)
    confirm_row = page.locator("#delete-confirm-row")
    expect(confirm_row).to_be_hidden()

    # Cancel: the question goes away and nothing is deleted.
    page.locator("#delete").click()
    expect(confirm_row).to_be_visible()
    expect(page.locator("#delete-confirm")).to_be_visible()
    page.locator("#delete-cancel").click()
    expect(confirm_row).to_be_hidden()
    expect(page.locator("#history_gallery .gallery-item")).to_have_count(2)
    assert victim_png.is_file() and not trashed.exists()
    assert {r["id"] for r in api_history(client, word)} == {victim["id"], keeper["id"]}

    # Confirm: the image moves to outputs/.trash/<same relative path>.
    page.locator("#delete").click()
    expect(confirm_row).to_be_visible()
    page.locator("#delete-confirm").click()
    expect(confirm_row).to_be_hidden()
    expect(page.locator("#history-status")).to_contain_text("Moved to the trash")
    expect(page.locator("#undo")).to_be_visible()
    expect(page.locator("#history-page")).to_have_text(re.compile(r"·\s*1\sfound\s*$"))
    gallery = page.locator("#history_gallery .gallery-item")
    expect(gallery).to_have_count(1)
    expect(gallery.locator(".caption-label")).to_contain_text(keeper["prompt"])
    expect(page.locator("#history-path")).to_have_text("")
    expect(page.locator("#history-image img")).to_have_count(0)

    assert not victim_png.exists(), "the deleted image is still in its place"
    assert trashed.is_file(), f"not in the trash: {trashed}"
    assert record_of(trashed)["id"] == victim["id"]
    assert (app.outputs / keeper["file"]).is_file()
    assert [r["id"] for r in api_history(client, word)] == [keeper["id"]]
    assert victim["id"] not in {r["id"] for r in api_history(client)}

    # Not listed without the search either.
    search_history(page, "", found=len(pngs(app.outputs)))
    expect(page.locator("#history_gallery .gallery-item").filter(has_text=victim["prompt"])).to_have_count(0)
    shot(page, "delete", "#history_gallery")


_PICTURE_CONTROLS = ("#reuse, #variation, #delete, #history-star input, #history-rating input, #history-board input,"
                     " #history-board-add, #history-board-remove")


def test_after_delete_no_thumbnail_looks_selected(page, client):
    word = token()
    older = api_generate(client, f"an older neighbour {word}")
    victim = api_generate(client, f"a newest victim {word}")  # newest first: index 0

    open_history(page)
    search_history(page, word, found=2)
    hint = page.locator("#history-image .pick-hint")  # the empty picture box says what to do
    expect(hint).to_have_text("Click a picture to see it here, with its settings.")
    # what acts on the open picture is off while none is open, on with one, off again after Delete
    controls = page.locator(_PICTURE_CONTROLS)
    assert controls.count() == 13  # Reuse, Variation, Delete; the star; the rating's six; the board field and its 2 buttons
    expect(page.locator(f":is({_PICTURE_CONTROLS}):enabled")).to_have_count(0)
    select_thumbnail(page, victim)
    expect(hint).to_have_count(0)
    expect(page.locator(f":is({_PICTURE_CONTROLS}):disabled")).to_have_count(0)
    board = page.locator("#history-board input")
    board.fill("Sea trips")
    page.locator("#history-board-add").click()  # said, as a board shows on no thumbnail
    expect(page.locator("#history-status")).to_contain_text("Put this picture on the board “Sea trips”.")
    page.locator("#delete").click()
    page.locator("#delete-confirm").click()
    expect(page.locator("#history-path")).to_have_text("")
    expect(hint).to_be_visible()  # empty again, and says so again
    expect(page.locator(f":is({_PICTURE_CONTROLS}):enabled")).to_have_count(0)
    expect(board).to_have_value("")  # no board name left in a field that is off
    gallery = page.locator("#history_gallery .gallery-item")
    expect(gallery).to_have_count(1)
    expect(gallery.locator(".caption-label")).to_contain_text(older["prompt"])
    highlighted = page.locator("#history_gallery .thumbnail-item.selected").all_inner_texts()
    assert not highlighted, f"shown as selected with nothing selected: {highlighted}"


def test_pnginfo_reads_a1111_sends_to_generate_and_shows_scripts_as_text(page, tmp_path):
    a1111 = write_png(tmp_path / "a1111.png", {"parameters": A1111_INFOTEXT})
    comfy_prompt = {"3": {"class_type": "KSampler", "inputs": {"seed": 5, "text": SCRIPT}},
                    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": ONERROR}}}
    hostile = write_png(tmp_path / "hostile.png", {"prompt": json.dumps(comfy_prompt), "comment": SCRIPT + ONERROR},
                        color="purple")

    open_tab(page, "PNG Info")
    page.locator("#pnginfo-file input[type=file]").set_input_files(a1111)
    expect(page.locator("#pnginfo-summary")).to_contain_text("Stable Diffusion web UI")
    expect(page.locator("#pnginfo-summary")).to_contain_text("A1111")
    expect(page.locator("#pnginfo-card")).to_contain_text(A1111_PROMPT)  # the settings card, as in History
    open_fold(page, "#pnginfo-technical")  # the raw text is behind "Technical details"
    expect(page.locator("#pnginfo-parameters textarea")).to_have_value(A1111_INFOTEXT)
    shot(page, "pnginfo-a1111")

    page.locator("#pnginfo-send").click()
    expect_tab_selected(page, "Generate")
    expect(page.locator(PROMPT)).to_have_value(A1111_PROMPT)
    expect(page.locator("#seed input")).to_have_value("1234567")
    expect(page.locator("#size input:checked")).to_have_attribute("value", "768x512")
    expect(page.locator("#enhance input[type=checkbox]")).not_to_be_checked()

    # A hostile file: every chunk is shown as text, nothing runs or renders as HTML.
    open_tab(page, "PNG Info")
    page.locator("#pnginfo-file").get_by_role("button", name="Clear").click()
    expect(page.locator("#pnginfo-parameters textarea")).to_have_value("")
    page.locator("#pnginfo-file input[type=file]").set_input_files(hostile)
    expect(page.locator("#pnginfo-summary")).to_contain_text("ComfyUI")
    expect(page.locator("#pnginfo-json")).to_contain_text('"class_type": "KSampler"')
    expect(page.locator("#pnginfo-json")).to_contain_text(SCRIPT)
    expect(page.locator("#pnginfo-json")).to_contain_text("window.__pwned=2")
    expect(page.locator("#pnginfo-chunks")).to_contain_text(SCRIPT)
    expect(page.locator("#pnginfo-parameters textarea")).to_have_value("")
    wait_for_images(page, "#tab-pnginfo")  # would give an injected <img onerror> its chance
    assert page.evaluate("() => typeof window.__pwned") == "undefined"
    assert page.locator("#tab-pnginfo script, #tab-pnginfo img[src='x']").count() == 0

    # Nothing in it maps onto the form: an error, and the Generate form keeps its values.
    page.locator("#pnginfo-send").click()
    expect(page.locator(".toast-body").filter(has_text="Nothing in it maps onto the Generate form")).to_be_visible()
    expect_tab_selected(page, "PNG Info")
    expect(page.locator(PROMPT)).to_have_value(A1111_PROMPT)
    shot(page, "pnginfo")


def test_batch_of_four_makes_four_images_with_consecutive_seeds(page, app):
    prompt = f"four tin robots dancing {token()}"
    set_batch_count(page, 4)
    expect(page.locator("#batch-results")).to_be_visible()  # shown once the count is > 1

    page.locator(PROMPT).fill(prompt)
    page.locator("#seed input").fill("100")
    before = pngs(app.outputs)
    page.locator("#generate").click()
    thumbs = page.locator("#batch-results .gallery-item")
    expect(thumbs).to_have_count(4)
    # The last step of the click (the recent gallery) is done: nothing more is coming.
    expect(page.locator("#gallery .caption-label").filter(has_text=prompt)).to_have_count(4)

    saved = new_pngs(app.outputs, before, 4, "four PNGs of the batch")
    records = [record_of(p) for p in saved]
    assert sorted(r["seed"] for r in records) == [100, 101, 102, 103]
    assert {r["prompt"] for r in records} == {prompt}
    assert all(str(r["seed"]) in p.name for p, r in zip(saved, records))
    assert sorted(thumbs.locator(".caption-label").all_inner_texts()) == [f"seed {s}" for s in range(100, 104)]
    expect(page.locator("#result-info")).to_contain_text(re.compile(r"Seed\s+10[0-3]\b"))
    shot(page, "batch", "#batch-results", "#gallery")


def test_compare_two_models_labels_and_saves_both(page, app):
    prompt = f"a teapot on a sunny table {token()}"
    before = pngs(app.outputs)
    run_compare(page, prompt, "7")
    # A labelled grid: a column per model, a row per size.
    expect(page.locator("#compare-grid thead th[scope=col]")).to_have_text([FLUX, SD])
    expect(page.locator("#compare-grid tbody th[scope=row]")).to_have_text(["1024 × 1024 · square"])
    expect(page.locator("#compare-grid .cell-caption")).to_have_text(["seed 7", "seed 7"])
    # The last step of the click (the recent gallery) is done: nothing more is coming.
    open_tab(page, "Generate")
    expect(page.locator("#gallery .caption-label").filter(has_text=prompt)).to_have_count(2)

    saved = new_pngs(app.outputs, before, 2, "the two compared PNGs")
    records = [record_of(p) for p in saved]
    assert sorted(r["model"] for r in records) == [FLUX, SD]
    assert all(r["seed"] == 7 and r["prompt"] == prompt and r["image_size"] == "1024x1024" for r in records)
    open_tab(page, "Compare")
    shot(page, "compare", "#compare-grid")


def test_compare_captions_are_visible_without_scrolling_the_grid(page):
    run_compare(page, f"a clipped caption check {token()}", "7")
    hidden = page.evaluate("""() => [...document.querySelectorAll('#compare-grid th, #compare-grid .cell-caption')]
        .filter((c) => { const r = c.getBoundingClientRect(); return r.width === 0 || r.height === 0; })
        .map((c) => c.textContent)""")
    assert not hidden, f"grid labels not drawn: {hidden}"
