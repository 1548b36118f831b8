"""Write the README's Security table from the `@attack(...)` rows the security tests declare.

    python tools/security_table.py          # rewrite the table in README.md
    python tools/security_table.py --check  # exit 1 if README.md is out of date

Rows are read from `tests/test_*.py` with `ast` (the tests are not imported): each
`@attack(area, tried, outcome)` decorator, with literal strings, on a test function.
Sections follow `tests.security.AREAS`; within one, rows keep file and line order.
`tests/test_docs.py` runs the check.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.security import AREAS  # noqa: E402

README = ROOT / "README.md"
TESTS = ROOT / "tests"
START, END = "<!-- security:start -->", "<!-- security:end -->"


class Row(NamedTuple):
    area: str
    tried: str
    outcome: str
    path: Path
    test: str


def rows(folder: Path = TESTS) -> list[Row]:
    """Every declared row, sections in AREAS order; ValueError for a row that isn't literal."""
    found: list[Row] = []
    for path in sorted(folder.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for deco in node.decorator_list:
                if isinstance(deco, ast.Call) and _name(deco.func) == "attack":
                    found.append(_row(deco, path, node.name))
    order = {area: i for i, area in enumerate(AREAS)}
    return sorted(found, key=lambda r: order[r.area])  # stable: file and line order within an area


def _name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _row(deco: ast.Call, path: Path, test: str) -> Row:
    where = f"{path.name}:{deco.lineno}"
    try:
        args = [ast.literal_eval(a) for a in deco.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in deco.keywords}
    except ValueError:
        raise ValueError(f"{where}: @attack(...) takes literal strings") from None
    values = dict(zip(("area", "tried", "outcome"), args)) | kwargs
    if set(values) != {"area", "tried", "outcome"} or not all(isinstance(v, str) for v in values.values()):
        raise ValueError(f"{where}: @attack(area, tried, outcome), three strings")
    if values["area"] not in AREAS:
        raise ValueError(f"{where}: unknown area {values['area']!r}")
    return Row(values["area"], values["tried"], values["outcome"], path, test)


def render(table: list[Row] | None = None) -> str:
    lines = [START, "| | attack tried | what happens | proved by |", "| --- | --- | --- | --- |"]
    last = None
    for row in rows() if table is None else table:
        area = f"**{row.area}**" if row.area != last else ""
        last = row.area
        cells = [c.replace("|", "\\|").replace("\n", " ") for c in (row.tried, row.outcome)]
        lines.append(f"| {area} | {cells[0]} | {cells[1]} | `{row.path.name}::{row.test}` |")
    lines.append(END)
    return "\n".join(lines)


def updated(readme: str) -> str:
    head, _, rest = readme.partition(START)
    _, _, tail = rest.partition(END)
    return head + render() + tail


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that README.md is current")
    args = parser.parse_args()
    text = README.read_text(encoding="utf-8")
    if START not in text or END not in text:
        print(f"README.md has no {START} … {END} markers", file=sys.stderr)
        return 1
    new = updated(text)
    if args.check:
        if new != text:
            print("README.md's security table is out of date: run python tools/security_table.py")
            return 1
        return 0
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
