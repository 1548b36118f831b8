"""Curating in real Chromium: star and rate three images, put them on a board, find them by
tokens, export the whole filter, and open the share pack's contact sheet; pick many
thumbnails by mouse and keyboard across pages; a recipe with slots to a labelled matrix,
found again by its board."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from .browser import PROMPT, generate, open_history, require_playwright
from .conftest import ARTIFACTS
from .support.apps import api_client

pytestmark = pytest.mark.browser
expect = require_playwright()


def test_star_board_filter_and_export(serve, open_page, tmp_path: Path) -> None:
    """The issue's journey: star three images, make a board, select all starred in one
    filter, export them, open the ZIP's index.html in Chromium and look at it."""
    app = serve()
    client = api_client(app.url)
    for n in range(4):
        client.predict(f"a curated lighthouse {n}", "FLUX.1-schnell", "768x512", False, n, api_name="/generate")
    page = open_page(app)
    thumbs = open_history(page)
    expect(thumbs).to_have_count(4)
    record = page.locator("#history-record")
    thumbs.first.click()
    page.locator("#history-technical").get_by_text("Technical details").click()  # the raw record, folded away
    for index in range(3):  # star three and rate them 4, each right after picking it (no retry: no race)
        if index:  # the first is shown already: a second click's late answer would untick its new star
            thumbs.nth(index).click()
        expect(record).to_contain_text(f'"a curated lighthouse {3 - index}"')
        page.locator("#history-star input").check()
        expect(record).to_contain_text('"starred": true')
        page.locator("#history-rating label", has_text="4").click()
        expect(record).to_contain_text('"rating": 4')
        expect(page.locator("#history-star input")).to_be_checked()
        # the grid follows: this thumbnail now wears the badge
        expect(page.locator("#history_gallery .thumbnail-item[data-marks='★ · 4/5']")).to_have_count(index + 1)
    # a chip writes the token; "select all" takes the whole filter; the board is made on first use
    page.locator("#history-chips button[data-add='is:starred']").click()
    expect(page.locator("#history-search textarea, #history-search input").first).to_have_value("is:starred")
    expect(page.locator("#history-page")).to_contain_text("3 found")
    page.locator("#history-picks button[data-picks='all']").click()
    expect(page.locator("#history-picks")).to_contain_text("All 3 in this filter selected")
    expect(page.locator("#history_gallery .thumbnail-item.picked")).to_have_count(3)
    board = page.locator("#bulk-board input")
    board.fill("Lighthouses")
    board.press("Enter")
    page.locator("#bulk-board-add").click()
    expect(page.locator("#history-status .status-line")).to_contain_text("Put 3 pictures on the board “Lighthouses”")
    assert {r["prompt"] for r in client.predict('board:"Lighthouses"', 0, 10, api_name="/history")} == {
        f"a curated lighthouse {n}" for n in (1, 2, 3)}
    with page.expect_download() as download:
        page.locator("#bulk-export").click()
        page.locator("#history-pack a").first.click()
    pack = tmp_path / "pack.zip"
    download.value.save_as(pack)
    with zipfile.ZipFile(pack) as archive:
        assert len([n for n in archive.namelist() if n.startswith("images/")]) == 3
        archive.extractall(tmp_path / "pack")
    sheet = page.context.new_page()
    sheet.goto((tmp_path / "pack" / "index.html").as_uri())
    expect(sheet.locator("figure")).to_have_count(3)
    expect(sheet.locator("figure img").first).to_have_js_property("complete", True)
    assert sheet.evaluate("[...document.images].every(i => i.naturalWidth > 0)")
    expect(sheet.locator("body")).to_contain_text("Lighthouses")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    sheet.screenshot(path=str(ARTIFACTS / "share-pack-contact-sheet.png"), full_page=True)


def test_pick_with_shift_ctrl_and_keys_across_pages(serve, open_page) -> None:
    """Click, Shift-click, Ctrl-click, Space and Escape pick thumbnails; picks survive paging;
    the bulk buttons act on exactly what was picked."""
    app = serve("--visitor-queue", "30")  # one client submits 26 jobs
    client = api_client(app.url)
    jobs = [client.submit(f"a picked kite {n}", "FLUX.1-schnell", "768x512", False, n, api_name="/generate")
            for n in range(26)]  # two pages (24 a page); all submitted up front
    ids = [job.result()[1]["id"] for job in jobs]
    assert len(set(ids)) == 26
    page = open_page(app)
    thumbs = open_history(page).locator("button.thumbnail-item")
    picks = page.locator("#history-picks")
    picked = page.locator("#history_gallery .thumbnail-item.picked")
    expect(thumbs).to_have_count(24)
    thumbs.nth(0).click()  # shows it, picks nothing: the range starts here
    expect(page.locator("#history-image img")).to_be_visible()
    expect(page.locator("#bulk-actions")).to_be_hidden()
    thumbs.nth(2).click(modifiers=["Shift"])
    expect(picks).to_contain_text("3 selected")
    expect(picked).to_have_count(3)
    thumbs.nth(1).click(modifiers=["Control"])
    expect(picks).to_contain_text("2 selected")
    expect(thumbs.nth(1)).to_have_attribute("aria-pressed", "false")
    page.locator("#history-next").click()
    expect(page.locator("#history-page")).to_contain_text("Page 2 of 2")
    expect(picked).to_have_count(0)
    thumbs.nth(1).click(modifiers=["Control"])
    expect(picks).to_contain_text("3 selected")
    page.locator("#history-prev").click()
    expect(page.locator("#history-page")).to_contain_text("Page 1 of 2")
    expect(picked).to_have_count(2)  # the first page's picks are still there
    thumbs.nth(5).focus()
    page.keyboard.press("Space")
    expect(picks).to_contain_text("4 selected")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    expect(picks).to_contain_text("6 selected")
    page.locator("#bulk-star").click()
    expect(page.locator("#history-status .status-line")).to_contain_text("Starred 6 pictures")
    starred = client.predict("is:starred", 0, 50, api_name="/history")
    newest_first = [r["id"] for r in client.predict("", 0, 50, api_name="/history")]  # the grid's order
    assert {r["id"] for r in starred} == {newest_first[i] for i in (0, 2, 5, 6, 7, 25)}
    thumbs.nth(0).focus()
    page.keyboard.press("Escape")
    expect(picked).to_have_count(0)
    expect(page.locator("#bulk-actions")).to_be_hidden()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)


def test_recipe_with_slots_to_a_labelled_matrix_found_again_by_board(serve, open_page) -> None:
    """The issue's second journey: save a recipe with slots (and its example picture), run
    a 3×2 matrix from it, see the labelled grid, find it again in History by board:."""
    app = serve()
    page = open_page(app)
    generate(page, "a teapot on a marble table, studio light")
    page.locator("#library").get_by_text("Prompt library").click()
    page.locator(PROMPT).fill("a {product} on a marble table, studio light")
    page.locator("#recipe-name textarea, #recipe-name input").first.fill("Product shot")
    page.locator("#recipe-save").click()
    expect(page.locator(".toast-body")).to_contain_text("Saved “Product shot”")
    recipe = page.locator("#recipe input")
    recipe.click()
    page.get_by_role("option", name=re.compile("Product shot")).click()
    expect(page.locator("#recipe-text textarea, #recipe-text input").first).to_have_value(
        "a {product} on a marble table, studio light")
    page.locator("#recipe-set-example").click()
    expect(page.locator("#recipe-example img")).to_be_visible()
    page.get_by_role("tab", name="Matrix", exact=True).click()
    page.locator("#matrix-recipe input").click()
    page.get_by_role("option", name=re.compile("Product shot")).click()
    slots = page.locator("#matrix-slots textarea")
    expect(slots).to_have_value("product: ")
    slots.fill("product: teapot | vase | lamp")
    page.locator("#matrix-sizes label", has_text="768 × 512").click()
    expect(page.locator("#matrix-count")).to_contain_text("This makes 6 images (3 rows × 2 columns)")
    page.locator("#matrix-run").click()
    grid = page.locator("#matrix-grid table.matrix-grid")
    expect(grid.locator("img")).to_have_count(6, timeout=90_000)
    expect(grid.locator("th[scope=row]")).to_have_text(["teapot", "vase", "lamp"])
    expect(grid.locator("th[scope=col]")).to_have_count(2)
    caption = grid.locator("caption").inner_text()
    board = re.search(r"“(Matrix [^”]+)”", caption).group(1)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    grid.screenshot(path=str(ARTIFACTS / "matrix-from-recipe.png"))
    open_history(page)
    page.locator("#history-chips button", has_text=f"Board: {board}").click()
    search = page.locator("#history-search textarea, #history-search input").first
    expect(search).to_have_value(f'board:"{board}"')
    expect(page.locator("#history-page")).to_contain_text("6 found")
    expect(page.locator("#history_gallery .thumbnail-item")).to_have_count(6)
    page.screenshot(path=str(ARTIFACTS / "history-matrix-board.png"))


SCREENS = {"laptop": {"viewport": {"width": 1366, "height": 768}},
           "phone": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
                     "has_touch": True}}
_GRID_TOP = "() => document.querySelector('#history_gallery').getBoundingClientRect().top + window.scrollY"


@pytest.mark.parametrize(("locale", "screen"), [("en-US", "laptop"), ("zh-CN", "phone")])
def test_a_click_shows_the_picture_the_grid_stays_put_and_bulk_answers_stay_in_the_status_line(
        serve, open_page, locale, screen) -> None:
    """A click shows the picture and never opens the bulk bar; the corner circle picks; the bar
    is docked at the window's bottom (the grid does not move); a refused bulk action is told in
    the History status line in the visitor's language, in sight, with no toast; starred and
    rated thumbnails wear a badge; every board is one chip menu away; the detail panel's
    "Add to board" is a normal button on the field's line."""
    from webui.i18n import LABELS, MESSAGES

    lang = locale[:2]
    text, said = LABELS[lang], MESSAGES[lang]
    app = serve()
    client = api_client(app.url)
    jobs = [client.submit(f"a docked heron {n}", "FLUX.1-schnell", "768x512", False, n, api_name="/generate")
            for n in range(5)]  # all submitted up front
    ids = [job.result()[1]["id"] for job in jobs]
    client.predict(ids[0], True, 4, api_name="/mark")
    client.predict([ids[1]], [f"Shelf {n:02d}" for n in range(14)], [], api_name="/board")
    page = open_page(app, locale, **SCREENS[screen])
    thumbs = open_history(page, lang)
    expect(thumbs).to_have_count(5)
    items = page.locator("#history_gallery .thumbnail-item")
    status = page.locator("#history-status .status-line")
    # the starred one wears "★ · 4/5", and says it in words to a screen reader
    badge = page.locator("#history_gallery .thumbnail-item[data-marks='★ · 4/5']")
    expect(badge).to_have_count(1)
    expect(badge).to_have_attribute("aria-description", re.compile(re.escape(text["mark_starred"])))
    # what is drawn over the grid comes in its own answers: wait for both before measuring
    expect(page.locator("#history-chips details.chip-menu[data-kind='board']")).to_have_count(1)
    expect(page.locator("#history-picks .picks-bar")).to_contain_text(text["pick_all"].format(n=5))
    grid_top = page.evaluate(_GRID_TOP)

    # a plain click shows the picture: no bulk bar, the grid stays where it was
    thumbs.first.click()
    expect(page.locator("#history-image img")).to_be_visible()
    expect(page.locator("#history-star")).to_be_visible()
    expect(page.locator("#bulk-actions")).to_have_count(0)
    assert page.evaluate(_GRID_TOP) == grid_top
    # the detail panel's board buttons keep a button's height, on the field's line
    add = page.locator("#history-board-add").bounding_box()
    field = page.locator("#history-board .wrap-inner").bounding_box()  # the box one types in
    assert add["height"] <= 48 and abs((add["y"] + add["height"]) - (field["y"] + field["height"])) <= 4, (add, field)

    # the corner circle picks (a click with the mouse, a tap on a phone); the bar docks below
    plain = page.evaluate("() => [...document.querySelectorAll('#history_gallery .thumbnail-item')]"
                          ".flatMap((b, i) => b.hasAttribute('data-marks') ? [] : [i])")
    for index in plain[:2]:  # two not starred yet (jobs run side by side: the grid's order is theirs)
        items.nth(index).scroll_into_view_if_needed()
        if screen == "phone":
            items.nth(index).tap(position={"x": 14, "y": 14})
        else:
            items.nth(index).click(position={"x": 14, "y": 14})
    expect(page.locator("#bulk-count")).to_contain_text(text["picks_count"].format(n=2))
    expect(items.and_(page.locator(".picked"))).to_have_count(2)
    expect(page.locator("#bulk-actions")).to_be_in_viewport(ratio=1)
    assert page.evaluate(_GRID_TOP) == grid_top
    assert page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") <= 0

    # an empty board name: told in the status line, in the visitor's language, in sight; no toast
    page.locator("#bulk-board-add").click()
    expect(status).to_have_attribute("data-state", "error")
    expect(status).to_contain_text(said["bad_board_name"])
    expect(status).to_be_in_viewport(ratio=1)
    expect(page.locator(".toast-body")).to_have_count(0)
    expect(page.get_by_text(re.compile(r"^\s*(Error|错误)\s*$"))).to_have_count(0)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"history-dock-{screen}-{lang}.png"))
    # the next action replaces it: star both, and their badges appear
    page.locator("#bulk-star").click()
    expect(status).to_have_attribute("data-state", "done")
    expect(status).to_contain_text(text["bulk_starred"].format(n=2))
    expect(page.locator("#history_gallery .thumbnail-item[data-marks^='★']")).to_have_count(3)
    page.locator("#bulk-count button[data-picks='clear']").click()
    expect(page.locator("#bulk-actions")).to_have_count(0)

    # all 14 boards are reachable: one chip opens the list, typing narrows it
    menu = page.locator("#history-chips details.chip-menu[data-kind='board']")
    menu.locator("summary").click()
    menu.locator(".chip-menu-find").fill("13")
    shelves = menu.locator(".chip-menu-list button:visible")
    expect(shelves).to_have_count(1)
    shelves.click()
    search = page.locator("#history-search textarea, #history-search input").first
    expect(search).to_have_value('board:"Shelf 13"')
    expect(thumbs).to_have_count(1)
    # saving the search answers in the same line, no toast: why not, then that it is kept
    page.locator("#search-save").click()  # no name yet
    expect(status).to_have_attribute("data-state", "error")
    expect(status).to_contain_text(said["bad_search_name"])
    page.locator("#search-name textarea, #search-name input").first.fill("Shelf")
    page.locator("#search-save").click()
    expect(status).to_have_attribute("data-state", "done")
    expect(page.locator("#history-chips button.saved")).to_have_text("Shelf")
    expect(page.locator(".toast-body")).to_have_count(0)
