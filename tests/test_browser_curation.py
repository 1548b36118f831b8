"""Curating in real Chromium: star and rate three images, put them on a board, find them by
tokens, export the whole filter, and open the share pack's contact sheet."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from gradio_client import Client

from .browser import open_history, require_playwright
from .conftest import ARTIFACTS

pytestmark = pytest.mark.browser
expect = require_playwright()


def done(action, check, tries: int = 5) -> None:
    """Do `action` until `check` holds (each check polls for a few seconds)."""
    for _ in range(tries - 1):
        action()
        try:
            check()
            return
        except AssertionError:
            continue
    action()
    check()


def test_star_board_filter_and_export(serve, open_page, tmp_path: Path) -> None:
    app = serve()
    client = Client(app.url, verbose=False)
    for n in range(4):
        client.predict(f"a curated lighthouse {n}", "FLUX.1-schnell", "768x512", False, n, api_name="/generate")
    page = open_page(app)
    thumbs = open_history(page)
    expect(thumbs).to_have_count(4)
    record = page.locator("#history-record")
    thumbs.first.click()
    page.locator("#history-technical").get_by_text("Technical details").click()  # the raw record, folded away
    for index in range(3):  # star three, rate them 4, put them on one board
        thumbs.nth(index).click()
        expect(record).to_contain_text(f'"a curated lighthouse {3 - index}"')
        # the controls then load this image's marks; a click before they arrive is undone by them
        done(lambda: page.locator("#history-star input").check(), lambda: expect(record).to_contain_text(
            '"starred": true', timeout=3000))
        done(lambda: page.locator("#history-rating label", has_text="4").click(),
             lambda: expect(record).to_contain_text('"rating": 4', timeout=3000))
        board = page.locator("#history-board input")
        board.fill("Lighthouses")
        board.press("Enter")
        page.locator("#history-board-add").click()
        expect(page.locator("#history-record")).to_contain_text("Lighthouses")
    search = page.locator("#history-search textarea, #history-search input").first
    search.fill('is:starred rating:>=4 board:"Lighthouses"')
    search.press("Enter")
    expect(page.locator("#history-page")).to_contain_text("3 found")
    with page.expect_download() as download:
        page.locator("#history-export").click()
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
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    sheet.screenshot(path=str(ARTIFACTS / "share-pack-contact-sheet.png"), full_page=True)
