"""Share packs: a ZIP of chosen images for people who do not use the app.

    images/<day>/<name>.png   the PNGs byte for byte as saved (their chunks included); an
                              image of someone else's with the record in its chunks as
                              the recipient may read it (`Access.handed`), pixels unchanged
    labelled/<day>/<name>.png with a visible label on: copies stamped "AI生成 / AI-generated"
    metadata.json             the list of records
    metadata.csv              one row per image, for a spreadsheet
    index.html                a contact sheet: each image with its prompt, model, size,
                              seed, author, stars and boards; no script, no network,
                              laid out to print to PDF

Built streaming: each image is copied from its file into the archive and the three
text files are written record by record, so 1,000 images never sit in memory.
"""

from __future__ import annotations

import csv
import html
import io
import json
import logging
import tempfile
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, NamedTuple
from urllib.parse import quote

from . import metadata
from .record import MAX_RATING

log = logging.getLogger(__name__)

EXPORT_DIR_NAME = "yunyx-webui-exports"
CSV_COLUMNS = ("id", "created_at", "user", "prompt", "model", "image_size", "seed", "prompt_enhancement",
               "inference", "starred", "rating", "boards", "file")
_COPY_CHUNK = 1024 * 1024

class Entry(NamedTuple):
    """One image of a pack: its record as the recipient may read it, and its file."""

    record: dict[str, Any]
    path: Path
    rewrite: bool = False  # someone else's image: its chunks carry `record`, not the owner's own


def export_dir() -> Path:
    """Where packs are written: Gradio serves its temp folder, so the browser can download them."""
    folder = Path(tempfile.gettempdir()) / EXPORT_DIR_NAME
    folder.mkdir(exist_ok=True)
    return folder


def write_pack(entries: Iterable[Entry], *, title: str = "Share pack",
               stamp: Callable[[bytes], bytes] | None = None) -> Path:
    """Write a share pack to a fresh file in :func:`export_dir` and return its path.

    `entries` is consumed once (a generator is fine). With `stamp`, each image also goes
    in as `labelled/<day>/<name>.png`, a copy with a visible AI label that the contact
    sheet shows; `images/` keeps the originals byte for byte.
    An image whose file vanished meanwhile is left out of every part of the pack.
    """
    target = export_dir() / f"share-pack-{datetime.now(UTC):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:12]}.zip"
    tmp = target.with_name("." + target.name)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            records = []
            for record, path, rewrite in entries:
                name = _image_name(record)
                try:
                    # PNGs are compressed already: stored, not deflated again
                    if rewrite:
                        archive.writestr(_info(f"images/{name}"), metadata.embed_record(path.read_bytes(), record))
                    else:
                        with path.open("rb") as source, archive.open(_info(f"images/{name}"), "w") as out:
                            while block := source.read(_COPY_CHUNK):
                                out.write(block)
                except FileNotFoundError:
                    continue
                except ValueError:  # not a PNG we can splice (never one of ours): left out, not sent whole
                    log.warning("Share pack: %s left out (its chunks could not be rewritten).", name)
                    continue
                shown = f"images/{name}"
                if stamp is not None:
                    try:
                        archive.writestr(_info(f"labelled/{name}"), stamp(path.read_bytes()))
                        shown = f"labelled/{name}"
                    except ValueError:  # not a decodable PNG: the original only
                        pass
                records.append({**record, "image": f"images/{name}", "shown": shown})
            with archive.open("metadata.json", "w") as out:
                _write_json([{k: v for k, v in r.items() if k != "shown"} for r in records], out)
            with archive.open("metadata.csv", "w") as out:
                _write_csv(records, out)
            with archive.open("index.html", "w") as out:
                for piece in contact_sheet(records, title):
                    out.write(piece.encode("utf-8"))
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=datetime.now().timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED
    return info


def _image_name(record: dict[str, Any]) -> str:
    """The image's path inside `images/`: its place under the outputs folder (unique there)."""
    parts = [p for p in str(record.get("file") or f"{record.get('id')}.png").split("/") if p not in ("", ".", "..")]
    return "/".join(parts) or f"{record.get('id')}.png"


def _write_json(records: list[dict[str, Any]], out: IO[bytes]) -> None:
    out.write(b"[")
    for n, record in enumerate(records):
        out.write((",\n" if n else "\n").encode() + json.dumps(record, ensure_ascii=False).encode("utf-8"))
    out.write(b"\n]\n")


def _write_csv(records: list[dict[str, Any]], out: IO[bytes]) -> None:
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")  # the BOM makes Excel read UTF-8
    writer = csv.writer(text)
    writer.writerow([*CSV_COLUMNS, "image"])
    for record in records:
        row = [_csv_value(record.get(c)) for c in CSV_COLUMNS]
        writer.writerow([*row, record["image"]])
    text.flush()
    text.detach()


def _csv_value(value: Any) -> Any:
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value  # a prompt must not run as a spreadsheet formula
    return "" if value is None else value


_STYLE = """
body { font: 14px/1.4 system-ui, "Noto Sans CJK SC", sans-serif; margin: 1.5rem; color: #222; }
h1 { font-size: 1.3rem; margin: 0 0 .25rem; } .meta { color: #666; margin: 0 0 1rem; }
.sheet { display: grid; grid-template-columns: repeat(auto-fill, minmax(240px, 1fr)); gap: 1rem; }
figure { margin: 0; border: 1px solid #ddd; border-radius: 6px; padding: .5rem; break-inside: avoid; }
figure img { width: 100%; height: 220px; object-fit: contain; background: #f4f4f4; display: block; }
figcaption p { margin: .4rem 0; white-space: pre-wrap; overflow-wrap: anywhere; }
dl { display: grid; grid-template-columns: auto 1fr; gap: 0 .5rem; margin: 0; font-size: 12px; }
dt { color: #666; } dd { margin: 0; overflow-wrap: anywhere; }
@media print { body { margin: 0; } .sheet { grid-template-columns: repeat(3, 1fr); } a { color: inherit; } }
"""


def contact_sheet(records: list[dict[str, Any]], title: str) -> Iterator[str]:
    """index.html, piece by piece. Every value is escaped: prompts are data, never markup."""
    esc = html.escape
    yield (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{esc(title)}</title>'
           f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_STYLE}</style></head>\n'
           f'<body><h1>{esc(title)}</h1><p class="meta">{len(records)} image(s) · '
           f'{datetime.now(UTC):%Y-%m-%d %H:%M} UTC</p>\n<main class="sheet">\n')
    for record in records:
        image = esc(quote(record["shown"]))
        rating = record.get("rating") or 0
        dots = f" {'●' * rating}{'○' * (MAX_RATING - rating)}" if rating else ""
        stars = ("★" if record.get("starred") else "") + dots
        rows = [("Model", record.get("model")), ("Size", record.get("image_size")), ("Seed", record.get("seed")),
                ("Author", record.get("user") or "—"), ("Stars", stars or "—"),
                ("Boards", ", ".join(record.get("boards") or []) or "—"), ("Created", record.get("created_at"))]
        details = "".join(f"<dt>{esc(k)}</dt><dd>{esc(str(v))}</dd>" for k, v in rows)
        yield (f'<figure><a href="{image}"><img src="{image}" alt="{esc(str(record.get("prompt", ""))[:200])}" '
               f'loading="lazy"></a><figcaption><p>{esc(str(record.get("prompt", "")))}</p>'
               f"<dl>{details}</dl></figcaption></figure>\n")
    yield "</main></body></html>\n"
