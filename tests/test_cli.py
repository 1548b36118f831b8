"""The command line: generate from a script, usage, accounts, and the MCP server switch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import requests
from PIL import Image

from .conftest import LAUNCH


def run(cwd: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUNYX_")}
    return subprocess.run([sys.executable, str(LAUNCH), *args], cwd=cwd, input=stdin, capture_output=True,
                          text=True, timeout=120, env=env)


def test_generate_from_the_command_line_saves_through_the_same_storage(tmp_path: Path) -> None:
    proc = run(tmp_path, "generate", "a paper boat on a pond", "--count", "3", "--seed", "40",
               "--size", "768x512", "--model", "stable-diffusion-3-5-large")
    assert proc.returncode == 0, proc.stderr
    paths = [Path(line) for line in proc.stdout.splitlines()]
    assert len(paths) == 3 and all(p.is_file() for p in paths)
    seeds = set()
    for path in paths:
        with Image.open(path) as img:
            record = json.loads(img.text["generation"])
        assert record["model"] == "stable-diffusion-3-5-large" and record["image_size"] == "768x512"
        seeds.add(record["seed"])
    assert seeds == {40, 41, 42}
    assert "3/3" in proc.stderr and "Demo mode" in proc.stderr  # progress and the mode are said
    usage = run(tmp_path, "usage")
    assert usage.returncode == 0
    assert "stable-diffusion-3-5-large" in usage.stdout and " 3 " in usage.stdout


def test_generate_refuses_bad_input_with_a_message(tmp_path: Path) -> None:
    proc = run(tmp_path, "generate", "cat", "--seed", "12.5")
    assert proc.returncode == 2 and "0 to 9999999999" in proc.stderr
    assert not (tmp_path / "outputs").exists() or not list((tmp_path / "outputs").rglob("*.png"))


def test_adduser_and_deluser_from_the_command_line(tmp_path: Path) -> None:
    proc = run(tmp_path, "adduser", "alice", "--password-stdin", stdin="s3cret-pass-phrase\n")
    assert proc.returncode == 0 and "alice" in proc.stdout
    text = (tmp_path / "users.txt").read_text()
    assert text.count("alice:scrypt$") == 1 and "s3cret-pass-phrase" not in text + proc.stdout + proc.stderr
    assert run(tmp_path, "deluser", "alice").returncode == 0
    assert "alice:" not in (tmp_path / "users.txt").read_text()


def test_mcp_server_only_with_the_flag(serve, demo_app) -> None:
    assert requests.get(demo_app.url + "gradio_api/mcp/schema", timeout=10).status_code == 404
    app = serve("--mcp")
    tools = {t["name"]: t for t in requests.get(app.url + "gradio_api/mcp/schema", timeout=10).json()}
    assert {"generate", "history"} <= set(tools)
    props = tools["generate"]["inputSchema"]["properties"]
    assert "reproducible" in props["seed"]["description"]
    assert "case-insensitive" in tools["history"]["inputSchema"]["properties"]["query"]["description"]
