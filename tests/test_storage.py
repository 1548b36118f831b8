"""Saving PNGs with their record, the history index, and rebuilding it from the files."""

from __future__ import annotations

import io
import os
import sqlite3
import threading
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from webui import metadata
from webui.access import Access
from webui.db import journal_files
from webui.storage import MAX_NAME, THUMBS_DIR, TMP_PREFIX, SaveError, Storage, file_name, slugify
from webui.trash import Trash

from .conftest import pngs

FIELDS = {
    "prompt": "a cat, on a mat: \"quoted\"\nsecond line 中文",
    "model": "FLUX.1-schnell",
    "image_size": "768x512",
    "prompt_enhancement": True,
    "seed": 1234567890,
    "inference": 987,
    "user": None,
}


def png_bytes(size=(64, 48), seed: int = 0) -> bytes:
    img = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3) if seed else bytes(size[0] * size[1] * 3))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def idat(png: bytes) -> bytes:
    """Concatenated IDAT payloads: the compressed pixels."""
    out, pos = b"", 8
    while pos < len(png):
        length = int.from_bytes(png[pos:pos + 4], "big")
        if png[pos + 4:pos + 8] == b"IDAT":
            out += png[pos + 8:pos + 8 + length]
        pos += 12 + length
    return out


@pytest.fixture
def storage(closed_after, tmp_path: Path) -> Storage:
    return closed_after(Storage(tmp_path / "outputs").open())


def test_save_writes_png_with_both_chunks_and_indexes_it(storage: Storage) -> None:
    original = png_bytes(seed=1)
    record = storage.save(original, FIELDS)
    path = storage.path_of(record)
    assert path.parent.parent == storage.root and path.parent.name == record["created_at"][:10]
    assert "1234567890" in path.name and path.name.endswith(".png")
    data = path.read_bytes()
    assert idat(data) == idat(original)  # pixels untouched
    with Image.open(path) as img:
        assert img.text["parameters"].endswith(
            "Seed: 1234567890, Size: 768x512, Model: FLUX.1-schnell, Prompt enhancement: True, Inference: 987"
        )
        assert metadata.read_record(data) == record
    assert storage.index.search() == [record]
    for key in ("id", "prompt", "model", "image_size", "prompt_enhancement", "seed", "inference", "file", "created_at"):
        assert key in record
    assert record["created_at"].endswith("Z")
    assert not [p for p in path.parent.iterdir() if p.name.startswith(TMP_PREFIX)]


def test_names_never_overwrite_and_hold_counter_and_seed(storage: Storage) -> None:
    records = [storage.save(png_bytes(), {**FIELDS, "seed": 7}) for _ in range(3)]
    names = [Path(r["file"]).name for r in records]
    assert len(set(names)) == 3
    assert [n[:5] for n in names] == ["00001", "00002", "00003"]
    assert all("-7-" in n for n in names)


def test_two_storages_on_one_folder_never_collide(closed_after, tmp_path: Path) -> None:
    """Two processes (here: two Storage objects with separate counters) share a folder."""
    a, b = closed_after(Storage(tmp_path / "o").open()), closed_after(Storage(tmp_path / "o").open())
    results: list[dict] = []
    lock = threading.Lock()

    def work(store: Storage) -> None:
        for _ in range(10):
            rec = store.save(png_bytes(), FIELDS)
            with lock:
                results.append(rec)

    threads = [threading.Thread(target=work, args=(s,)) for s in (a, b, a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    files = {r["file"] for r in results}
    assert len(files) == 40
    assert len(pngs(a.root)) == 40
    assert a.index.count() == 40


def test_file_names_are_safe_and_short() -> None:
    assert slugify("../../etc/passwd\x00 ‮RTL 🎨 emoji") == "etc-passwd-rtl-emoji"
    name = file_name(99999, 9_999_999_999, "word " * 500)
    assert len(name) <= MAX_NAME and "/" not in name
    # A Chinese prompt stays in the name (UTF-8), still at most MAX_NAME bytes and safe.
    assert file_name(1, 5, "中文提示词，月光下的灯塔") == "00001-5-中文提示词-月光下的灯塔.png"
    long = file_name(99999, 9_999_999_999, "灯塔" * 300)
    assert len(long.encode("utf-8")) <= MAX_NAME and long.endswith(".png") and "灯塔" in long
    assert file_name(1, 5, "../a/..\\b\u202e") == "00001-5-a-b.png"


def test_history_is_newest_first_paged_and_searchable(closed_after, tmp_path: Path) -> None:
    ticks = iter(datetime(2026, 1, 1, 0, 0, i, tzinfo=timezone.utc) for i in range(60))
    store = closed_after(Storage(tmp_path / "o", clock=lambda: next(ticks)).open())
    for i in range(5):
        store.save(png_bytes(), {**FIELDS, "prompt": f"Red Fox number {i}", "seed": i})
    store.save(png_bytes(), {**FIELDS, "prompt": "Ünïcode ÉCLAIR 狐狸", "seed": 99})
    assert [r["seed"] for r in store.index.search()] == [99, 4, 3, 2, 1, 0]
    assert [r["seed"] for r in store.index.search(offset=1, limit=2)] == [4, 3]
    assert [r["seed"] for r in store.index.search("red FOX")] == [4, 3, 2, 1, 0]
    assert [r["seed"] for r in store.index.search("éclair")] == [99]
    assert [r["seed"] for r in store.index.search("狐狸")] == [99]
    assert store.index.search("100%_") == []


def test_deleted_index_is_rebuilt_from_png_chunks(closed_after, tmp_path: Path) -> None:
    store = closed_after(Storage(tmp_path / "o").open())
    saved = [store.save(png_bytes(), {**FIELDS, "seed": i}) for i in range(4)]
    store.index.path.unlink()
    rebuilt = closed_after(Storage(tmp_path / "o").open())
    assert sorted(rebuilt.index.search(), key=lambda r: r["seed"]) == saved


def test_corrupt_index_is_moved_aside_and_rebuilt(closed_after, tmp_path: Path) -> None:
    store = closed_after(Storage(tmp_path / "o").open())
    saved = store.save(png_bytes(), FIELDS)
    for extra in journal_files(store.index.path):
        extra.unlink(missing_ok=True)
    store.index.path.write_bytes(b"this is not a database" * 100)
    rebuilt = closed_after(Storage(tmp_path / "o").open())
    assert rebuilt.index.search() == [saved]
    assert rebuilt.index.moved_aside()


def test_reconcile_drops_rows_whose_file_is_gone_and_adds_foreign_pngs(closed_after, tmp_path: Path) -> None:
    store = closed_after(Storage(tmp_path / "o").open())
    gone = store.save(png_bytes(), {**FIELDS, "seed": 1})
    kept = store.save(png_bytes(), {**FIELDS, "seed": 2})
    store.path_of(gone).unlink()
    # An A1111 image dropped into the folder by hand is picked up too.
    a1111 = metadata.add_text_chunks(png_bytes(), {
        "parameters": "a castle\nSteps: 20, Sampler: Euler a, Seed: 5, Size: 64x48, Model: sd15"})
    (tmp_path / "o" / "manual").mkdir()
    (tmp_path / "o" / "manual" / "castle.png").write_bytes(a1111)
    reopened = closed_after(Storage(tmp_path / "o").open())
    rows = reopened.index.search()
    assert [r["seed"] for r in rows if r["file"] != "manual/castle.png"] == [2]
    castle = next(r for r in rows if r["file"] == "manual/castle.png")
    assert castle["prompt"] == "a castle" and castle["seed"] == 5 and castle["id"]
    assert kept in rows


def test_crash_leftovers_are_recovered_or_cleared(closed_after, tmp_path: Path) -> None:
    """A crash between reserving a name and the final rename: finish it, never lose it."""
    store = closed_after(Storage(tmp_path / "o").open())
    record = store.save(png_bytes(), FIELDS)
    path = store.path_of(record)
    complete = path.read_bytes()
    store.index.remove_files([record["file"]])
    path.write_bytes(b"")  # the reservation, left empty by the crash
    (path.parent / f"{TMP_PREFIX}abc.png").write_bytes(complete)  # the fsynced temp file
    (path.parent / f"{TMP_PREFIX}half.png").write_bytes(complete[: len(complete) // 2])
    (path.parent / "00077-1-empty.png").write_bytes(b"")
    other = store.save(png_bytes(seed=1), FIELDS)  # a crash after the link: tmp == final
    store.close()
    (path.parent / f"{TMP_PREFIX}linked.png").write_bytes(store.path_of(other).read_bytes())
    reopened = closed_after(Storage(tmp_path / "o").open())
    assert path.read_bytes() == complete
    assert not list(path.parent.glob(f"{TMP_PREFIX}*"))
    assert not (path.parent / "00077-1-empty.png").exists()
    assert {r["id"] for r in reopened.index.search()} == {record["id"], other["id"]}
    assert len(pngs(reopened.root)) == 2


def test_unwritable_folder_raises_save_error_naming_it(closed_after, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        # root ignores permissions: make the day folder a file instead
        store = closed_after(Storage(tmp_path / "o").open())
        day = datetime.now(timezone.utc).strftime("%Y-%m-%d")
        (tmp_path / "o" / day).write_bytes(b"")
    else:
        store = closed_after(Storage(tmp_path / "o").open())
        os.chmod(tmp_path / "o", 0o500)
    with pytest.raises(SaveError) as caught:
        store.save(png_bytes(), FIELDS)
    assert str(tmp_path / "o") in str(caught.value.folder)
    assert store.index.search() == []


def test_thumbnail_is_small_webp_and_made_once(storage: Storage) -> None:
    record = storage.save(png_bytes((800, 600), seed=1), FIELDS)
    thumb = storage.thumbnail(record)
    with Image.open(thumb) as img:
        assert img.format == "WEBP" and max(img.size) <= 384
    mtime = thumb.stat().st_mtime_ns
    assert storage.thumbnail(record) == thumb and thumb.stat().st_mtime_ns == mtime
    assert thumb.parent == storage.root / THUMBS_DIR
    assert thumb not in pngs(storage.root)


def test_path_of_refuses_to_leave_the_outputs_folder(storage: Storage) -> None:
    with pytest.raises(ValueError):
        storage.path_of({"file": "../../etc/passwd"})


def test_index_is_sqlite_inside_outputs(storage: Storage) -> None:
    storage.save(png_bytes(), FIELDS)
    assert storage.index.path.parent == storage.root
    with closing(sqlite3.connect(storage.index.path)) as conn, conn:  # commit, then close
        assert conn.execute("SELECT count(*) FROM images").fetchone()[0] == 1


def test_file_systems_without_hard_links_still_never_overwrite(closed_after, tmp_path: Path, monkeypatch) -> None:
    """Some file systems (FAT, some network shares) refuse os.link: names are then reserved with O_EXCL."""
    import errno

    import webui.storage as storage_module

    def no_links(*args, **kwargs):
        raise OSError(errno.EPERM, "hard links not supported")

    monkeypatch.setattr(storage_module.os, "link", no_links)
    store = closed_after(Storage(tmp_path / "o").open())
    first = store.save(png_bytes(), {**FIELDS, "seed": 3})
    second = store.save(png_bytes(seed=1), {**FIELDS, "seed": 3})
    assert first["file"] != second["file"]
    assert metadata.read_record(store.path_of(second).read_bytes()) == second
    access = Access(store.index)
    trashed = Trash(store, store.index, access).delete(first["id"])
    assert trashed.is_file() and not store.path_of(first).exists()
    assert not list(store.path_of(second).parent.glob(f"{TMP_PREFIX}*"))


def test_a_name_taken_by_another_process_is_skipped_not_overwritten(storage: Storage) -> None:
    """The link refuses a name someone else holds; the save counts on from what is on disk."""
    first = storage.save(png_bytes(), {**FIELDS, "seed": 7})
    taken = storage.path_of(first).with_name(file_name(2, 7, FIELDS["prompt"]))
    taken.write_bytes(b"another process's image")
    second = storage.save(png_bytes(seed=1), {**FIELDS, "seed": 7})
    assert taken.read_bytes() == b"another process's image"
    assert Path(second["file"]).name.startswith("00003-7-")
    assert metadata.read_record(storage.path_of(second).read_bytes()) == second


def test_file_systems_without_unnamed_files_use_a_named_temporary_file(tmp_path: Path, monkeypatch) -> None:
    """Where O_TMPFILE is refused, the image is written to `.tmp-*` and linked: same promises."""
    import errno

    real_open = os.open

    def no_unnamed_files(path, flags, *args, **kwargs):
        if hasattr(os, "O_TMPFILE") and flags & os.O_TMPFILE == os.O_TMPFILE:
            raise OSError(errno.EOPNOTSUPP, "O_TMPFILE not supported")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", no_unnamed_files)
    store = Storage(tmp_path / "o").open()
    records = [store.save(png_bytes(seed=1), {**FIELDS, "seed": 3}) for _ in range(2)]
    assert records[0]["file"] != records[1]["file"]
    for record in records:
        assert metadata.read_record(store.path_of(record).read_bytes()) == record
    assert not list(store.path_of(records[0]).parent.glob(f"{TMP_PREFIX}*"))
    assert {r["id"] for r in store.index.search()} == {r["id"] for r in records}


def _open_at_once(folder: Path, barrier: Any, results: Any) -> None:
    """One of two processes opening the same new outputs folder at the same moment."""
    barrier.wait()
    try:
        Storage(folder).open().index.close()
        results.put("ok")
    except Exception as exc:  # reported to the test, which names it
        results.put(f"{type(exc).__name__}: {exc}")


def test_two_processes_opening_a_new_folder_at_once_both_start_on_one_index(tmp_path: Path) -> None:
    """Two apps started together on a new outputs folder: each went to create the index, and one
    failed ("database is locked", about 4 times in 10) or moved the other's half-made index aside
    as unreadable, leaving the first writing into a file nobody reads."""
    import multiprocessing

    context = multiprocessing.get_context("fork")  # the children start at once, with this process's imports
    for attempt in range(12):
        folder = tmp_path / f"outputs-{attempt}"
        barrier, results = context.Barrier(2), context.Queue()
        children = [context.Process(target=_open_at_once, args=(folder, barrier, results)) for _ in range(2)]
        for child in children:
            child.start()
        said = [results.get(timeout=60), results.get(timeout=60)]
        for child in children:
            child.join(timeout=60)
        assert said == ["ok", "ok"], (attempt, said)
        # nothing moved aside (the WAL files may stay: two connections closing at once leave them)
        assert Storage(folder).index.moved_aside() == [] and (folder / "history.sqlite3").is_file(), attempt
