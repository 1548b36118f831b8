"""A table in README.md that a script writes: between `<!-- NAME:start -->` and `<!-- NAME:end -->`.

`tools/reliability_table.py` and `tools/security_table.py` each say what their rows are;
this module draws them, splices them into the README and runs the command line
(`--check` exits 1 when the README is out of date; `tests/test_docs.py` runs the checks).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def cell(text: str) -> str:
    """Text that stays in its cell: a `|` escaped, a line break made a space."""
    return text.replace("|", "\\|").replace("\n", " ")


def proved_by(path: str | Path, test: str) -> str:
    """The last column of every table: the test, as `file.py::test_name`."""
    return f"`{Path(path).name}::{test}`"


def render(name: str, header: str, rows: Iterable[Sequence[str]]) -> str:
    """The table with its markers; `header` is the column line, `rows` the cells (escaped by the caller)."""
    start, end = markers(name)
    columns = header.count("|") - 1
    lines = [start, header, "|" + " --- |" * columns]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines.append(end)
    return "\n".join(lines)


def updated(readme: str, name: str, table: str) -> str:
    """`readme` with the text between NAME's markers replaced by `table` (which carries them)."""
    start, end = markers(name)
    head, _, rest = readme.partition(start)
    _, _, tail = rest.partition(end)
    return head + table + tail


def main(name: str, table: Callable[[], str], script: str, description: str, argv: list[str] | None = None) -> int:
    """`python tools/<script>` rewrites the table in README.md; with `--check` it only says whether it is current."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help="only check that README.md is current")
    args = parser.parse_args(argv)
    text = README.read_text(encoding="utf-8")
    start, end = markers(name)
    if start not in text or end not in text:
        print(f"README.md has no {start} … {end} markers", file=sys.stderr)
        return 1
    new = updated(text, name, table())
    if args.check:
        if new != text:
            print(f"README.md's {name} table is out of date: run python {script}")
            return 1
        return 0
    README.write_text(new, encoding="utf-8")
    return 0
