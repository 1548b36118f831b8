"""Start-up recovery covers every folder the app writes, not only where PNGs are saved."""

from __future__ import annotations

from pathlib import Path

import requests

from webui.storage import THUMBS_DIR, TMP_PREFIX, TRASH_DIR, Storage

from .security import attack
from .support.events import Events
from .test_storage import png_bytes


@attack(
    "Crashes",
    "`kill -9` while a thumbnail is written or an image moved to the trash: a zero-byte `.thumbs/.tmp-*.webp`, "
    "an empty thumbnail, an empty reserved name in `.trash/`",
    "the next start removes them; the gallery shows a real thumbnail",
)
def test_a_crash_leaves_nothing_in_thumbnails_or_trash_after_a_start(serve, tmp_path: Path) -> None:
    outputs = tmp_path / "outputs"
    storage = Storage(outputs).open()
    record = storage.save(png_bytes(), {"prompt": "survivor", "model": "m", "image_size": "768x512", "seed": 1})
    storage.close()
    thumbs, trash = outputs / THUMBS_DIR, outputs / TRASH_DIR / "2026-01-01"
    thumbs.mkdir()
    trash.mkdir(parents=True)
    leftovers = [thumbs / f"{TMP_PREFIX}k2j3h4.webp", thumbs / f"{record['id']}.webp",  # cut short by kill -9
                 trash / "00001-1-moved.png", trash / f"{TMP_PREFIX}x.png"]  # a name reserved for a move; a temp file
    for path in leftovers:
        path.write_bytes(b"")

    app = serve(outputs=outputs)

    assert not [p for p in leftovers if p.exists() and p.stat().st_size == 0]
    assert not list(thumbs.glob(f"{TMP_PREFIX}*")) and not list(trash.iterdir())
    events = Events(app.url)
    answer = events.call(events.find(writes=("history_gallery",)), ["", "", "", False, "", 1, None])
    (item,) = answer["output"]["data"][0]["value"]
    served = requests.get(item["image"]["url"], timeout=10)
    assert served.status_code == 200 and served.content[8:12] == b"WEBP"
