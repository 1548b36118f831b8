"""In Chromium: the History detail says an image is AI-labelled; PNG Info reads other tools'
files (a ComfyUI PNG, an A1111 JPEG), says what did not carry over, and sends the rest to
Generate; in Chinese too. Skipped when Chromium or Playwright is missing, unless REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from .browser import PROMPT, open_fold, open_history, require_playwright, wait_for_images
from .conftest import ARTIFACTS
from .support.apps import ServedApp, api_client
from .test_formats import A1111, COMFY_PROMPT, COMFY_WORKFLOW, exif_with, piexif_unicode

pytestmark = pytest.mark.browser
expect = require_playwright()


@pytest.fixture(scope="module")
def app(module_app: ServedApp) -> ServedApp:
    """This module's own demo app (conftest `module_app`)."""
    return module_app


def shot(page, name: str) -> None:
    page.mouse.move(0, 0)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"provenance-{name}.png"), full_page=True)


def open_tab(page, name: str) -> None:
    tab = page.get_by_role("tab", name=name, exact=True)
    tab.click()
    expect(tab).to_have_attribute("aria-selected", "true")


def comfy_png(path: Path) -> Path:
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("prompt", json.dumps(COMFY_PROMPT))
    info.add_text("workflow", json.dumps(COMFY_WORKFLOW))
    Image.new("RGB", (96, 64), "olive").save(path, pnginfo=info)
    return path


def a1111_jpeg(path: Path) -> Path:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (96, 64), "navy").save(out, "JPEG", exif=exif_with(piexif_unicode(A1111)))
    path.write_bytes(out.getvalue())
    return path


def test_history_detail_and_png_info_show_labels_and_other_tools(open_page, app, tmp_path) -> None:

    api_client(app.url).predict("a labelled lighthouse", "FLUX.1-schnell", "768x512", False, 11,
                                           api_name="/generate")
    page = open_page(app, viewport={"width": 1280, "height": 900})
    thumbnails = open_history(page)
    wait_for_images(page, "#history_gallery")
    thumbnails.first.click()
    expect(page.locator("#history-path")).to_contain_text("AI-generated · labelled (China GB 45438, IPTC)")
    expect(page.locator("#history-path")).to_contain_text("no C2PA manifest")
    shot(page, "history-detail")

    open_tab(page, "PNG Info")
    page.locator("#pnginfo-file input[type=file]").set_input_files(comfy_png(tmp_path / "comfy.png"))
    summary = page.locator("#pnginfo-summary")
    expect(summary).to_contain_text("ComfyUI")
    expect(summary).to_contain_text("Not carried over to Generate: Negative prompt, steps, cfg, sampler_name")
    expect(summary).to_contain_text("No AI label · no C2PA manifest")
    shot(page, "pnginfo-comfyui")
    page.locator("#pnginfo-send").click()
    expect(page.get_by_role("tab", name="Generate", exact=True)).to_have_attribute("aria-selected", "true")
    expect(page.locator(PROMPT)).to_have_value("beautiful scenery nature glass bottle")
    expect(page.locator("#seed input")).to_have_value("156680208")
    expect(page.locator("#size input:checked")).to_have_attribute("value", "768x512")

    open_tab(page, "PNG Info")
    page.locator("#pnginfo-file").get_by_role("button", name="Clear").click()
    page.locator("#pnginfo-file input[type=file]").set_input_files(a1111_jpeg(tmp_path / "a1111.jpg"))
    expect(summary).to_contain_text("Stable Diffusion web UI")
    open_fold(page, "#pnginfo-technical")
    expect(page.locator("#pnginfo-parameters textarea")).to_have_value(A1111)
    shot(page, "pnginfo-a1111-jpeg")


def test_png_info_in_chinese(open_page, app, tmp_path) -> None:
    page = open_page(app, locale="zh-CN", viewport={"width": 1280, "height": 900})
    page.get_by_role("tab", name="PNG 信息", exact=True).click()
    page.locator("#pnginfo-file input[type=file]").set_input_files(comfy_png(tmp_path / "comfy.png"))
    summary = page.locator("#pnginfo-summary")
    expect(summary).to_contain_text("未带到生成页")
    expect(summary).to_contain_text("无 AI 标识 · 无 C2PA 清单")
    shot(page, "pnginfo-zh")
