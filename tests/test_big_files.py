"""Hostile sizes over HTTP: a huge text chunk on PNG Info, an oversized upload, Gradio's cache kept in check."""

from __future__ import annotations

import io
import json
from pathlib import Path

import requests
from PIL import Image

from webui import metadata
from webui.handlers.pnginfo import SHOWN_CHARS, SHOWN_CHUNKS
from webui.uploads import MAX_UPLOAD_BYTES

from .security import attack
from .support.apps import ServedApp, api_client
from .support.events import Events, file_data


def upload(app: ServedApp, name: str, data: bytes) -> requests.Response:
    return requests.post(app.url + "gradio_api/upload", files={"files": (name, data, "image/png")}, timeout=120)


def small_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "blue").save(buf, "PNG")
    return buf.getvalue()


@attack(
    "Flooding",
    "Drop on PNG Info a PNG holding a 10 MB text chunk, a 10 MB JSON chunk and 300 more chunks",
    "an answer of at most a few hundred KB: each chunk cut at 20,000 characters with \"N more characters\", "
    "50 other chunks listed, and every chunk in full as a JSON download",
)
def test_png_info_shows_a_bounded_part_of_huge_chunks_and_offers_the_rest(demo_app: ServedApp) -> None:
    huge = "word " * 2_000_000
    chunks = {"parameters": huge, "generation": json.dumps({"prompt": huge}),
              **{f"note{i:03d}": f"small {i}" for i in range(300)}}
    png = metadata.add_text_chunks(small_png(), chunks)
    response = upload(demo_app, "huge.png", png)
    assert response.ok, response.text
    (path,) = response.json()
    events = Events(demo_app.url)
    answer = events.call(events.find(reads=("pnginfo-file",)), [file_data(path), "UTC"])
    assert answer["success"], answer
    assert len(json.dumps(answer)) < 400_000
    summary, parameters, json_text, others, _, download, settings = answer["output"]["data"]
    assert "more characters" in settings and len(settings) < 2 * SHOWN_CHARS + 2_000  # bounded (prompt and its copy)
    assert parameters.startswith("word word") and f"{len(huge) - SHOWN_CHARS} more characters" in parameters
    assert "more characters" in json_text and len(json_text) < SHOWN_CHARS + 1_000
    assert len(others) == SHOWN_CHUNKS + 1 and "250 more chunks" in others["…"]
    full = requests.get(download["value"]["url"], timeout=60)
    assert full.status_code == 200 and json.loads(full.content) == chunks


@attack(
    "Flooding",
    "Send the same kind of PNG (a 10 MB text chunk, 300 more) to the /png_info endpoint",
    "the same bounded answer as the page: chunks and record fields cut at 20,000 characters, "
    "\"truncated\": true",
)
def test_the_png_info_endpoint_is_bounded_too(demo_app: ServedApp) -> None:
    from gradio_client import handle_file

    huge = "word " * 2_000_000
    png = metadata.add_text_chunks(small_png(), {"parameters": huge, **{f"n{i:03d}": "x" for i in range(300)}})
    path = Path(demo_app.cwd) / "huge-endpoint.png"
    path.write_bytes(png)
    info = api_client(demo_app.url).predict(handle_file(str(path)), api_name="/png_info")
    assert len(json.dumps(info)) < 400_000
    assert info["truncated"] is True and len(info["chunks"]) == SHOWN_CHUNKS + 1
    assert info["chunks"]["parameters"].startswith("word word") and "more characters" in info["chunks"]["parameters"]


@attack(
    "Flooding",
    "Upload a file just over 50 MB",
    "refused by Gradio's upload limit with 413 and its message that the file is too large",
)
def test_uploads_over_the_limit_are_refused(demo_app: ServedApp) -> None:
    refused = upload(demo_app, "big.png", b"\0" * (MAX_UPLOAD_BYTES + 1024))
    assert refused.status_code == 413 and "size" in refused.text.lower(), (refused.status_code, refused.text[:200])
    assert upload(demo_app, "fine.png", small_png()).ok


@attack(
    "Flooding",
    "Generate many images, each copied into Gradio's cache folder",
    "copies older than a day are swept every hour, and all of them when the app stops (`bench/temp_folder.py` "
    "measures the folder after 1,000 generations)",
)
def test_gradio_cache_copies_are_swept(serve) -> None:
    app = serve()
    assert app.app.blocks.delete_cache == (3600, 86400)
    event = requests.post(app.url + "gradio_api/call/generate",
                          json={"data": ["swept", "FLUX.1-schnell", "768x512", False, 1]}, timeout=30).json()
    text = requests.get(f"{app.url}gradio_api/call/generate/{event['event_id']}", timeout=60).text
    copy = Path(json.loads(text.split("event: complete\ndata: ", 1)[1].splitlines()[0])[0]["path"])
    assert copy.is_file()
    app.stop()
    assert not copy.exists()
