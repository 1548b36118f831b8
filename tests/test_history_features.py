"""History filters, trash and restore, per-user quotas, usage, the v1 -> v2 upgrade, uploads."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import threading
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from PIL import Image

from webui import metadata
from webui.access import Access
from webui.cli import format_usage
from webui.db import database_files
from webui.errors import InvalidInputError
from webui.history import SCHEMA_VERSION, HistoryIndex, IndexUnreadable
from webui.quota import Quota
from webui.storage import INDEX_NAME, THUMBS_DIR, TRASH_DIR, Storage
from webui.trash import Trash

from .conftest import pngs

DAY1 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
BASE = {
    "prompt": "a cat",
    "model": "FLUX.1-schnell",
    "image_size": "1024x1024",
    "prompt_enhancement": False,
    "seed": 1,
    "inference": 1000,
    "user": None,
}

# The schema of version 1, as the previous release created it.
V1_SCHEMA = """
CREATE TABLE IF NOT EXISTS images (
    id          TEXT PRIMARY KEY,
    file        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    prompt      TEXT NOT NULL,
    model       TEXT NOT NULL,
    image_size  TEXT NOT NULL,
    seed        INTEGER,
    user        TEXT,
    record      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS images_created ON images (created_at DESC, id DESC);
"""


class Clock:
    """A settable clock that moves one second per reading (so saves keep their order)."""

    def __init__(self, start: datetime = DAY1) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def png_bytes(size: tuple[int, int] = (32, 24)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


def run_threads(count: int, target: Callable[[int], None]) -> None:
    """Start `count` threads together (a barrier) and wait for all."""
    barrier = threading.Barrier(count)

    def work(i: int) -> None:
        barrier.wait()
        target(i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[Storage]:
    storage = Storage(tmp_path / "outputs", clock=clock).open()
    yield storage
    storage.close()


def save(store: Storage, **fields: Any) -> dict[str, Any]:
    return store.save(png_bytes(), {**BASE, **fields})


# -- history filters ----------------------------------------------------------------


@pytest.fixture
def gallery(store: Storage) -> dict[str, dict[str, Any]]:
    """Six images over three owners, two models, two sizes; keys name them."""
    specs = {
        "a1": ("Red Fox at dawn", "alice", "FLUX.1-schnell", "1024x1024"),
        "a2": ("red fox, watercolor", "alice", "Kolors", "768x512"),
        "b1": ("RED FOX ÉCLAIR", "bob", "Kolors", "768x512"),
        "b2": ("a castle", "bob", "FLUX.1-schnell", "768x512"),
        "n1": ("red fox, anonymous", None, "Kolors", "768x512"),
        "c1": ("狐狸 fox", "carol", "FLUX.1-schnell", "1024x1024"),
    }
    return {
        key: save(store, prompt=p, user=u, model=m, image_size=s, seed=i)
        for i, (key, (p, u, m, s)) in enumerate(specs.items())
    }


def keys(rows: list[dict[str, Any]], gallery: dict[str, dict[str, Any]]) -> list[str]:
    by_id = {r["id"]: k for k, r in gallery.items()}
    return [by_id[r["id"]] for r in rows]


def test_filters_combine_newest_first(store: Storage, gallery: dict) -> None:
    assert keys(store.index.search(), gallery) == ["c1", "n1", "b2", "b1", "a2", "a1"]
    assert keys(store.index.search("red fox", model="Kolors"), gallery) == ["n1", "b1", "a2"]
    assert keys(store.index.search("red fox", model="Kolors", image_size="768x512", user="bob"), gallery) == ["b1"]
    assert keys(store.index.search("fox", users=["alice", "carol"]), gallery) == ["c1", "a2", "a1"]
    assert keys(store.index.search(model="Kolors", users=["alice", "bob"], image_size="768x512"), gallery) == ["b1", "a2"]
    assert keys(store.index.search("fox", user="alice", users=["alice", "bob"]), gallery) == ["a2", "a1"]
    assert keys(store.index.search("éclair", users=["bob"]), gallery) == ["b1"]
    assert keys(store.index.search("狐狸", image_size="1024x1024"), gallery) == ["c1"]


def test_empty_filters_mean_any_and_no_owners_means_nothing(store: Storage, gallery: dict) -> None:
    everything = store.index.search()
    assert store.index.search(model="", image_size="") == everything
    assert store.index.search(model=None, image_size=None, users=None) == everything
    assert store.index.search(users=[]) == []
    assert keys(store.index.search(users=[None]), gallery) == ["n1"]  # anonymous images
    assert keys(store.index.search(users="bob"), gallery) == ["b2", "b1"]  # a lone name, not letters
    assert store.index.search(model="no-such-model") == []
    assert keys(store.index.search(offset=1, limit=2, model="Kolors"), gallery) == ["b1", "a2"]


def test_count_matching_agrees_with_search(store: Storage, gallery: dict) -> None:
    cases = [
        {},
        {"query": "red fox"},
        {"query": "FOX", "model": "Kolors"},
        {"model": "FLUX.1-schnell", "image_size": "1024x1024"},
        {"user": "bob"},
        {"query": "fox", "user": "alice", "model": "Kolors", "image_size": "768x512"},
        {"users": ["alice", None]},
        {"query": "nothing like this"},
    ]
    for case in cases:
        query = case.pop("query", "")
        user = case.pop("user", None)
        expected = len(store.index.search(query, 0, 500, user, **case))
        assert store.index.count_matching(query, user, **case) == expected, (query, user, case)
        assert store.index.count_matching(query, user, **case) == expected
    assert store.index.count_matching() == 6


def test_distinct_values_for_dropdowns(store: Storage, gallery: dict) -> None:
    assert store.index.distinct("model") == ["FLUX.1-schnell", "Kolors"]
    assert store.index.distinct("image_size") == ["1024x1024", "768x512"]
    assert store.index.distinct("user") == ["alice", "bob", "carol"]  # no None
    assert store.index.distinct("user") == ["alice", "bob", "carol"]
    with pytest.raises(ValueError):
        store.index.distinct("prompt; DROP TABLE images")  # type: ignore[arg-type]


def test_filter_queries_use_the_indexes(store: Storage) -> None:
    """The first page of a filtered list is an index range read in order, not a sort."""
    with store.index._connect() as conn:
        for column in ("user", "model", "image_size"):
            plan = " ".join(
                row[3] for row in conn.execute(
                    f"EXPLAIN QUERY PLAN SELECT record FROM images WHERE {column} = ? "
                    "ORDER BY created_at DESC, id DESC LIMIT 50", ("x",))
            )
            assert "USING INDEX" in plan and "TEMP B-TREE" not in plan, plan


# -- trash and restore ----------------------------------------------------------------


def trash_of(store: Storage) -> Trash:
    """The store's trash, as an app without logins has it (anyone may delete and restore)."""
    return Trash(store, store.index, Access(store.index))


def test_delete_moves_the_file_to_trash_and_forgets_it(store: Storage) -> None:
    record = save(store)
    kept = save(store, seed=2)
    path = store.path_of(record)
    data = path.read_bytes()
    thumb = store.thumbnail(record)
    assert thumb.name.endswith(".webp") and thumb.exists()

    trashed = trash_of(store).delete(record["id"])

    assert trashed == store.trash_dir / record["file"]
    assert trashed.read_bytes() == data
    assert not path.exists() and not thumb.exists()
    assert store.index.get(record["id"]) is None
    assert store.index.search() == [kept]
    assert store.trash_dir.parent == store.root and store.trash_dir.name.startswith(".")  # never indexed
    assert trashed not in pngs(store.root)
    with pytest.raises(InvalidInputError):
        trash_of(store).delete(record["id"])
    with pytest.raises(InvalidInputError):
        trash_of(store).delete("no-such-id")
    # A restart does not bring the trashed image back into the history.
    store.close()
    reopened = Storage(store.root).open()
    assert reopened.index.search() == [kept]
    reopened.close()


def test_trash_never_overwrites_a_file_with_the_same_relative_path(store: Storage, tmp_path: Path) -> None:
    first = save(store)
    first_trash = trash_of(store).delete(first["id"])
    store.close()
    # A fresh start counts from the files again, so the same name comes back.
    again = Storage(store.root, clock=Clock(DAY1)).open()
    second = again.save(png_bytes((40, 40)), BASE)
    assert second["file"] == first["file"]
    second_trash = trash_of(again).delete(second["id"])
    assert second_trash != first_trash and second_trash.parent == first_trash.parent
    assert second_trash.name == Path(first["file"]).stem + "~1.png"
    assert metadata.read_record(first_trash.read_bytes())["id"] == first["id"]
    assert metadata.read_record(second_trash.read_bytes())["id"] == second["id"]
    again.close()


def test_delete_of_a_file_already_gone_still_drops_the_row(store: Storage) -> None:
    record = save(store)
    store.path_of(record).unlink()
    trashed = trash_of(store).delete(record["id"])
    assert not trashed.exists()
    assert store.index.search() == []


def test_concurrent_deletes_of_one_image_trash_it_once(store: Storage) -> None:
    record = save(store)
    results: list[Any] = []
    run_threads(8, lambda i: results.append(_delete_or_error(store, record["id"])))
    trash_files = [p for p in store.trash_dir.rglob("*.png")]
    assert len(trash_files) == 1
    assert store.index.search() == []


def _delete_or_error(store: Storage, record_id: str) -> Any:
    try:
        return trash_of(store).delete(record_id)
    except InvalidInputError as exc:
        return exc


@pytest.mark.parametrize(
    "file",
    ["../outside.png", "/etc/passwd", INDEX_NAME, f"{THUMBS_DIR}/x.png", f"{TRASH_DIR}/2026-03-01/x.png", "2026-03-01"],
)
def test_delete_refuses_records_pointing_anywhere_but_an_image(store: Storage, tmp_path: Path, file: str) -> None:
    save(store)  # makes the day folder and the index file exist
    (tmp_path / "outside.png").write_bytes(b"not yours")
    forged = {**BASE, "id": "forged", "file": file, "created_at": "2026-03-01T00:00:00.000Z"}
    store.index.add(forged)
    with pytest.raises(InvalidInputError):
        trash_of(store).delete("forged")
    assert (tmp_path / "outside.png").read_bytes() == b"not yours"
    assert store.index.path.exists()
    assert store.index.get("forged") is not None


def test_delete_refuses_a_symlinked_record(store: Storage, tmp_path: Path) -> None:
    victim = tmp_path / "victim.png"
    victim.write_bytes(png_bytes())
    link = store.root / "2026-03-01" / "link.png"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(victim)
    store.index.add({**BASE, "id": "link", "file": "2026-03-01/link.png", "created_at": "2026-03-01T00:00:00Z"})
    with pytest.raises(InvalidInputError):
        trash_of(store).delete("link")
    assert victim.exists() and link.is_symlink()


def test_restore_brings_the_image_back_unchanged(store: Storage) -> None:
    record = save(store, prompt="a restored fox", inference=1234)
    other = save(store, seed=2)
    trashed = trash_of(store).delete(record["id"])
    restored = trash_of(store).restore(trashed)
    assert restored == record
    assert store.path_of(restored).exists() and not trashed.exists()
    assert store.index.search() == [other, record]
    assert store.index.get(record["id"]) == record


def test_restore_takes_a_fresh_name_if_the_old_one_is_taken(store: Storage) -> None:
    first = save(store)
    first_trash = trash_of(store).delete(first["id"])
    store.close()
    again = Storage(store.root, clock=Clock(DAY1)).open()
    second = again.save(png_bytes((40, 40)), BASE)
    second_trash = trash_of(again).delete(second["id"])  # `name~1.png` in the trash
    again.close()
    again = Storage(store.root, clock=Clock(DAY1)).open()
    third = again.save(png_bytes((50, 50)), BASE)  # a new image takes the old name
    assert third["file"] == first["file"]

    back = trash_of(again).restore(first_trash)
    assert back["file"] == str(Path(first["file"]).with_name(Path(first["file"]).stem + "~1.png"))
    assert {k: v for k, v in back.items() if k != "file"} == {k: v for k, v in first.items() if k != "file"}
    assert metadata.read_record(again.path_of(back).read_bytes())["id"] == first["id"]

    # The trash copy's `~1` is dropped when looking for its place; both are taken now.
    back2 = trash_of(again).restore(second_trash)
    assert back2["file"].endswith("~2.png")
    assert {r["id"] for r in again.index.search()} == {first["id"], second["id"], third["id"]}
    again.close()
    reopened = Storage(store.root).open()
    assert {r["file"] for r in reopened.index.search()} == {back["file"], back2["file"], third["file"]}
    reopened.close()


def test_restore_refuses_paths_outside_the_trash(store: Storage, tmp_path: Path) -> None:
    record = save(store)
    live = store.path_of(record)
    trashed = trash_of(store).delete(save(store, seed=2)["id"])
    outside = tmp_path / "outside.png"
    outside.write_bytes(png_bytes())
    attempts = [
        live,  # an image that is not in the trash
        store.trash_dir / ".." / record["file"],  # `..` out of the trash
        Path(TRASH_DIR, "..") / record["file"],  # relative, from the outputs folder
        store.trash_dir / "../../outside.png",
        outside,
        store.trash_dir,
        "../outside.png",
    ]
    for attempt in attempts:
        with pytest.raises(InvalidInputError):
            trash_of(store).restore(attempt)
    assert live.exists() and outside.exists() and trashed.exists()
    with pytest.raises(InvalidInputError):
        trash_of(store).restore(store.trash_dir / "2026-03-01" / "missing.png")
    junk = store.trash_dir / "2026-03-01" / "junk.png"
    junk.write_bytes(b"not a png")
    with pytest.raises(InvalidInputError):
        trash_of(store).restore(junk)
    assert junk.exists()
    # A relative path inside the trash is fine.
    assert trash_of(store).restore(Path(TRASH_DIR) / trashed.relative_to(store.trash_dir))["seed"] == 2


# -- quotas ---------------------------------------------------------------------------


def test_fifty_threads_get_exactly_ten(store: Storage) -> None:
    granted: list[bool] = []
    run_threads(50, lambda i: granted.append(store.index.reserve_quota("alice", "2026-03-01", 10)[0]))
    assert granted.count(True) == 10
    assert store.index.quota_used("alice", "2026-03-01") == 10
    assert store.index.reserve_quota("alice", "2026-03-01", 10) == (False, 10)
    assert store.index.reserve_quota("alice", "2026-03-02", 10) == (True, 1)  # a new day
    assert store.index.reserve_quota("bob", "2026-03-01", 10) == (True, 1)  # per user


def test_two_index_objects_on_one_file_share_the_limit(store: Storage) -> None:
    """Two objects, two connections: the same locking two app processes get."""
    other = HistoryIndex(store.index.path)
    other.check()
    indexes = [store.index, other]
    results: list[tuple[bool, int]] = []
    run_threads(50, lambda i: results.append(indexes[i % 2].reserve_quota("", "2026-03-01", 10)))
    assert sum(granted for granted, _ in results) == 10
    assert sorted(used for granted, used in results if granted) == list(range(1, 11))
    assert other.quota_used("", "2026-03-01") == store.index.quota_used("", "2026-03-01") == 10
    other.close()


def test_release_gives_back_but_never_below_zero(store: Storage) -> None:
    assert store.index.reserve_quota("", "2026-03-01", 2) == (True, 1)
    assert store.index.reserve_quota("", "2026-03-01", 2) == (True, 2)
    assert store.index.reserve_quota("", "2026-03-01", 2) == (False, 2)
    store.index.release_quota("", "2026-03-01")
    assert store.index.reserve_quota("", "2026-03-01", 2) == (True, 2)
    for _ in range(5):
        store.index.release_quota("", "2026-03-01")
    assert store.index.quota_used("", "2026-03-01") == 0
    store.index.release_quota("nobody", "2026-03-01")  # no row: nothing to give back
    assert store.index.quota_used("nobody", "2026-03-01") == 0
    assert store.index.reserve_quota("x", "2026-03-01", 0) == (False, 0)


def test_quota_survives_a_restart(store: Storage) -> None:
    for _ in range(3):
        store.index.reserve_quota("alice", "2026-03-01", 10)
    store.close()
    reopened = Storage(store.root).open()
    assert reopened.index.quota_used("alice", "2026-03-01") == 3
    assert reopened.index.reserve_quota("alice", "2026-03-01", 4) == (True, 4)
    reopened.close()


def test_quota_day_follows_its_clock(store: Storage, clock: Clock) -> None:
    quota = Quota(store.index, clock=clock)
    assert quota.today() == "2026-03-01"
    clock.now = datetime(2026, 3, 2, 23, 59, 58, tzinfo=timezone.utc)
    assert quota.today() == "2026-03-02"


# -- usage ----------------------------------------------------------------------------


def test_usage_groups_by_day_user_and_model(store: Storage, clock: Clock) -> None:
    clock.now = datetime(2026, 2, 20, 12, tzinfo=timezone.utc)
    save(store, user="alice", inference=100)  # outside a 7-day window ending 03-02
    clock.now = datetime(2026, 3, 1, 8, tzinfo=timezone.utc)
    save(store, user="alice", inference=100)
    save(store, user="alice", inference=300)
    save(store, user="alice", model="Kolors", inference=50)
    save(store, user=None, inference=None)
    clock.now = datetime(2026, 3, 2, 23, 59, tzinfo=timezone.utc)
    save(store, user="bob", inference=2000.5)
    save(store, user="bob", inference=None)

    rows = Quota(store.index, clock=clock).usage(7)  # today from the quota's clock: 2026-03-02
    assert rows == [
        {"day": "2026-03-02", "user": "bob", "model": "FLUX.1-schnell", "images": 2,
         "avg_inference_ms": 2000.5, "total_inference_ms": 2000.5},
        {"day": "2026-03-01", "user": None, "model": "FLUX.1-schnell", "images": 1,
         "avg_inference_ms": None, "total_inference_ms": None},
        {"day": "2026-03-01", "user": "alice", "model": "FLUX.1-schnell", "images": 2,
         "avg_inference_ms": 200.0, "total_inference_ms": 400.0},
        {"day": "2026-03-01", "user": "alice", "model": "Kolors", "images": 1,
         "avg_inference_ms": 50.0, "total_inference_ms": 50.0},
    ]
    # `launch.py usage` words the same rows, and an empty window by the quota's day, not a clock of its own
    assert format_usage(rows, "2026-03-02").splitlines()[2].split() == ["2026-03-02", "bob", "FLUX.1-schnell", "2",
                                                                        "2000"]
    assert format_usage([], Quota(store.index, clock=clock).today()).endswith("(as of 2026-03-02).")
    assert [r["day"] for r in store.index.usage(30, "2026-03-01")] == ["2026-03-01"] * 3 + ["2026-02-20"]
    assert [r["day"] for r in store.index.usage(1, "2026-03-01")] == ["2026-03-01"] * 3
    assert store.index.usage(10, "2026-02-19") == []
    assert store.index.usage(0) == []
    assert store.index.usage(3650)  # today by the real UTC date still covers 2026


# -- schema upgrade -------------------------------------------------------------------


def make_v1_index(path: Path, records: list[dict[str, Any]]) -> None:
    """An index file exactly as the version-1 code wrote it."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript(V1_SCHEMA)
    conn.executemany(
        "INSERT INTO images (id, file, created_at, prompt, model, image_size, seed, user, record) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(r["id"], r["file"], r["created_at"], r["prompt"], r["model"], r["image_size"], r["seed"],
          r["user"], json.dumps(r, ensure_ascii=False)) for r in records],
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()


def test_v1_index_is_upgraded_in_place(tmp_path: Path) -> None:
    # Images saved by the new code, then their index replaced by a version-1 file.
    root = tmp_path / "outputs"
    store = Storage(root, clock=Clock()).open()
    records = [save(store, seed=1, inference=1500), save(store, seed=2, user="bob", inference=None),
               save(store, seed=3, inference=True)]
    store.close()
    for file in database_files(store.index.path):
        file.unlink(missing_ok=True)
    make_v1_index(store.index.path, records)

    upgraded = Storage(root, clock=Clock()).open()

    assert not upgraded.index.moved_aside()  # upgraded, not rebuilt
    assert upgraded.index.search() == records[::-1]
    with closing(sqlite3.connect(upgraded.index.path)) as conn, conn:  # commit, then close
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
        inference = dict(conn.execute("SELECT seed, inference FROM images"))
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert inference == {1: 1500.0, 2: None, 3: None}  # `true` is not a time
    assert {"images_user", "images_model", "images_size"} <= indexes
    assert upgraded.index.reserve_quota("bob", "2026-03-01", 1) == (True, 1)
    assert upgraded.index.search(model="FLUX.1-schnell", users=["bob"]) == [records[1]]
    assert upgraded.index.usage(1, "2026-03-01")[0]["total_inference_ms"] == 1500.0
    new = save(upgraded, seed=4, inference=7)
    assert upgraded.index.get(new["id"]) == new
    upgraded.close()


def test_two_objects_upgrading_one_v1_file_at_once(tmp_path: Path) -> None:
    path = tmp_path / INDEX_NAME
    record = {**BASE, "id": "r1", "file": "2026-03-01/a.png", "created_at": "2026-03-01T00:00:00.000Z"}
    make_v1_index(path, [record])
    indexes = [HistoryIndex(path) for _ in range(4)]
    errors: list[BaseException] = []
    run_threads(4, lambda i: _check_or_record(indexes[i], errors))
    assert errors == []
    unmarked = {**record, "starred": False, "rating": 0, "boards": []}  # a v1 record has no marks
    assert all(ix.search() == [unmarked] for ix in indexes)
    for ix in indexes:
        ix.close()


def _check_or_record(index: HistoryIndex, errors: list[BaseException]) -> None:
    try:
        index.check()
    except BaseException as exc:  # noqa: BLE001 - collected for the assertion
        errors.append(exc)


def test_unknown_versions_are_still_unreadable(closed_after, tmp_path: Path) -> None:
    path = tmp_path / INDEX_NAME
    make_v1_index(path, [])
    with closing(sqlite3.connect(path)) as conn, conn:  # commit, then close
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(IndexUnreadable):
        closed_after(HistoryIndex(path)).check()
    foreign = tmp_path / "foreign.sqlite3"
    with closing(sqlite3.connect(foreign)) as conn, conn:  # commit, then close
        conn.execute("CREATE TABLE other (x)")
        conn.execute("PRAGMA user_version = 1")
    with pytest.raises(IndexUnreadable):
        closed_after(HistoryIndex(foreign)).check()


# -- uploads ("PNG Info") -------------------------------------------------------------

from webui.uploads import read_upload  # noqa: E402


def test_read_upload_reads_a_regular_file_within_the_cap(tmp_path: Path) -> None:
    upload = tmp_path / "upload.png"
    data = png_bytes()
    upload.write_bytes(data)
    assert read_upload(upload) == data
    assert read_upload(str(upload), max_bytes=len(data)) == data
    with pytest.raises(ValueError):
        read_upload(upload, max_bytes=len(data) - 1)
    with pytest.raises(FileNotFoundError):
        read_upload(tmp_path / "missing.png")


def test_read_upload_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"secret")
    link = tmp_path / "link.png"
    link.symlink_to(secret)
    fifo = tmp_path / "fifo.png"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer forever
    for path in (link, fifo, tmp_path):
        with pytest.raises(ValueError):
            read_upload(path)
