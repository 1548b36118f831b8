"""The README's code map is the import graph: every module listed once, with the modules of ours it imports."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "webui"


def entry_of(path: Path) -> str:
    """A module's map entry: `webui/x.py`, or its subpackage as one entry (`webui/ui/`)."""
    relative = path.relative_to(PACKAGE)
    return f"webui/{relative.parts[0]}/" if len(relative.parts) > 1 else f"webui/{relative.name}"


def short_name(module: str) -> str:
    """`webui.handlers.common` -> `handlers/`, `webui.storage` -> `storage` (as the map writes them)."""
    first = module.split(".")[1]
    return f"{first}/" if (PACKAGE / first).is_dir() else first


def imports() -> dict[str, set[str]]:
    """Each entry's imports of our own modules (relative and absolute), itself left out."""
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.parent == PACKAGE and path.name == "__init__.py":
            continue
        entry = entry_of(path)
        package = list(path.relative_to(ROOT).with_suffix("").parts[:-1])
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package[: len(package) - (node.level - 1)]
                names = [node.module] if node.module else [alias.name for alias in node.names]
                found.update(".".join(base + name.split(".")) for name in names)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("webui."):
                found.add(str(node.module))
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("webui."))
        names = {short_name(m) for m in found if m.count(".") >= 1}
        graph.setdefault(entry, set()).update(n for n in names if f"webui/{n}" != entry)
    return graph


def code_map() -> dict[str, set[str]]:
    """The README's map: `webui/...  role` lines, each followed by `→ a, b` (or `→ (no module of ours)`)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## How the code fits together", 1)[1].split("```", 2)[1]
    listed: dict[str, set[str]] = {}
    entry = None
    for line in block.splitlines():
        if line.startswith("webui/"):
            entry = line.split()[0]
            assert entry not in listed, f"{entry} listed twice"
            listed[entry] = set()
        elif line.strip().startswith("→") and entry is not None:
            uses = line.strip()[1:].strip()
            listed[entry] = set() if uses == "(no module of ours)" else set(re.split(r",\s*", uses))
    return listed


def test_the_readme_code_map_is_the_import_graph() -> None:
    assert code_map() == imports()


def test_the_package_docstring_names_every_module() -> None:
    import webui

    named = {line.split()[0] for line in (webui.__doc__ or "").splitlines() if line.startswith("  ") and line.split()}
    assert {e.removeprefix("webui/") for e in imports()} == named
