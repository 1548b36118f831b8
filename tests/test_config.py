"""Settings from flags, environment and .env; the share-without-auth guard."""

from __future__ import annotations

import dataclasses
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from webui.config import DEFAULT_API_BASE, ConfigError, Secret, Settings, load_settings, read_dotenv

from .conftest import LAUNCH, TEST_KEY


def test_defaults_without_key_mean_demo_mode(tmp_path: Path) -> None:
    s = load_settings([], environ={}, cwd=tmp_path)
    assert s.api_key is None and s.demo_mode
    assert s.api_base == DEFAULT_API_BASE
    assert (s.host, s.port, s.timeout, s.concurrency) == ("127.0.0.1", 7860, 120.0, 4)
    assert s.outputs == tmp_path / "outputs"


def test_environment_wins_over_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("# comment\nYUNYX_API_KEY=from-dotenv\nexport YUNYX_API_BASE='http://x/v1/'\n")
    from_file = load_settings([], environ={}, cwd=tmp_path)
    assert from_file.api_key == Secret("from-dotenv")
    assert from_file.api_base == "http://x/v1"
    assert not from_file.demo_mode
    from_env = load_settings([], environ={"YUNYX_API_KEY": "from-env"}, cwd=tmp_path)
    assert from_env.api_key == Secret("from-env")


def test_demo_flag_wins_over_a_key(tmp_path: Path) -> None:
    s = load_settings(["--demo"], environ={"YUNYX_API_KEY": TEST_KEY}, cwd=tmp_path)
    assert s.demo_mode


def test_key_never_shows_in_repr(tmp_path: Path) -> None:
    s = load_settings(["--auth", "ann:hunter2"], environ={"YUNYX_API_KEY": TEST_KEY}, cwd=tmp_path)
    text = repr(s) + str(s)
    assert TEST_KEY not in text and "hunter2" not in text
    assert s.api_key is not None and s.api_key.reveal() == TEST_KEY


def test_share_without_auth_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--auth"):
        load_settings(["--share"], environ={}, cwd=tmp_path)
    assert load_settings(["--share", "--share-without-auth"], environ={}, cwd=tmp_path).share
    assert load_settings(["--share"], environ={"YUNYX_AUTH": "a:b"}, cwd=tmp_path).auth[0] == "a"


@pytest.mark.parametrize(
    "argv",
    [["--auth", "nopassword"], ["--auth", ":x"], ["--timeout", "0"], ["--concurrency", "0"], ["--port", "70000"]],
)
def test_bad_values_are_refused(tmp_path: Path, argv: list[str]) -> None:
    with pytest.raises(ConfigError):
        load_settings(argv, environ={}, cwd=tmp_path)


def test_dotenv_tolerates_missing_file_and_junk(tmp_path: Path) -> None:
    assert read_dotenv(tmp_path / "nope") == {}
    (tmp_path / ".env").write_text('junk line\nA="quoted value"\n=empty\n')
    assert read_dotenv(tmp_path / ".env")["A"] == "quoted value"


def test_settings_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().port = 1  # type: ignore[misc]


def test_launch_share_without_auth_stops_before_any_network_call(tmp_path: Path) -> None:
    """The process exits at once with a message; it never imports Gradio or opens a link."""
    proc = subprocess.run(
        [sys.executable, str(LAUNCH), "--share"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert "--auth" in proc.stderr and "share" in proc.stderr
    assert not (tmp_path / "outputs").exists()


def test_launch_help_lists_every_flag(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(LAUNCH), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    for flag in ("--host", "--port", "--outputs", "--share", "--share-without-auth", "--auth",
                 "--demo", "--timeout", "--concurrency", "YUNYX_API_KEY"):
        assert flag in proc.stdout


@pytest.mark.parametrize("where", ["a-file", "a-file/below"])
@pytest.mark.parametrize("command", [[], ["generate", "a cat"], ["usage"]])
def test_an_unusable_outputs_folder_is_an_error_line_not_a_traceback(tmp_path: Path, capsys, where, command) -> None:
    from launch import main

    (tmp_path / "a-file").write_text("not a folder")
    outputs = tmp_path / where
    loggers = [logging.getLogger(name) for name in ("", "httpx", "urllib3")]
    levels, handlers = [lg.level for lg in loggers], list(logging.getLogger().handlers)
    try:
        assert main([*command, "--outputs", str(outputs)]) == 2
    finally:  # launch.main configures logging for the process; leave the next test as it was
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)
        logging.getLogger().handlers[:] = handlers
    err = capsys.readouterr().err
    assert err.startswith(f"error: --outputs {outputs}: ") and "Traceback" not in err
