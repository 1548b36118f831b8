"""Never lose an image: crashes mid-save, full or read-only disks, two apps on one folder, load."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PIL import Image

from webui import metadata
from webui.storage import TMP_PREFIX, Storage

from .conftest import ROOT, launch_apps, pngs, wait_until
from .support.apps import api_client


def complete_pngs(outputs: Path) -> list[Path]:
    return sorted(pngs(outputs.resolve()))


def assert_consistent(outputs: Path) -> int:
    """Reopen like a restart: every indexed file is a whole PNG with its record, and vice versa.
    Returns how many images are indexed; the store is closed again."""
    store = Storage(outputs).open()
    try:
        files = {store.relative(p) for p in pngs(store.root)}
        assert store.index.files() == files
        for rel in files:
            data = (store.root / rel).read_bytes()
            assert metadata.read_record(data) is not None, rel
            with Image.open(store.root / rel) as img:
                img.verify()
    finally:
        store.close()
    leftovers = [p for p in outputs.rglob(f"{TMP_PREFIX}*")]
    assert not leftovers
    return len(files)


SAVER = textwrap.dedent(
    """
    import io, sys
    sys.path.insert(0, {root!r})
    from PIL import Image
    from webui.storage import Storage
    buf = io.BytesIO()
    Image.effect_noise((512, 512), 60).convert("RGB").save(buf, "PNG", compress_level=0)
    png = buf.getvalue()
    store = Storage(sys.argv[1]).open()
    n = 0
    while True:
        n += 1
        store.save(png, {{"prompt": "crash test", "model": "m", "image_size": "1024x1024",
                          "prompt_enhancement": False, "seed": n, "inference": None}})
    """
)


@pytest.mark.process
@pytest.mark.parametrize("target", [5, 17, 40])
def test_kill_9_while_saving_leaves_no_corrupt_image_and_a_matching_index(tmp_path: Path, target: int) -> None:
    outputs = tmp_path / "outputs"
    script = tmp_path / "saver.py"
    script.write_text(SAVER.format(root=str(ROOT)))
    proc = subprocess.Popen([sys.executable, str(script), str(outputs)])
    try:
        wait_until(lambda: outputs.exists() and len(list(outputs.rglob("*.png"))) >= target,
                   timeout=60, interval=0.002, what=f"{target} files")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert assert_consistent(outputs) >= target - 1


def test_unwritable_outputs_still_hand_over_the_image_and_name_the_folder(serve, backend) -> None:
    app = serve(env=backend.app_env())
    # Make today's folder impossible to create (works as root too: a file in its way).
    from datetime import datetime, timezone
    day = app.outputs / datetime.now(timezone.utc).strftime("%Y-%m-%d")
    day.write_bytes(b"")
    client = api_client(app.url)
    path, record = client.predict("kept anyway", "FLUX.1-schnell", "768x512", False, 5, api_name="/generate")
    assert Path(path).read_bytes()[:8] == metadata.PNG_SIGNATURE
    assert record["saved"] is False and record["file"] is None
    assert "could not be saved on the server" in record["warning"]
    assert client.predict("", 0, 10, api_name="/history") == []
    day.unlink()  # fixed: the next one is saved normally
    _, record = client.predict("saved again", "FLUX.1-schnell", "768x512", False, 6, api_name="/generate")
    assert (app.outputs / record["file"]).is_file()


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tiny tmpfs needs root")
def test_full_disk_still_hands_over_the_image(serve, tmp_path: Path, backend) -> None:
    outputs = tmp_path / "tiny"
    outputs.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160k", "tmpfs", str(outputs)]).returncode:
        pytest.skip("cannot mount tmpfs here")
    try:
        app = serve(env=backend.app_env(), outputs=outputs)
        try:
            client = api_client(app.url)
            path, record = client.predict("too big for the disk", "FLUX.1-schnell", "1024x1024", False, 7,
                                          api_name="/generate")
            assert Path(path).stat().st_size > 160_000
            assert record["saved"] is False and "could not be saved on the server" in record["warning"]
            assert not [p for p in outputs.rglob("*.png")]
            assert not [p for p in outputs.rglob(f"{TMP_PREFIX}*")]
        finally:
            app.stop()  # before the unmount
    finally:
        subprocess.run(["umount", "-l", str(outputs)])


@pytest.mark.process
def test_two_apps_on_one_outputs_folder_lose_nothing(tmp_path: Path, backend) -> None:
    outputs = tmp_path / "shared-outputs"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    # Started as a script's background job starts them, with Ctrl-C (SIGINT) inherited ignored:
    # stop() still ends them with it.
    ignored = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        a, b = launch_apps([tmp_path / "a", tmp_path / "b"], env=backend.app_env(), outputs=outputs)
    finally:
        signal.signal(signal.SIGINT, ignored)
    try:
        clients = [api_client(a.url), api_client(b.url)]
        # Same prompt and seed everywhere: every file name would collide without reservation.
        # All submitted up front: a gradio_client shared by threads that call predict one
        # after another can lose a job when its event stream closes between two calls.
        jobs = [clients[i % 2].submit("same prompt", "FLUX.1-schnell", "768x512", False, 9, api_name="/generate")
                for i in range(16)]
        records = [job.result(timeout=120)[1] for job in jobs]
        files = {r["file"] for r in records}
        assert len(files) == 16
        for client in clients:
            assert {r["file"] for r in client.predict("same prompt", 0, 500, api_name="/history")} == files
    finally:
        a.stop()
        b.stop()
    assert "Stopped." in a.log() and "Stopped." in b.log()  # Ctrl-C: a clean shutdown
    assert_consistent(outputs)


def test_fifty_at_once_all_succeed_within_the_concurrency_limit(serve, backend) -> None:
    app = serve("--concurrency", "4", "--visitor-queue", "50", env=backend.app_env())  # one client, 50 jobs
    client = api_client(app.url)
    backend.set_faults(hold=True)  # the first calls stay at the API until all four slots have filled
    jobs = [client.submit(f"load test {i}", "FLUX.1-schnell", "768x512", False, i, api_name="/generate")
            for i in range(50)]
    wait_until(lambda: backend.stats()["in_flight"] == 4, what="four calls at the API at once")
    backend.set_faults(hold=None)
    records = [job.result(timeout=120)[1] for job in jobs]
    assert sorted(r["seed"] for r in records) == list(range(50))
    stats = backend.stats()
    assert stats["generation_requests"] == 50
    assert stats["max_in_flight"] == 4, stats
    assert len(client.predict("load test", 0, 500, api_name="/history")) == 50
    app.stop()
    assert assert_consistent(app.outputs) == 50
