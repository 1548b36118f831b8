"""Curating in real Chromium: star and rate three images, put them on a board, find them by
tokens, export the whole filter, and open the share pack's contact sheet; pick many
thumbnails by mouse and keyboard across pages; a recipe with slots to a labelled matrix,
found again by its board."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from .browser import PROMPT, SCREENS, generate, open_history, require_playwright
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


_GRID_TOP = "() => document.querySelector('#history_gallery').getBoundingClientRect().top + window.scrollY"


@pytest.mark.parametrize(("locale", "screen"), [("en-US", "laptop"), ("zh-CN", "phone")])
def test_a_click_shows_the_picture_the_grid_stays_put_and_bulk_answers_stay_in_the_status_line(
        serve, open_page, locale, screen) -> None:
    """A click shows the picture and never opens the bulk bar; the corner circle picks; the bar
    is docked at the window's bottom (the grid does not move); a refused bulk action is told in
    the History status line in the visitor's language, in sight, with no toast; starred and
    rated thumbnails wear a badge; every board is one chip menu away; the detail panel's
    board buttons are normal buttons, on the field's line (under it on a phone)."""
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
    grid_top, scrolled = page.evaluate(_GRID_TOP), page.evaluate("() => window.scrollY")

    # a plain click shows the picture: no bulk bar, the grid stays where it was; the picture is
    # in sight (on a phone, below the grid, the page scrolls to it; on a laptop it is beside it)
    thumbs.first.click()
    expect(page.locator("#history-image img")).to_be_visible()
    expect(page.locator("#history-image img")).to_be_in_viewport()
    expect(page.locator("#history-star")).to_be_visible()
    expect(page.locator("#bulk-actions")).to_have_count(0)
    assert page.evaluate(_GRID_TOP) == grid_top
    # the detail panel's board buttons keep a button's height and their whole words: on the
    # field's line on a laptop; side by side on the line under the field on a phone
    add, remove = page.locator("#history-board-add").bounding_box(), page.locator("#history-board-remove").bounding_box()
    field = page.locator("#history-board .wrap-inner").bounding_box()  # the box one types in
    assert add["height"] <= 48 and abs(add["y"] - remove["y"]) <= 2 and add["x"] + add["width"] <= remove["x"], (
        add, remove)
    assert page.evaluate("() => [...document.querySelectorAll('#history-board-add, #history-board-remove')]"
                         ".every((b) => b.scrollWidth <= b.clientWidth)")
    if screen == "phone":
        assert 0 <= add["y"] - (field["y"] + field["height"]) <= 40, (add, field)
    else:
        assert abs((add["y"] + add["height"]) - (field["y"] + field["height"])) <= 4, (add, field)

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
    # once picking, every thumbnail shows its circle (a mouse showed it on hover only): targets now
    page.mouse.move(0, 0)
    page.wait_for_function("() => [...document.querySelectorAll('#history_gallery .thumbnail-item')]"
                           ".every((t) => getComputedStyle(t, '::after').opacity === '0.9' || t.matches('.picked'))")
    if screen == "phone":  # a tap leaves :hover behind; no caption stays over the picture just picked
        page.wait_for_function("() => [...document.querySelectorAll('#history_gallery .caption-label')]"
                               ".every((c) => getComputedStyle(c).opacity === '0')")
    expect(page.locator("#bulk-actions")).to_be_in_viewport(ratio=1)
    assert page.evaluate(_GRID_TOP) == grid_top
    if screen == "laptop":  # the page did not jump when the picture (already in sight) was shown
        assert page.evaluate("() => window.scrollY") == scrolled
    assert page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") <= 0
    # scrolled to the end, the page's last line (its footer) is wholly above the bar: nothing at
    # the end (Trash, the footer) stays behind it
    page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
    page.wait_for_function(_AT_PAGE_END)
    page.wait_for_function(_END_ABOVE_BAR)

    # an empty board name: told in the status line, in the visitor's language, in sight; no toast
    if screen == "phone":  # there the board field and its buttons are one "More" away
        page.locator("#bulk-more").click()
        expect(page.locator("#bulk-more")).to_have_attribute("aria-expanded", "true")
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
    # Esc in the bar, e.g. right after a bulk action, clears the picks and the bar goes; on the
    # phone, where More is unfolded, the first Esc folds it (focus back on More), then ✕ clears
    if screen == "phone":
        page.locator("#bulk-star").press("Escape")
        expect(page.locator("#bulk-more")).to_have_attribute("aria-expanded", "false")
        expect(page.locator("#bulk-more")).to_be_focused()
        expect(page.locator("#bulk-actions")).to_have_count(1)
        page.locator("#bulk-count button[data-picks='clear']").click()
    else:
        page.locator("#bulk-star").press("Escape")
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


# The docked bar on a phone: two lines of controls at most. Each line is at most 48 px (a 34 px
# tap target, or the count wrapping to two lines of text), plus gaps and padding: 120 px is a
# seventh of the 844 px window. The old bar wrapped to four lines (163-196 px).
PHONE_BAR_MAX = 120
_LAST_ABOVE_BAR = """(inView) => {
  const items = document.querySelectorAll('#history_gallery .thumbnail-item');
  const last = items[items.length - 1].getBoundingClientRect();
  const bar = document.getElementById('bulk-actions').getBoundingClientRect();
  return last.bottom <= bar.top && (!inView || last.top >= 0);
}"""
# The last thumbnail in the window but behind the bar, the one before it focused (not scrolled to).
_LAST_BEHIND_BAR = """() => {
  const items = [...document.querySelectorAll('#history_gallery .thumbnail-item')], last = items[items.length - 1];
  window.scrollBy(0, last.getBoundingClientRect().bottom - (window.innerHeight - 8));
  items[items.length - 2].focus({preventScroll: true});
}"""
_IS_BEHIND_BAR = """() => {
  const items = document.querySelectorAll('#history_gallery .thumbnail-item');
  const last = items[items.length - 1].getBoundingClientRect();
  return last.bottom > document.getElementById('bulk-actions').getBoundingClientRect().top
    && last.bottom <= window.innerHeight;
}"""
_AT_PAGE_END = "() => window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 1"
_END_ABOVE_BAR = """() => document.querySelector('footer').getBoundingClientRect().bottom
  <= document.getElementById('bulk-actions').getBoundingClientRect().top"""


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_on_a_phone_the_bulk_bar_is_two_lines_hides_no_thumbnail_and_folds_the_rest_under_more(
        serve, open_page, locale) -> None:
    """With pictures picked on a 390x844 phone the docked bar is two lines (what is picked,
    Star, Unstar, More; the rating); the page keeps its height free, so the last thumbnail can
    be scrolled above it and one reached by the keyboard is not hidden behind it. "More"
    (a disclosure button, keyboard too) unfolds the board field on its own line with "Add to
    board" and "Remove from board" side by side under it, then Export and Delete."""
    from webui.i18n import LABELS

    text = LABELS[locale[:2]]
    app = serve()
    client = api_client(app.url)
    for wave in (range(5), range(5, 10)):  # a visitor's queue holds 8: two waves, each submitted up front
        jobs = [client.submit(f"a tall crane {n}", "FLUX.1-schnell", "768x512", False, n, api_name="/generate")
                for n in wave]
        for job in jobs:
            job.result()
    page = open_page(app, locale, **SCREENS["phone"])
    thumbs = open_history(page, locale[:2])
    expect(thumbs).to_have_count(10)
    items = page.locator("#history_gallery .thumbnail-item")
    for index in (0, 9):
        items.nth(index).scroll_into_view_if_needed()
        items.nth(index).tap(position={"x": 14, "y": 14})
    expect(page.locator("#bulk-count")).to_contain_text(text["picks_count"].format(n=2))
    bar = page.locator("#bulk-actions")
    expect(bar).to_be_in_viewport(ratio=1)
    more = bar.get_by_role("button", name=text["bulk_more"], exact=True)
    expect(more).to_have_attribute("aria-expanded", "false")
    for name in ("bulk_star", "bulk_unstar"):
        expect(bar.get_by_role("button", name=text[name], exact=True)).to_be_visible()
    expect(bar.get_by_role("radio", name=text["rating_none"], exact=True)).to_be_visible()
    expect(bar.get_by_role("radio", name="5", exact=True)).to_be_in_viewport(ratio=1)
    expect(page.locator("#bulk-board-remove")).to_be_hidden()
    box = bar.bounding_box()
    assert box["height"] <= PHONE_BAR_MAX and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    # scrolled to the end of the page, the last thumbnail is wholly above the bar (the page
    # keeps the bar's height free below its end)
    page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
    page.wait_for_function(_AT_PAGE_END)
    page.wait_for_function(_LAST_ABOVE_BAR, arg=False)
    # one reached by the keyboard while behind the bar is scrolled above it
    _reach_the_last_by_keyboard(page, items)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"history-dock-phone-{locale[:2]}-folded.png"))

    # "More", from the keyboard: the rest unfolds, and still no thumbnail hides behind the taller bar
    more.focus()
    more.press("Enter")
    expect(more).to_have_attribute("aria-expanded", "true")
    remove = bar.get_by_role("button", name=text["board_remove"], exact=True)
    expect(remove).to_be_visible()
    for name in ("board_add", "bulk_export", "bulk_delete"):
        expect(bar.get_by_role("button", name=text[name], exact=True)).to_be_visible()
    expect(bar).to_be_in_viewport(ratio=1)
    field = page.locator("#bulk-board").bounding_box()
    add, gone = page.locator("#bulk-board-add").bounding_box(), remove.bounding_box()
    # the field has its own line; its two buttons share the next one, each whole (no wrapped text)
    assert abs(add["y"] - gone["y"]) <= 2 and add["x"] + add["width"] <= gone["x"], (add, gone)
    assert gone["y"] >= field["y"] + field["height"] and gone["y"] - (field["y"] + field["height"]) <= 16, (
        field, gone)
    assert field["x"] <= add["x"] and gone["x"] + gone["width"] <= field["x"] + field["width"] + 1, (field, gone)
    assert page.evaluate("() => [...document.querySelectorAll('#bulk-board-add, #bulk-board-remove')]"
                         ".every((b) => b.scrollWidth <= b.clientWidth && b.offsetHeight <= 48)")
    _reach_the_last_by_keyboard(page, items)
    page.screenshot(path=str(ARTIFACTS / f"history-dock-phone-{locale[:2]}-more.png"))
    # and it folds again: Esc from inside it hands focus back to More, and More itself folds it
    remove.focus()
    remove.press("Escape")
    expect(more).to_have_attribute("aria-expanded", "false")
    expect(more).to_be_focused()
    expect(remove).to_be_hidden()
    more.press("Enter")
    expect(more).to_have_attribute("aria-expanded", "true")
    more.press("Enter")
    expect(more).to_have_attribute("aria-expanded", "false")
    expect(remove).to_be_hidden()
    # the whole filter picked: the longer "All 10 in this filter selected" keeps to two lines
    page.locator("#history-picks button[data-picks='all']").click()
    expect(page.locator("#bulk-count")).to_contain_text(text["picks_all_filter"].format(n=10))
    box = bar.bounding_box()
    assert box["height"] <= PHONE_BAR_MAX, box


def _reach_the_last_by_keyboard(page, items) -> None:
    """With the last thumbnail in the window but behind the bar, → from the one before it
    focuses it: the page scrolls it above the bar (it would stay hidden, being "in view")."""
    page.evaluate(_LAST_BEHIND_BAR)
    page.wait_for_function(_IS_BEHIND_BAR)
    expect(items.nth(items.count() - 2)).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(items.last).to_be_focused()
    page.wait_for_function(_LAST_ABOVE_BAR, arg=True)
