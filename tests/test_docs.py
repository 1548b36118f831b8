"""The README stays true: the reliability table is current and names real tests; every flag is documented."""

from __future__ import annotations

import re
import subprocess
import sys

from webui.cli import build_parser
from webui.config import flag_table

from .conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import reliability_table  # noqa: E402

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_reliability_table_is_current() -> None:
    assert reliability_table.updated(README) == README, "run: python tools/reliability_table.py"


def test_every_row_names_a_test_that_exists() -> None:
    for _, _, path, test in reliability_table.ROWS:
        source = (ROOT / path).read_text(encoding="utf-8")
        assert re.search(rf"^def {re.escape(test)}\(", source, re.M), f"{path}::{test} is missing"


def test_the_readme_flag_table_is_the_options_table() -> None:
    assert flag_table() in README, "paste: python -c 'from webui.config import flag_table; print(flag_table())'"


def test_every_flag_is_in_the_readme() -> None:
    for action in build_parser()._actions:
        for flag in action.option_strings:
            if flag.startswith("--") and flag != "--help":
                assert f"`{flag}" in README, flag


def test_reliability_tool_check_mode_agrees() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "reliability_table.py"), "--check"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_security_table_is_current() -> None:
    import security_table

    assert security_table.rows(), "no @attack(...) rows found"
    assert security_table.updated(README) == README, "run: python tools/security_table.py"


def test_security_rows_must_be_literal_and_in_a_known_area(tmp_path) -> None:
    import pytest
    import security_table

    for body in ('@attack("Nowhere", "x", "y")', '@attack("Files", f"{x}", "y")', '@attack("Files", "x")'):
        (tmp_path / "test_x.py").write_text(f"{body}\ndef test_x():\n    pass\n")
        with pytest.raises(ValueError, match="test_x.py:1"):
            security_table.rows(tmp_path)
