"""Prompt recipes and prompt matrices: text with `{slots}`, filled once or expanded into a grid.

A recipe is a prompt with holes, saved with the settings that worked (model, size,
enhancement) and an example image: "a {product} on a {surface}, studio light". A slot
holds one value when a person fills the form, or several when a matrix expands it.

Slot syntax, the one place that knows it:
- `{name}`: a named slot, filled by a value given for `name`;
- `{red|blue|green}`: inline choices; filling picks the first unless told otherwise,
  a matrix makes one row per choice;
- `{{` and `}}`: literal braces.

Framework-free (like the generator): the page, the API and tests share it. The
library itself (`Library`) is a small SQLite file of its own: unlike the history
index it can't be rebuilt from the PNGs, so it never shares the index's fate.
"""

from __future__ import annotations

import itertools
import json
import re
import sqlite3
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .db import SharedConnection, database_files
from .generator import InvalidInputError, validate, with_seed
from .service import GenerationParams

LIBRARY_NAME = "library.sqlite3"
MAX_SLOT_NAME = 40
MAX_RECIPE_NAME = 80
MAX_RECIPES_IMPORT = 1000
MAX_MATRIX = 64  # images one matrix may make: a page, not a job queue
MAX_MATRIX_LINES = 200  # pasted prompt lines ("200 prompts in a text file")
MAX_LIBRARY_BYTES = 1024 * 1024  # an imported library file

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


@dataclass(frozen=True)
class Slot:
    """A hole in a recipe: `key` is how values are given for it (its name, or its choices' text)."""

    key: str
    choices: tuple[str, ...] = ()

    @property
    def named(self) -> bool:
        return not self.choices


def _slot(inner: str) -> Slot:
    inner = inner.strip()
    if "|" in inner:
        choices = tuple(c.strip() for c in inner.split("|"))
        return Slot(inner, tuple(c for c in choices if c) or ("",))
    if not inner or len(inner) > MAX_SLOT_NAME:
        raise InvalidInputError("bad_slot", slot=inner[:MAX_SLOT_NAME])
    return Slot(inner)


def parse(text: str) -> list[str | Slot]:
    """The recipe as literal pieces and slots, in order. A stray `{` or `}` stays literal."""
    pieces: list[str | Slot] = []
    literal: list[str] = []
    position = 0
    for match in _TOKEN.finditer(text):
        literal.append(text[position : match.start()])
        token = match.group(0)
        if token in ("{{", "}}"):
            literal.append(token[0])
        else:
            pieces.append("".join(literal))
            literal = []
            pieces.append(_slot(match.group(1)))
        position = match.end()
    literal.append(text[position:])
    pieces.append("".join(literal))
    return [p for p in pieces if p != ""]


def slots(text: str) -> list[Slot]:
    """Each distinct slot once, in the order it first appears."""
    seen: dict[str, Slot] = {}
    for piece in parse(text):
        if isinstance(piece, Slot):
            seen.setdefault(piece.key, piece)
    return list(seen.values())


def fill(text: str, values: Mapping[str, str] | None = None) -> str:
    """One prompt: named slots take their value (required), choices take theirs or the first."""
    values = values or {}
    out: list[str] = []
    for piece in parse(text):
        if isinstance(piece, str):
            out.append(piece)
            continue
        value = values.get(piece.key)
        if piece.named and not (value and value.strip()):
            raise InvalidInputError("missing_slot", slot=piece.key)
        out.append(value.strip() if value and value.strip() else piece.choices[0])
    return "".join(out)


@dataclass(frozen=True)
class Expansion:
    """One prompt of a matrix and the slot values that made it (its row label)."""

    prompt: str
    values: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        return " · ".join(v for _, v in self.values) if self.values else self.prompt


def expand(text: str, values: Mapping[str, Sequence[str]] | None = None) -> list[Expansion]:
    """Every combination of the slots' values (named slots need at least one value each)."""
    values = values or {}
    axes: list[tuple[str, list[str]]] = []
    for slot in slots(text):
        given = [v.strip() for v in values.get(slot.key, ()) if v and v.strip()]
        options = given or list(slot.choices)
        if not options:
            raise InvalidInputError("missing_slot", slot=slot.key)
        axes.append((slot.key, options))
    total = 1
    for _, options in axes:
        total *= len(options)
        if total > MAX_MATRIX:
            raise InvalidInputError("matrix_too_big", count=total, limit=MAX_MATRIX)
    keys = [key for key, _ in axes]
    combos = itertools.product(*(options for _, options in axes)) if axes else [()]
    return [
        Expansion(fill(text, dict(zip(keys, combo, strict=True))), tuple(zip(keys, combo, strict=True)))
        for combo in combos
    ]


def prompt_lines(text: str) -> list[str]:
    """Pasted prompts, one per line; blank lines and `#` comments skipped."""
    lines = [line.strip() for line in (text or "").splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    if len(lines) > MAX_MATRIX_LINES:
        raise InvalidInputError("too_many_lines", count=len(lines), limit=MAX_MATRIX_LINES)
    return lines


# -- matrices ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """What changes along a matrix row: model, size and enhancement."""

    model: str
    image_size: str
    prompt_enhancement: bool

    def label(self, with_model: bool, with_size: bool, with_enhance: bool) -> str:
        parts = [self.model] if with_model else []
        parts += [self.image_size.replace("x", " × ")] if with_size else []
        parts += ["+" if self.prompt_enhancement else "−"] if with_enhance else []
        return " · ".join(parts) or self.model


@dataclass(frozen=True)
class MatrixPlan:
    """A labelled grid of jobs, row-major: rows are prompts, columns the settings.

    One seed for the whole grid: along a row only the column's setting changes, and
    down a column only the prompt, so every difference in the grid is the axis's own.
    """

    rows: tuple[Expansion, ...]
    columns: tuple[Column, ...]
    seed: int
    jobs: tuple[GenerationParams, ...] = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.jobs)

    def column_labels(self) -> list[str]:
        vary = [len({getattr(c, f.name) for c in self.columns}) > 1 for f in fields(Column)]
        if not any(vary):
            vary = [True, False, False]
        return [c.label(*vary) for c in self.columns]

    def row_labels(self) -> list[str]:
        return [r.label for r in self.rows]

    def cell(self, index: int) -> tuple[int, int]:
        """(row, column) of job `index`."""
        return divmod(index, len(self.columns))


def plan_matrix(
    rows: Sequence[Expansion],
    models: Sequence[str],
    sizes: Sequence[str],
    enhancements: Sequence[bool],
    seed: Any = None,
) -> MatrixPlan:
    """Validate every cell before anything is sent; a refused cell refuses the grid."""
    if not rows:
        raise InvalidInputError("empty_prompt")
    models = [m.strip() for m in models if isinstance(m, str) and m.strip()]
    sizes = [s for s in sizes if s]
    enhancements = list(dict.fromkeys(bool(e) for e in enhancements)) or [False]
    if not models or not sizes:
        raise InvalidInputError("matrix_empty_axis")
    columns = [Column(m, s, e) for m in dict.fromkeys(models) for s in dict.fromkeys(sizes) for e in enhancements]
    total = len(rows) * len(columns)
    if total > MAX_MATRIX:
        raise InvalidInputError("matrix_too_big", count=total, limit=MAX_MATRIX)
    first = with_seed(validate(rows[0].prompt, columns[0].model, columns[0].image_size, False, seed))
    jobs = [
        validate(row.prompt, col.model, col.image_size, col.prompt_enhancement, first.seed)
        for row in rows
        for col in columns
    ]
    return MatrixPlan(tuple(rows), tuple(columns), int(first.seed or 0), tuple(jobs))


# -- the library -------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipe:
    """A saved prompt with the settings that worked; `owner` None without login."""

    id: str
    name: str
    text: str
    model: str = ""
    image_size: str = ""
    prompt_enhancement: bool = False
    example_id: str | None = None
    shared: bool = True
    owner: str | None = None
    uses: int = 0
    created_at: str = ""

    def slot_keys(self) -> list[str]:
        return [s.key for s in slots(self.text)]

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "slots": self.slot_keys()}

    def seen_by(self, viewer: str | None, private: bool) -> dict[str, Any]:
        """`as_dict` for `viewer`: in private mode a teammate's shared recipe names no owner."""
        shown = self.as_dict()
        if private and self.owner != viewer:
            shown["owner"] = None
        return shown


_COLUMNS = tuple(f.name for f in fields(Recipe))
_SCHEMA = """
CREATE TABLE IF NOT EXISTS recipes (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, text TEXT NOT NULL, model TEXT NOT NULL,
    image_size TEXT NOT NULL, prompt_enhancement INTEGER NOT NULL, example_id TEXT,
    shared INTEGER NOT NULL, owner TEXT, uses INTEGER NOT NULL, created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS recipes_owner ON recipes (owner);
"""
assert all(name in _SCHEMA for name in _COLUMNS)  # one list of fields: the dataclass's


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _create_schema(conn: sqlite3.Connection) -> None:
    conn.executescript(_SCHEMA)


class Library:
    """Recipes in `library.sqlite3` beside the images; a user sees their own and the shared ones."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._connect = SharedConnection(self.path, _create_schema)

    def private_paths(self) -> list[Path]:
        """The library's database and journal files: never served although they sit in the outputs folder."""
        return database_files(self.path.resolve())

    def close(self) -> None:
        self._connect.close()

    def visible(self, user: str | None, is_admin: bool = False) -> list[Recipe]:
        """The user's own recipes and the team's shared ones, most used first."""
        sql = f"SELECT {', '.join(_COLUMNS)} FROM recipes"
        args: list[Any] = []
        if not is_admin and user is not None:
            sql += " WHERE shared = 1 OR owner = ?"
            args.append(user)
        sql += " ORDER BY uses DESC, name COLLATE NOCASE, id"
        with self._connect() as conn:
            return [_recipe(row) for row in conn.execute(sql, args)]

    def get(self, recipe_id: str, user: str | None, is_admin: bool = False) -> Recipe:
        """A recipe this user may see, else InvalidInputError("recipe_not_found")."""
        with self._connect() as conn:
            row = conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM recipes WHERE id = ?", (str(recipe_id),)).fetchone()
        recipe = _recipe(row) if row else None
        if recipe is None or not (is_admin or user is None or recipe.shared or recipe.owner == user):
            raise InvalidInputError("recipe_not_found")
        return recipe

    def save(self, recipe: Recipe, user: str | None, is_admin: bool = False) -> Recipe:
        """Create (empty id) or update one's own recipe (the admin may update any)."""
        recipe = _checked(recipe)
        if recipe.id:
            old = self.get(recipe.id, user, is_admin)
            if not (is_admin or user is None or old.owner == user):
                raise InvalidInputError("recipe_not_yours")
            recipe = replace(recipe, owner=old.owner, uses=old.uses, created_at=old.created_at)
        else:
            recipe = replace(recipe, id=uuid.uuid4().hex, owner=user, uses=0, created_at=_now())
        with self._connect() as conn:
            conn.execute(
                f"INSERT OR REPLACE INTO recipes ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                _row(recipe),
            )
        return recipe

    def delete(self, recipe_id: str, user: str | None, is_admin: bool = False) -> None:
        recipe = self.get(recipe_id, user, is_admin)
        if not (is_admin or user is None or recipe.owner == user):
            raise InvalidInputError("recipe_not_yours")
        with self._connect() as conn:
            conn.execute("DELETE FROM recipes WHERE id = ?", (recipe.id,))

    def used(self, recipe_id: str, times: int = 1) -> None:
        """Count a use (a fill sent to the prompt box, or a matrix run)."""
        with self._connect() as conn:
            conn.execute("UPDATE recipes SET uses = uses + ? WHERE id = ?", (max(0, times), str(recipe_id)))

    def export(self, user: str | None, is_admin: bool = False) -> str:
        """The visible recipes as JSON (a list of objects), for a file or a teammate."""
        keep = ("name", "text", "model", "image_size", "prompt_enhancement", "shared")
        items = [{k: getattr(r, k) for k in keep} for r in self.visible(user, is_admin)]
        return json.dumps({"recipes": items}, ensure_ascii=False, indent=2)

    def import_json(self, text: str, user: str | None) -> list[Recipe]:
        """Add the recipes in an exported file as the user's own; all or none.

        Text longer than a library file may be, or nested too deep to parse, is refused
        like any other file that is not a library (never a crash).
        """
        if not isinstance(text, str) or len(text) > MAX_LIBRARY_BYTES:
            raise InvalidInputError("bad_library_file")
        try:
            data = json.loads(text)
        except (TypeError, ValueError, RecursionError):
            raise InvalidInputError("bad_library_file") from None
        items = data.get("recipes") if isinstance(data, dict) else data
        if not isinstance(items, list) or len(items) > MAX_RECIPES_IMPORT:
            raise InvalidInputError("bad_library_file")
        recipes = [_checked(_from_json(item)) for item in items]
        return [self.save(r, user) for r in recipes]


def _from_json(item: Any) -> Recipe:
    if not isinstance(item, dict):
        raise InvalidInputError("bad_library_file")
    try:
        return Recipe(
            id="",
            name=str(item.get("name") or ""),
            text=str(item.get("text") or ""),
            model=str(item.get("model") or ""),
            image_size=str(item.get("image_size") or ""),
            prompt_enhancement=bool(item.get("prompt_enhancement", False)),
            shared=bool(item.get("shared", True)),
        )
    except (TypeError, ValueError):
        raise InvalidInputError("bad_library_file") from None


def _checked(recipe: Recipe) -> Recipe:
    """A name and a text that parses; settings validated as a generation would be."""
    name = " ".join(recipe.name.split())[:MAX_RECIPE_NAME]
    if not name:
        raise InvalidInputError("recipe_needs_name")
    slots(recipe.text)  # raises for a malformed slot
    probe = fill(recipe.text, {s.key: "x" for s in slots(recipe.text)})
    params = validate(probe, recipe.model or "x", recipe.image_size or None, recipe.prompt_enhancement, None)
    return replace(
        recipe,
        name=name,
        text=recipe.text.strip(),
        image_size=recipe.image_size and params.image_size,
        model=recipe.model.strip(),
    )


def _row(recipe: Recipe) -> tuple[Any, ...]:
    values = asdict(recipe)
    values["prompt_enhancement"] = int(recipe.prompt_enhancement)
    values["shared"] = int(recipe.shared)
    return tuple(values[name] for name in _COLUMNS)


def _recipe(row: Sequence[Any]) -> Recipe:
    values = dict(zip(_COLUMNS, row, strict=True))
    values["prompt_enhancement"] = bool(values["prompt_enhancement"])
    values["shared"] = bool(values["shared"])
    return Recipe(**values)


def write_export(text: str) -> Path:
    """The exported library as a file to download (in a fresh temp folder Gradio serves)."""
    folder = Path(tempfile.mkdtemp(prefix="yunyx-library-"))
    path = folder / "prompt-library.json"
    path.write_text(text, encoding="utf-8")
    return path


def read_import(path: str | Path) -> str:
    """An uploaded library file's text; at most MAX_LIBRARY_BYTES, UTF-8, else bad_library_file."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_LIBRARY_BYTES + 1)
        if len(data) > MAX_LIBRARY_BYTES:
            raise InvalidInputError("bad_library_file")
        return data.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        raise InvalidInputError("bad_library_file") from None
