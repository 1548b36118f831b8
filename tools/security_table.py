"""Write the README's Security table from the `@attack(...)` rows the security tests declare.

    python tools/security_table.py          # rewrite the table in README.md
    python tools/security_table.py --check  # exit 1 if README.md is out of date

Rows are read from `tests/test_*.py` with `ast` (the tests are not imported): each
`@attack(area, tried, outcome)` decorator, with literal strings, on a test function.
Sections follow `tests.security.AREAS`; within one, rows keep file and line order.
`tests/test_docs.py` runs the check.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.security import AREAS  # noqa: E402
from tools import readme_table  # noqa: E402
from tools.readme_table import cell, proved_by  # noqa: E402

NAME = "security"
TESTS = ROOT / "tests"


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
    cells, last = [], None
    for row in rows() if table is None else table:
        area = f"**{row.area}**" if row.area != last else ""
        last = row.area
        cells.append([area, cell(row.tried), cell(row.outcome), proved_by(row.path, row.test)])
    return readme_table.render(NAME, "| | attack tried | what happens | proved by |", cells)


def updated(readme: str) -> str:
    return readme_table.updated(readme, NAME, render())


if __name__ == "__main__":
    sys.exit(readme_table.main(NAME, render, "tools/security_table.py", __doc__.splitlines()[0]))
